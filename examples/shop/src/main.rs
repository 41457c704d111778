//! `cargo run -p shop`: the demo shop on embedded defaults (sandbox mode, SQLite file
//! `shop.db`), or on the configuration in the environment (see the README).

use std::process::ExitCode;

use shop::{Config, Mode, build_app};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        // Colours only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shop: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {} (SHOP_ADDR): {e}", config.addr))?;
    config.addr = listener.local_addr()?;
    let addr = config.addr;
    let database = shop::db::without_password(&config.database_url);
    let ignored = match config.mode {
        Mode::Sandbox => config.gateways.variables(),
        Mode::Live => Vec::new(),
    };
    let shop = build_app(config).await?;
    let gateways: Vec<String> = shop
        .payments()
        .accounts()
        .map(|account| account.gateway().display_name().to_owned())
        .collect();
    println!();
    println!("  Shop      {}  (listening on {addr})", shop.public_url);
    match (&shop.state.mode, &shop.sandbox_url) {
        (Mode::Sandbox, Some(sandbox)) => println!(
            "  Mode      sandbox: the gateways are simulated at {sandbox} (admin: {sandbox}/_admin); no real money moves"
        ),
        _ => println!("  Mode      live: real gateways, real money"),
    }
    println!("  Gateways  {}", gateways.join(", "));
    println!("  Database  {database}");
    match &shop.generated_admin_password {
        Some(password) => println!(
            "  Admin     {}/admin  (password for this run: {password}; set SHOP_ADMIN_PASSWORD to choose one)",
            shop.public_url
        ),
        None => println!("  Admin     {}/admin", shop.public_url),
    }
    if !ignored.is_empty() {
        println!();
        println!(
            "  Warning   {} set, but SHOP_MODE is sandbox: the sandbox's own credentials are used and these are ignored; set SHOP_MODE=live to use them",
            ignored.join(", ")
        );
    }
    println!();
    shop.serve_until(listener, stop_signal()).await?;
    println!("shop: stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
