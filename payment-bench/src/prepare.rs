//! Makes the callbacks to replay: N payments started through an app's own start endpoint
//! (so the state cookie is the one the app signed), each paid at the sandbox, each
//! callback written as one line `PATH?QUERY<TAB>COOKIE` (the cookie empty for the
//! baseline, which sets none).
//!
//! A paid callback can be fulfilled once only, so every request of a throughput run needs
//! a payment of its own; the load script replays each line at most once.

use std::{
    io::Write,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use payment_axum::payment_core::url::Url;
use serde::Deserialize;

/// What `prepare` needs.
#[derive(Debug, clap::Args)]
pub(crate) struct PrepareArgs {
    /// The app's base URL (its `GET /buy` starts a payment).
    #[arg(long)]
    app: String,
    /// The sandbox's base URL.
    #[arg(long)]
    sandbox: String,
    /// How many payments.
    #[arg(long)]
    count: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Where to write the callback lines.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Deserialize)]
struct Instruction {
    method: String,
    url: String,
}

pub(crate) type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// One payment started through `app` and paid at `sandbox`: its callback line.
pub(crate) async fn one(
    http: &reqwest::Client,
    app: &str,
    sandbox: &str,
) -> Result<String, AnyError> {
    let started = http.get(format!("{app}/buy")).send().await?;
    if started.status() != reqwest::StatusCode::FOUND {
        return Err(format!("start answered {}", started.status()).into());
    }
    let location = started
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("start set no Location")?;
    let ref_id = location.rsplit('/').next().unwrap_or_default().to_owned();
    // `name=value` of the state cookie, if the app set one.
    let cookie = started
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let act = format!(
        "{}/novinpal/_sandbox/act/{ref_id}",
        sandbox.trim_end_matches('/')
    );
    let instruction: Instruction = http
        .post(act)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("action", "pay")])
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if instruction.method != "GET" {
        return Err(format!("NovinPal returns with GET, not {}", instruction.method).into());
    }
    let url = Url::parse(&instruction.url)?;
    let query = url.query().unwrap_or_default();
    Ok(format!("{}?{query}\t{cookie}", url.path()))
}

/// Prepares `args.count` callbacks.
pub(crate) async fn run(args: PrepareArgs) -> Result<(), Box<dyn std::error::Error>> {
    let began = Instant::now();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let args = Arc::new(args);
    let lines = Arc::new(Mutex::new(Vec::with_capacity(args.count)));
    let taken = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (http, args, lines, taken) = (http.clone(), args.clone(), lines.clone(), taken.clone());
        workers.spawn(async move {
            while taken.fetch_add(1, Ordering::Relaxed) < args.count {
                let line = one(&http, &args.app, &args.sandbox).await?;
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
            Ok::<(), AnyError>(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done?.map_err(|e| e.to_string())?;
    }
    let lines = std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner()));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.out)?);
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    eprintln!(
        "prepared {} paid callbacks in {:.1} s",
        lines.len(),
        began.elapsed().as_secs_f64()
    );
    Ok(())
}
