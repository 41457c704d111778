//! `payment-bench`: the servers and helpers of the end-to-end load benchmark
//! (`scripts/bench`, described in `BENCHMARKS.md`).
//!
//! - `router`: an axum app with [`PaymentRouter`] (NovinPal against the sandbox) and a
//!   start endpoint using [`payment_axum::start`] — what a user of this library writes.
//! - `baseline`: the same two endpoints written by hand with `reqwest` and no state: start
//!   calls the gateway's create and redirects; the callback calls verify with the `refId`
//!   from the query string and answers "paid" when the gateway says so. No signed state,
//!   no replay guard, no amount or order check.
//! - `checked`: the baseline with the checks this library makes written by hand (signed
//!   per-order cookie, callback against it, a claim in a locked map, the verify answer
//!   against the cookie, the cookie removed): what the safety costs done without it.
//! - `prepare`: starts N payments through an app's start endpoint, pays each one at the
//!   sandbox and writes the legitimate callback requests (path and query, and the state
//!   cookie the app set) to a file that the wrk script replays, one request per payment.
//! - `replay`: sends each line of a request file once (exact counts, for callgrind).
//! - `report`: reads the result lines the script collected and prints medians and ratios.
//! - `crossings`: reads a `perf` recording of an app's allocator calls and counts the
//!   allocations freed on another thread than the one that made them
//!   (`scripts/bench-allocations`).
//!
//! The sandbox itself runs as its own process (`payment-sandbox`).

/// With the `mimalloc` feature both apps allocate through mimalloc, which shows how much
/// of the difference between them is the system allocator's (BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod baseline;
mod by_hand;
mod checked;
mod crossings;
mod extra_work;
mod prepare;
mod replay;
mod report;
mod router;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

/// The servers and helpers of the end-to-end load benchmark.
#[derive(Debug, Parser)]
#[command(name = "payment-bench", about, long_about = None)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the PaymentRouter app (`GET /buy`, `/pay/callback/novinpal`).
    Router(ServeArgs),
    /// Serve the hand-written baseline (`GET /buy`, `/pay/callback/novinpal`).
    Baseline(BaselineArgs),
    /// Serve the hand-written baseline with the library's checks done by hand.
    Checked(ServeArgs),
    /// Start and pay N payments through an app; write the callbacks to replay.
    Prepare(prepare::PrepareArgs),
    /// Send each line of a request file once.
    Replay(replay::ReplayArgs),
    /// Count, from `perf script` output on stdin, the allocations freed on another thread.
    Crossings(crossings::CrossingsArgs),
    /// Print medians and ratios from the collected result lines.
    Report {
        /// The results file written by scripts/bench.
        file: std::path::PathBuf,
    },
}

/// Where an app listens and which sandbox it talks to.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long)]
    port: u16,
    /// The sandbox's base URL, e.g. `http://127.0.0.1:18085`.
    #[arg(long)]
    sandbox: String,
}

impl ServeArgs {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The app's public base URL: what callback URLs are built from.
    fn public_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The NovinPal base URL at the sandbox.
    fn novinpal(&self) -> String {
        format!("{}/novinpal", self.sandbox.trim_end_matches('/'))
    }
}

/// The baseline's settings.
#[derive(Debug, clap::Args)]
struct BaselineArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// CPU work added to every callback, in µs on an idle core (default none): the
    /// baseline with a known extra cost, to calibrate what a cost per callback does to
    /// throughput on this machine.
    #[arg(long, default_value_t = 0.0)]
    extra_work_us: f64,
}

/// The order amount every benchmark payment uses, in rial.
const AMOUNT: u64 = 120_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    match &args.command {
        Command::Report { file } => return report::run(file),
        Command::Crossings(crossings) => return crossings::run(crossings),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match args.command {
            Command::Router(serve) => {
                let app = router::app(&serve)?;
                serve_until_stopped(serve.addr(), app).await
            }
            Command::Baseline(args) => {
                let extra = (args.extra_work_us > 0.0)
                    .then(|| extra_work::ExtraWork::calibrated(args.extra_work_us));
                if let Some(work) = extra {
                    println!(
                        "extra work per callback: {} µs ({} iterations)",
                        args.extra_work_us,
                        work.iterations()
                    );
                }
                let app = baseline::app(&args.serve, extra)?;
                serve_until_stopped(args.serve.addr(), app).await
            }
            Command::Checked(serve) => {
                let app = checked::app(&serve)?;
                serve_until_stopped(serve.addr(), app).await
            }
            Command::Prepare(prepare) => prepare::run(prepare).await,
            Command::Replay(replay) => replay::run(replay).await,
            Command::Report { .. } | Command::Crossings(_) => Ok(()),
        }
    })
}

async fn serve_until_stopped(
    addr: SocketAddr,
    app: axum::Router,
) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
