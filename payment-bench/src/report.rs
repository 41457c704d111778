//! Medians and ratios from the lines `payment-bench/bench` collects:
//!
//! ```text
//! RESULT kind=callback side=router round=1 requests=41000 duration_us=5000000 rps=8200.0 p50_us=3500 p99_us=9000 errors=0 status_errors=0 wrapped=0 fresh=41000 app_cpu_us=45.0 sandbox_cpu_us=20.1
//! RSS side=router phase=after_start pending=60000 vmrss_kb=14000 vmhwm_kb=15000
//! ```

use std::{collections::BTreeMap, path::Path};

/// One wrk run.
#[derive(Debug, Clone, Default)]
struct Run {
    kind: String,
    side: String,
    round: u32,
    requests: f64,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    errors: f64,
    status_errors: f64,
    wrapped: f64,
    app_cpu_us: f64,
    sandbox_cpu_us: f64,
}

/// One memory reading.
#[derive(Debug, Clone, Default)]
struct Rss {
    side: String,
    phase: String,
    pending: f64,
    vmrss_kb: f64,
    vmhwm_kb: f64,
}

fn fields(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

fn num(map: &BTreeMap<&str, &str>, key: &str) -> f64 {
    map.get(key).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

fn parse(text: &str) -> (Vec<Run>, Vec<Rss>) {
    let (mut runs, mut rss) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let map = fields(line);
        let text = |key: &str| map.get(key).copied().unwrap_or_default().to_owned();
        if line.starts_with("RESULT ") {
            runs.push(Run {
                kind: text("kind"),
                side: text("side"),
                round: num(&map, "round") as u32,
                requests: num(&map, "requests"),
                rps: num(&map, "rps"),
                p50_us: num(&map, "p50_us"),
                p99_us: num(&map, "p99_us"),
                errors: num(&map, "errors"),
                status_errors: num(&map, "status_errors"),
                wrapped: num(&map, "wrapped"),
                app_cpu_us: num(&map, "app_cpu_us"),
                sandbox_cpu_us: num(&map, "sandbox_cpu_us"),
            });
        } else if line.starts_with("RSS ") {
            rss.push(Rss {
                side: text("side"),
                phase: text("phase"),
                pending: num(&map, "pending"),
                vmrss_kb: num(&map, "vmrss_kb"),
                vmhwm_kb: num(&map, "vmhwm_kb"),
            });
        }
    }
    (runs, rss)
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
    if values.len() % 2 == 1 {
        at(mid)
    } else {
        (at(mid - 1) + at(mid)) / 2.0
    }
}

/// The report as text.
fn render(runs: &[Run], rss: &[Rss]) -> String {
    let mut out = String::new();
    let mut kinds: Vec<&str> = Vec::new();
    for run in runs {
        if !kinds.contains(&run.kind.as_str()) {
            kinds.push(&run.kind);
        }
    }
    out.push_str(&format!(
        "{:<17} {:<9} {:>6} {:>8} {:>7} {:>7} {:>8} {:>8} {:>8}  {}\n",
        "what",
        "side",
        "rounds",
        "req/s",
        "p50 ms",
        "p99 ms",
        "app µs",
        "sbx µs",
        "requests",
        "rounds' req/s"
    ));
    for kind in &kinds {
        let mut sides: Vec<&str> = Vec::new();
        for run in runs.iter().filter(|r| r.kind == *kind) {
            if !sides.contains(&run.side.as_str()) {
                sides.push(&run.side);
            }
        }
        for side in &sides {
            let of: Vec<&Run> = runs
                .iter()
                .filter(|r| r.kind == *kind && r.side == *side)
                .collect();
            let each: Vec<String> = of.iter().map(|r| format!("{:.0}", r.rps)).collect();
            out.push_str(&format!(
                "{:<17} {:<9} {:>6} {:>8.0} {:>7.2} {:>7.2} {:>8.1} {:>8.1} {:>8.0}  {}\n",
                kind,
                side,
                of.len(),
                median(of.iter().map(|r| r.rps).collect()),
                median(of.iter().map(|r| r.p50_us).collect()) / 1000.0,
                median(of.iter().map(|r| r.p99_us).collect()) / 1000.0,
                median(of.iter().map(|r| r.app_cpu_us).collect()),
                median(of.iter().map(|r| r.sandbox_cpu_us).collect()),
                of.iter().map(|r| r.requests).sum::<f64>(),
                each.join(" "),
            ));
            let errors: f64 = of.iter().map(|r| r.errors).sum();
            let status: f64 = of.iter().map(|r| r.status_errors).sum();
            let wrapped: f64 = of.iter().map(|r| r.wrapped).sum();
            if *kind == "replay" {
                // Every replay is expected to be refused (409) by the router; the baseline
                // answers "paid" again, which is the bug the library exists to prevent.
                out.push_str(&format!(
                    "{:<17} {:<9} answered HTTP >= 400: {status:.0} of {:.0}\n",
                    "",
                    "",
                    of.iter().map(|r| r.requests).sum::<f64>()
                ));
            } else if errors + status + wrapped > 0.0 {
                out.push_str(&format!(
                    "{:<17} {:<9} !! socket errors {errors:.0}, HTTP >= 400 {status:.0}, \
                     callbacks replayed after the prepared ones ran out {wrapped:.0}\n",
                    "", ""
                ));
            }
        }
    }
    out.push('\n');
    for kind in &kinds {
        let rounds: Vec<(&Run, &Run)> = runs
            .iter()
            .filter(|r| r.kind == *kind && r.side == "router")
            .filter_map(|r| {
                runs.iter()
                    .find(|b| b.kind == *kind && b.side == "baseline" && b.round == r.round)
                    .map(|b| (r, b))
            })
            .collect();
        // A run that ran out of prepared callbacks served replays at the end: the router
        // refuses those at once, the baseline verifies them again, so the pair no longer
        // compares the same work. Replay runs are replays throughout.
        let (paired, left_out): (Vec<_>, Vec<_>) = rounds
            .into_iter()
            .partition(|(r, b)| *kind == "replay" || r.wrapped + b.wrapped == 0.0);
        let paired: Vec<(f64, f64, f64, f64)> = paired
            .iter()
            .map(|(r, b)| {
                (
                    r.rps / b.rps,
                    r.p50_us / b.p50_us,
                    r.p99_us / b.p99_us,
                    r.app_cpu_us / b.app_cpu_us,
                )
            })
            .collect();
        if paired.is_empty() && left_out.is_empty() {
            continue;
        }
        let each: Vec<String> = paired.iter().map(|p| format!("{:.3}", p.0)).collect();
        out.push_str(&format!(
            "{kind}: router/baseline throughput {:.3} (median of {} paired rounds: {}), \
             p50 latency {:.3}, p99 latency {:.3}, app CPU per request {:.3}\n",
            median(paired.iter().map(|p| p.0).collect()),
            paired.len(),
            each.join(" "),
            median(paired.iter().map(|p| p.1).collect()),
            median(paired.iter().map(|p| p.2).collect()),
            median(paired.iter().map(|p| p.3).collect()),
        ));
        if !left_out.is_empty() {
            let which: Vec<String> = left_out.iter().map(|(r, _)| r.round.to_string()).collect();
            out.push_str(&format!(
                "{kind}: !! rounds {} left out: an app ran out of prepared callbacks\n",
                which.join(" ")
            ));
        }
    }
    if !rss.is_empty() {
        out.push_str("\nmemory (KiB)\n");
        out.push_str(&format!(
            "{:<9} {:<22} {:>16} {:>10} {:>10}\n",
            "side", "when", "pending orders", "VmRSS", "VmHWM"
        ));
        for r in rss {
            out.push_str(&format!(
                "{:<9} {:<22} {:>16.0} {:>10.0} {:>10.0}\n",
                r.side, r.phase, r.pending, r.vmrss_kb, r.vmhwm_kb
            ));
        }
        for side in ["router", "baseline"] {
            let of: Vec<&Rss> = rss.iter().filter(|r| r.side == side).collect();
            let (Some(first), Some(last)) = (
                of.iter().find(|r| r.phase.starts_with("start")),
                of.iter().rev().find(|r| r.phase.starts_with("start")),
            ) else {
                continue;
            };
            let orders = last.pending - first.pending;
            if orders > 0.0 {
                out.push_str(&format!(
                    "{side}: {orders:.0} more pending orders changed VmRSS by {:+.0} KiB \
                     ({:+.1} bytes per pending order)\n",
                    last.vmrss_kb - first.vmrss_kb,
                    (last.vmrss_kb - first.vmrss_kb) * 1024.0 / orders
                ));
            }
        }
    }
    out
}

/// Prints the report of `file`.
pub(crate) fn run(file: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(file)?;
    let (runs, rss) = parse(&text);
    print!("{}", render(&runs, &rss));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_paired_ratios() {
        let text = "\
RESULT kind=callback side=router round=1 requests=900 rps=900 p50_us=1000 p99_us=3000 errors=0 status_errors=0 wrapped=0 app_cpu_us=50
RESULT kind=callback side=baseline round=1 requests=1000 rps=1000 p50_us=1000 p99_us=2000 errors=0 status_errors=0 wrapped=0 app_cpu_us=40
RESULT kind=callback side=router round=2 requests=950 rps=950 p50_us=1000 p99_us=3000 errors=0 status_errors=0 wrapped=0
RESULT kind=callback side=baseline round=2 requests=1000 rps=1000 p50_us=1000 p99_us=2000 errors=0 status_errors=0 wrapped=0
RESULT kind=callback side=router round=3 requests=1000 rps=1000 p50_us=1000 p99_us=3000 errors=0 status_errors=2 wrapped=0
RESULT kind=callback side=baseline round=3 requests=1000 rps=1000 p50_us=1000 p99_us=2000 errors=0 status_errors=0 wrapped=0
RSS side=router phase=start_1 pending=1000 vmrss_kb=10000 vmhwm_kb=11000
RSS side=router phase=start_3 pending=3000 vmrss_kb=10000 vmhwm_kb=11000
";
        let (runs, rss) = parse(text);
        assert_eq!(runs.len(), 6);
        let report = render(&runs, &rss);
        assert!(
            report.contains("throughput 0.950 (median of 3 paired rounds"),
            "{report}"
        );
        assert!(report.contains("p99 latency 1.500"), "{report}");
        assert!(report.contains("app CPU per request"), "{report}");
        assert!(report.contains("HTTP >= 400 2"), "{report}");
        assert!(report.contains("+0.0 bytes per pending order"), "{report}");
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    #[test]
    fn rounds_that_ran_out_of_callbacks_are_left_out_of_the_ratio() {
        let text = "\
RESULT kind=callback side=router round=1 requests=900 rps=900 p50_us=1000 p99_us=3000 wrapped=0
RESULT kind=callback side=baseline round=1 requests=1000 rps=1000 p50_us=1000 p99_us=2000 wrapped=0
RESULT kind=callback side=router round=2 requests=3000 rps=3000 p50_us=1000 p99_us=3000 wrapped=1200
RESULT kind=callback side=baseline round=2 requests=1000 rps=1000 p50_us=1000 p99_us=2000 wrapped=0
RESULT kind=callback side=router round=3 requests=800 rps=800 p50_us=1000 p99_us=3000 wrapped=0
RESULT kind=callback side=baseline round=3 requests=1000 rps=1000 p50_us=1000 p99_us=2000 wrapped=5
RESULT kind=replay side=router round=1 requests=5000 rps=5000 p50_us=100 p99_us=300 wrapped=4000
RESULT kind=replay side=baseline round=1 requests=1000 rps=1000 p50_us=1000 p99_us=2000 wrapped=0
";
        let (runs, rss) = parse(text);
        let report = render(&runs, &rss);
        assert!(
            report.contains(
                "callback: router/baseline throughput 0.900 (median of 1 paired rounds: 0.900)"
            ),
            "{report}"
        );
        assert!(
            report
                .contains("callback: !! rounds 2 3 left out: an app ran out of prepared callbacks"),
            "{report}"
        );
        assert!(
            report.contains("replay: router/baseline throughput 5.000 (median of 1 paired rounds"),
            "{report}"
        );
        assert!(!report.contains("replay: !!"), "{report}");
    }
}
