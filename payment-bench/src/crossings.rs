//! Which allocations an app frees on another thread than the one that made them
//! (`scripts/bench-allocations`, described in BENCHMARKS.md).
//!
//! Reads what `perf script -F tid,event,trace,ip,sym` prints for the script's probes on
//! the C library's allocator: the entry of `malloc` and `calloc` with the caller's stack,
//! their returns with the block's address, `realloc`'s entry and return, and `free`'s
//! entry. A callback handler that awaits the gateway's verify answer resumes on whichever
//! worker read that answer; what it allocated before the call and frees after it is then
//! freed on another thread about as often as the handler moved. glibc takes an arena lock
//! for those frees once the freeing thread's cache for that size is full, so the count of
//! allocations held across the call is what this measures.
//!
//! The share of callbacks whose handler moved is read from one allocation that every app
//! holds across the call once per callback: reqwest's parsed URI of the verify request.
//! Frees elsewhere divided by that share is the number of allocations per callback that
//! cross from one worker to another — a count that, unlike the frees themselves, does
//! not move with how often the scheduler happened to move the handler in one run.

use std::collections::HashMap;

/// What `crossings` needs.
#[derive(Debug, clap::Args)]
pub(crate) struct CrossingsArgs {
    /// How many callbacks the recording covers.
    #[arg(long)]
    callbacks: u64,
    /// The app's name, for the result line.
    #[arg(long)]
    side: String,
    /// How many call sites to list.
    #[arg(long, default_value_t = 25)]
    sites: usize,
}

/// The allocation every app holds across the verify call exactly once per callback.
const REFERENCE_SITE: &str = "http::uri::Uri::from_shared < reqwest::into_url::try_uri";

/// How many frames (after the allocator's own) name a call site.
const SITE_DEPTH: usize = 2;

/// Counts of one recording.
#[derive(Debug, Default)]
pub(crate) struct Census {
    allocs: u64,
    frees: u64,
    frees_elsewhere: u64,
    /// Per call site: blocks allocated there, and how many of them another thread freed.
    sites: HashMap<String, (u64, u64)>,
}

/// One probe hit and the stack recorded with it.
struct Hit<'a> {
    thread: u32,
    event: &'a str,
    value: u64,
    frames: Vec<&'a str>,
}

impl Census {
    /// Reads a whole `perf script` output.
    pub(crate) fn read(text: &str) -> Self {
        let mut census = Census::default();
        let mut tracker = Tracker::default();
        let mut hit: Option<Hit<'_>> = None;
        for line in text.lines() {
            // perf pads thread ids to a common width, so a hit's first line may start with
            // spaces too; what tells it from a stack line is the probe's name.
            if let Some(next) = parse_header(line) {
                if let Some(done) = hit.replace(next) {
                    tracker.record(&mut census, done);
                }
            } else if let (Some(hit), Some(frame)) = (hit.as_mut(), frame_symbol(line)) {
                hit.frames.push(frame);
            }
        }
        if let Some(done) = hit {
            tracker.record(&mut census, done);
        }
        census
    }

    /// The share of callbacks whose handler resumed on another worker, from
    /// [`REFERENCE_SITE`]; `None` if the recording has no such allocation.
    fn moved_share(&self) -> Option<f64> {
        let (allocs, elsewhere) = self
            .sites
            .iter()
            .filter(|(site, _)| site.starts_with(REFERENCE_SITE))
            .fold((0, 0), |(a, e), (_, (sa, se))| (a + sa, e + se));
        (allocs > 0 && elsewhere > 0).then(|| elsewhere as f64 / allocs as f64)
    }

    /// The result line and the busiest call sites, per callback.
    pub(crate) fn report(&self, side: &str, callbacks: u64, sites: usize) -> String {
        let per = |n: u64| n as f64 / callbacks.max(1) as f64;
        let moved = self.moved_share();
        let crossing = moved.map_or("n/a".to_owned(), |m| {
            format!("{:.1}", per(self.frees_elsewhere) / m)
        });
        let mut out = format!(
            "CROSSINGS side={side} callbacks={callbacks} allocs={:.1} frees={:.1} frees_elsewhere={:.2} moved={} crossing={crossing}\n",
            per(self.allocs),
            per(self.frees),
            per(self.frees_elsewhere),
            moved.map_or("n/a".to_owned(), |m| format!("{m:.3}")),
        );
        let mut busiest: Vec<(&String, &(u64, u64))> =
            self.sites.iter().filter(|(_, (_, e))| *e > 0).collect();
        busiest.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(b.0)));
        for (site, (allocs, elsewhere)) in busiest.into_iter().take(sites) {
            out.push_str(&format!(
                "  {:6.2} freed elsewhere of {:5.2} allocated  {site}\n",
                per(*elsewhere),
                per(*allocs),
            ));
        }
        out
    }
}

/// Follows blocks from allocation to free.
#[derive(Default)]
struct Tracker {
    /// Live blocks: their allocating thread and call site.
    owners: HashMap<u64, (u32, String)>,
    /// Per thread, the call site of the `malloc` or `calloc` whose return is next.
    entering: HashMap<u32, String>,
    /// Per thread, the block a `realloc` under way took over.
    growing: HashMap<u32, (u32, String)>,
}

impl Tracker {
    fn record(&mut self, census: &mut Census, hit: Hit<'_>) {
        let Hit {
            thread,
            event,
            value,
            frames,
        } = hit;
        match event {
            "malloc_entry" | "calloc_entry" => {
                self.entering.insert(thread, site(&frames));
            }
            "malloc_exit" | "calloc_exit" => {
                let site = self.entering.remove(&thread).unwrap_or_default();
                census.allocs += 1;
                census.sites.entry(site.clone()).or_default().0 += 1;
                self.owners.insert(value, (thread, site));
            }
            "realloc_entry" => {
                // A block grown keeps its first call site and takes the new thread.
                let owner = self.owners.remove(&value).unwrap_or_default();
                self.growing.insert(thread, (thread, owner.1));
            }
            "realloc_exit" => {
                if let Some(owner) = self.growing.remove(&thread) {
                    self.owners.insert(value, owner);
                }
            }
            "free_entry" if value != 0 => {
                census.frees += 1;
                if let Some((owner, site)) = self.owners.remove(&value)
                    && owner != thread
                {
                    census.frees_elsewhere += 1;
                    census.sites.entry(site).or_default().1 += 1;
                }
            }
            _ => {}
        }
    }
}

/// The first line of one hit: `TID probe_libc:EVENT: (...) name=VALUE [ip sym]`.
fn parse_header(line: &str) -> Option<Hit<'_>> {
    let mut words = line.split_whitespace();
    let thread = words.next()?.parse().ok()?;
    let event = words
        .next()?
        .strip_prefix("probe_libc:")?
        .trim_end_matches(':');
    let event = event.strip_suffix("__return").unwrap_or(event);
    let value = words
        .find_map(|w| w.split_once('=').map(|(_, v)| v))
        .and_then(|v| match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        })
        .unwrap_or(0);
    Some(Hit {
        thread,
        event,
        value,
        frames: Vec::new(),
    })
}

/// The symbol of a stack line (`\t  98930 malloc`), without its hash suffix.
fn frame_symbol(line: &str) -> Option<&str> {
    let (_, symbol) = line.trim_start().split_once(char::is_whitespace)?;
    let symbol = symbol.trim();
    // Rust's legacy mangling ends every symbol with `::h` and 16 hex digits.
    Some(match symbol.rsplit_once("::h") {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => symbol,
    })
}

/// Whether a frame belongs to the allocator or to the standard containers that call it,
/// rather than to the code that wanted the memory.
fn is_plumbing(frame: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "malloc",
        "calloc",
        "realloc",
        "__rust_",
        "__rdl_",
        "alloc::",
        "<alloc::",
        "core::",
        "<core::",
        "hashbrown::",
        "<hashbrown::",
        "bytes::",
        "<bytes::",
        "<T as alloc",
        "http::header::map",
        "[unknown]",
    ];
    PREFIXES.iter().any(|p| frame.starts_with(p))
        || ["RawVec", "finish_grow", "exchange_malloc"]
            .iter()
            .any(|p| frame.contains(p))
}

/// A call site: the first frames that are not the allocator's.
fn site(frames: &[&str]) -> String {
    frames
        .iter()
        .filter(|f| !is_plumbing(f))
        .take(SITE_DEPTH)
        .map(|f| f.replace("{{closure}}", "{c}"))
        .collect::<Vec<_>>()
        .join(" < ")
}

/// Reads `perf script` output from stdin and prints the result line and the sites.
pub(crate) fn run(args: &CrossingsArgs) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::io::read_to_string(std::io::stdin())?;
    let census = Census::read(&text);
    print!("{}", census.report(&args.side, args.callbacks, args.sites));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two callbacks, as `perf script` prints them (thread ids padded, as perf pads
    /// them): thread 1 allocates a URI for each and a key for the first; thread 2 frees
    /// the first callback's two blocks (its handler moved), thread 1 the second's URI.
    /// A block that thread 1 `calloc`s is grown by thread 2 and freed there.
    const RECORDING: &str = "\
1 probe_libc:malloc_entry: (7f00dd470930) size=64
\t           98930 malloc
\t          298173 http::uri::Uri::from_shared::h0123456789abcdef
\t          298174 reqwest::into_url::try_uri::h0123456789abcdef
\t          298175 reqwest::async_impl::client::Client::execute_request::h0123456789abcdef

1 probe_libc:malloc_exit__return: (7f00dd470930 <- 55b149b5de7c) arg1=0x1000     55b149b5de7c something
1 probe_libc:malloc_entry: (7f00dd470930) size=24
\t           98930 malloc
\t          1 alloc::raw_vec::finish_grow::h0123456789abcdef
\t          2 payment_core::payments::claim_key::h0123456789abcdef
\t          3 payment_core::payments::Payments::claim_and_verify::{{closure}}::h0123456789abcdef

1 probe_libc:malloc_exit__return: (7f00dd470930 <- 55b149b5de7c) arg1=0x2000     55b149b5de7c something
    2      probe_libc:free_entry: (7f00dd470ef0) ptr=4096     7f00dd470ef0 cfree@GLIBC_2.2.5
2          probe_libc:free_entry: (7f00dd470ef0) ptr=8192     7f00dd470ef0 cfree@GLIBC_2.2.5
1 probe_libc:malloc_entry: (7f00dd470930) size=64
\t           98930 malloc
\t          298173 http::uri::Uri::from_shared::h0123456789abcdef
\t          298174 reqwest::into_url::try_uri::h0123456789abcdef

1 probe_libc:malloc_exit__return: (7f00dd470930 <- 55b149b5de7c) arg1=0x1000     55b149b5de7c something
1          probe_libc:free_entry: (7f00dd470ef0) ptr=4096     7f00dd470ef0 cfree@GLIBC_2.2.5
1 probe_libc:calloc_entry: (7f00dd470930) n=1
\t           98930 calloc
\t          5 payment_core::callback::CallbackRequest::from_get::h0123456789abcdef

1 probe_libc:calloc_exit__return: (7f00dd470930 <- 55b149b5de7c) arg1=0x3000     55b149b5de7c something
2          probe_libc:realloc_entry: (7f00dd470ef0) ptr=12288     7f00dd470ef0 realloc
2 probe_libc:realloc_exit__return: (7f00dd470930 <- 55b149b5de7c) arg1=0x4000     55b149b5de7c something
2          probe_libc:free_entry: (7f00dd470ef0) ptr=16384     7f00dd470ef0 cfree@GLIBC_2.2.5
2          probe_libc:free_entry: (7f00dd470ef0) ptr=0     7f00dd470ef0 cfree@GLIBC_2.2.5
";

    #[test]
    fn counts_frees_on_another_thread_per_call_site() {
        let census = Census::read(RECORDING);
        assert_eq!(census.allocs, 4);
        // The null free is not a free.
        assert_eq!(census.frees, 4);
        assert_eq!(census.frees_elsewhere, 2);
        assert_eq!(census.sites[REFERENCE_SITE], (2, 1));
        assert_eq!(
            census.sites["payment_core::payments::claim_key < payment_core::payments::Payments::claim_and_verify::{c}"],
            (1, 1)
        );
        // Grown by thread 2 and freed there: not freed elsewhere.
        assert_eq!(
            census.sites["payment_core::callback::CallbackRequest::from_get"],
            (1, 0)
        );
        assert_eq!(census.moved_share(), Some(0.5));
        let report = census.report("router", 2, 5);
        assert!(
            report.starts_with(
                "CROSSINGS side=router callbacks=2 allocs=2.0 frees=2.0 frees_elsewhere=1.00 moved=0.500 crossing=2.0\n"
            ),
            "{report}"
        );
        assert_eq!(report.lines().count(), 3, "{report}");
    }

    #[test]
    fn without_the_reference_allocation_the_share_is_unknown() {
        let census = Census::read("1 probe_libc:free_entry: (7f) ptr=4096\n");
        assert_eq!(census.frees, 1);
        assert_eq!(census.frees_elsewhere, 0);
        assert!(census.report("x", 1, 5).contains("moved=n/a crossing=n/a"));
    }
}
