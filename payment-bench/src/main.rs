//! `payment-bench`: the servers and helpers of the end-to-end load benchmark
//! (`payment-bench/bench`, described in `BENCHMARKS.md`).
//!
//! - `router`: an axum app with [`PaymentRouter`](payment_axum::PaymentRouter) (NovinPal against the sandbox) and a
//!   start endpoint using [`payment_axum::start`] — what a user of this library writes;
//!   with `--store`, its ledger and claims in that SQL database (`payment-sqlx`).
//! - `baseline`: the same two endpoints written by hand with `reqwest` and no state: start
//!   calls the gateway's create and redirects; the callback calls verify with the `refId`
//!   from the query string and answers "paid" when the gateway says so. No signed state,
//!   no replay guard, no amount or order check.
//! - `prepare`: starts N payments through an app's start endpoint, pays each one at the
//!   sandbox and writes the legitimate callback requests (path and query, and the state
//!   cookie the app set) to a file that the wrk script replays, one request per payment.
//! - `report`: reads the result lines the script collected and prints medians and ratios.
//!
//! The sandbox itself runs as its own process (`payment-sandbox`).

mod baseline;
mod by_hand;
mod prepare;
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
    Baseline(ServeArgs),
    /// Start and pay N payments through an app; write the callbacks to replay.
    Prepare(prepare::PrepareArgs),
    /// Print medians and ratios from the collected result lines.
    Report {
        /// The results file written by payment-bench/bench.
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
    /// The router only: keep the ledger and the claims in this database
    /// (`sqlite://target/bench/ledger.db?mode=rwc`) instead of in memory with no ledger.
    #[arg(long)]
    store: Option<String>,
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

/// The order amount every benchmark payment uses, in rial.
const AMOUNT: u64 = 120_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if let Command::Report { file } = &args.command {
        return report::run(file);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match args.command {
            Command::Router(serve) => {
                let app = router::app(&serve).await?;
                serve_until_stopped(serve.addr(), app).await
            }
            Command::Baseline(serve) => {
                let app = baseline::app(&serve)?;
                serve_until_stopped(serve.addr(), app).await
            }
            Command::Prepare(prepare) => prepare::run(prepare).await,
            Command::Report { .. } => Ok(()),
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
