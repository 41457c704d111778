//! `payment-sandbox`: serves the seven simulated gateways on one port.

use std::time::Duration;

use axum::http::StatusCode;
use clap::Parser;
use hyper_util::rt::TokioTimer;
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
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}:{}", args.host, args.port));
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
    let public_url = public_url.trim_end_matches('/');
    println!(
        "payment-sandbox listening on http://{}:{}",
        args.host, args.port
    );
    for gateway in SandboxGateway::ALL {
        println!("  {:<11} {public_url}{}", gateway.name(), gateway.prefix());
    }
    println!("  {:<11} {public_url}/_admin", "admin");
    // A client slow to send its headers is dropped, a request taking longer than the
    // longest delay fault anyone sets is answered 408.
    let router = sandbox.router().layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(args.request_timeout_secs),
    ));
    let served = listener.into_std().map(axum_server::from_tcp);
    let mut server = match served {
        Ok(server) => server,
        Err(e) => {
            eprintln!("payment-sandbox: {e}");
            std::process::exit(1);
        }
    };
    server
        .http_builder()
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(args.header_timeout_secs));
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopping.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    if let Err(e) = server
        .handle(handle)
        .serve(router.into_make_service())
        .await
    {
        eprintln!("payment-sandbox: {e}");
        std::process::exit(1);
    }
}
