//! `payment-sandbox`: serves the seven simulated gateways on one port.

use std::time::Duration;

use axum::http::StatusCode;
use clap::Parser;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use payment_sandbox::{
    Call, Fault, FaultSpec, GardeshPayAmountUnit, Sandbox, SandboxConfig, SandboxGateway,
};
use tower_http::timeout::TimeoutLayer;

/// A local simulator of IDPay, NovinPal, Inopal, CanPay, GardeshPay, Zarinpal and Zibal.
#[derive(Debug, Parser)]
#[command(name = "payment-sandbox", version, about, long_about = None)]
struct Args {
    /// Port to listen on.
    #[arg(long, short, default_value_t = 8085, env = "SANDBOX_PORT")]
    port: u16,
    /// Seconds a client has to send a request's headers.
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds a request may take, delay faults included, before it is answered 408.
    #[arg(long, default_value_t = 120)]
    request_timeout_secs: u64,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1", env = "SANDBOX_HOST")]
    host: String,
    /// Base URL used in payment links [default: http://{host}:{port}].
    #[arg(long, env = "SANDBOX_PUBLIC_URL")]
    public_url: Option<String>,
    /// Inject a fault: `gateway:call:kind[:arg]`, e.g. `novinpal:verify:delay:3000`,
    /// `idpay:create:status:502`, `canpay:verify:malformed`, `inopal:verify:drop`.
    /// Repeatable.
    #[arg(long = "fault", value_name = "GATEWAY:CALL:KIND[:ARG]")]
    faults: Vec<String>,
    /// IDPay `X-API-KEY`.
    #[arg(long, default_value = payment_sandbox::IDPAY_API_KEY)]
    idpay_api_key: String,
    /// NovinPal `api_key`.
    #[arg(long, default_value = payment_sandbox::NOVINPAL_API_KEY)]
    novinpal_api_key: String,
    /// Inopal gateway id (`Authorization: Bearer …`).
    #[arg(long, default_value = payment_sandbox::INOPAL_GATEWAY_ID)]
    inopal_gateway_id: String,
    /// Inopal buyer fee in rial, added to `payment_amount`.
    #[arg(long, default_value_t = 0)]
    inopal_fee: u64,
    /// CanPay `merchant`.
    #[arg(long, default_value = payment_sandbox::CANPAY_MERCHANT)]
    canpay_merchant: String,
    /// GardeshPay merchant token to require, as a `token` field or an
    /// `Authorization: Bearer` header (not checked when absent).
    #[arg(long)]
    gardeshpay_token: Option<String>,
    /// The unit of GardeshPay's amounts, in getToken and in verify's answer: `rial` or
    /// `toman`.
    #[arg(long, default_value_t = GardeshPayAmountUnit::Rial, value_name = "rial|toman")]
    gardeshpay_amount_unit: GardeshPayAmountUnit,
    /// Zarinpal `merchant_id`.
    #[arg(long, default_value = payment_sandbox::ZARINPAL_MERCHANT_ID)]
    zarinpal_merchant_id: String,
    /// Zibal `merchant`.
    #[arg(long, default_value = payment_sandbox::ZIBAL_MERCHANT)]
    zibal_merchant: String,
}

fn parse_fault(s: &str) -> Result<(SandboxGateway, Call, Fault), String> {
    let mut parts = s.splitn(3, ':');
    let (Some(g), Some(c), Some(f)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "bad --fault `{s}`: expected gateway:call:kind[:arg]"
        ));
    };
    Ok((g.parse()?, c.parse()?, f.parse()?))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "payment-sandbox: cannot bind {}:{}: {e}",
                args.host, args.port
            );
            std::process::exit(1);
        }
    };
    // The port bound, which `--port 0` leaves to the system.
    let port = listener.local_addr().map_or(args.port, |a| a.port());
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{port}", args.host));
    let config = SandboxConfig::default()
        .idpay_api_key(args.idpay_api_key)
        .novinpal_api_key(args.novinpal_api_key)
        .inopal_gateway_id(args.inopal_gateway_id)
        .inopal_fee(args.inopal_fee)
        .canpay_merchant(args.canpay_merchant)
        .gardeshpay_token(args.gardeshpay_token)
        .gardeshpay_amount_unit(args.gardeshpay_amount_unit)
        .zarinpal_merchant_id(args.zarinpal_merchant_id)
        .zibal_merchant(args.zibal_merchant)
        .public_url(public_url.clone());
    let sandbox = Sandbox::new(config);
    for spec in &args.faults {
        match parse_fault(spec) {
            Ok((gateway, call, fault)) => {
                sandbox
                    .handle()
                    .set_fault(gateway, call, FaultSpec::new(fault))
            }
            Err(e) => {
                eprintln!("payment-sandbox: {e}");
                std::process::exit(2);
            }
        }
    }
    let public_url = public_url.trim_end_matches('/');
    println!("payment-sandbox listening on http://{}:{port}", args.host);
    for gateway in SandboxGateway::ALL {
        println!("  {:<11} {public_url}{}", gateway.name(), gateway.prefix());
    }
    println!("  {:<11} {public_url}/_admin", "admin");
    // A request taking longer than the longest delay fault anyone sets is answered 408.
    let router = sandbox.router().layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(args.request_timeout_secs),
    ));
    serve(
        listener,
        router,
        Duration::from_secs(args.header_timeout_secs),
    )
    .await;
}

/// Serves `router` until Ctrl-C, then gives the requests in flight 10 s to finish.
///
/// hyper's HTTP/1 server directly, for its header-read timeout: it runs from the moment a
/// connection opens, so a client that is slow to send its headers, or that sends nothing
/// at all, is dropped after `header_timeout`. (`axum::serve` has no such timeout, and
/// axum-server first reads the opening bytes to tell HTTP/1 from HTTP/2 without one.)
async fn serve(listener: tokio::net::TcpListener, router: axum::Router, header_timeout: Duration) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A client gone before accept, or no descriptors left: wait, not spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that hangs up or times out ends its connection: nothing to report.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}
