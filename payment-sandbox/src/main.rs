//! `payment-sandbox`: serves the seven simulated gateways on one port.

use clap::Parser;
use payment_sandbox::{Call, Fault, FaultSpec, Sandbox, SandboxConfig, SandboxGateway};

/// A local simulator of IDPay, NovinPal, Inopal, CanPay, GardeshPay, Zarinpal and Zibal.
#[derive(Debug, Parser)]
#[command(name = "payment-sandbox", version, about, long_about = None)]
struct Args {
    /// Port to listen on.
    #[arg(long, short, default_value_t = 8085, env = "SANDBOX_PORT")]
    port: u16,
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
    /// GardeshPay merchant `token` to require (not checked when absent).
    #[arg(long)]
    gardeshpay_token: Option<String>,
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
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, sandbox.router())
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("payment-sandbox: {e}");
        std::process::exit(1);
    }
}
