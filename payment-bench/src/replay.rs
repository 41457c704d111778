//! Sends each line of a request file once (`PATH?QUERY<TAB>COOKIE`, as `prepare` writes
//! them, or `/buy` lines for starts), over a few keep-alive connections: an exact number
//! of requests, for instruction counts under callgrind (`scripts/bench-instructions`).

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

/// What `replay` needs.
#[derive(Debug, clap::Args)]
pub(crate) struct ReplayArgs {
    /// The app's base URL.
    #[arg(long)]
    app: String,
    /// The request file.
    #[arg(long)]
    file: PathBuf,
    /// Requests in flight.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

/// Sends every request and prints how many got each status.
pub(crate) async fn run(args: ReplayArgs) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&args.file)?;
    let lines: Vec<(String, String)> = text
        .lines()
        .map(|line| {
            let (path, cookie) = line.split_once('\t').unwrap_or((line, ""));
            (format!("{}{path}", args.app), cookie.to_owned())
        })
        .collect();
    let lines = Arc::new(lines);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let workers = args.concurrency.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (http, lines) = (http.clone(), lines.clone());
        tasks.spawn(async move {
            let mut statuses = BTreeMap::<u16, usize>::new();
            for (url, cookie) in lines.iter().skip(worker).step_by(workers) {
                let mut request = http.get(url);
                if !cookie.is_empty() {
                    request = request.header(reqwest::header::COOKIE, cookie);
                }
                let response = request.send().await?;
                *statuses.entry(response.status().as_u16()).or_default() += 1;
                response.bytes().await?;
            }
            Ok::<_, reqwest::Error>(statuses)
        });
    }
    let mut statuses = BTreeMap::<u16, usize>::new();
    while let Some(done) = tasks.join_next().await {
        for (status, n) in done?? {
            *statuses.entry(status).or_default() += n;
        }
    }
    let counts: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    println!("statuses {}", counts.join(" "));
    Ok(())
}
