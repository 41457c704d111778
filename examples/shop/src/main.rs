//! `cargo run -p shop`: the demo shop on embedded defaults (sandbox mode, SQLite file
//! `shop.db`), or on the configuration in the environment (see the README).

use std::process::ExitCode;

use shop::{Config, Mode, build_app};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
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
    let database = config.database_url.clone();
    let shop = build_app(config).await?;
    println!();
    println!("  Shop      {}", shop.public_url);
    match (&shop.state.mode, &shop.sandbox_url) {
        (Mode::Sandbox, Some(sandbox)) => {
            println!("  Sandbox   {sandbox}/_admin  (all seven gateways simulated; no real money)");
        }
        _ => println!("  Mode      live"),
    }
    println!("  Database  {database}");
    match &shop.generated_admin_password {
        Some(password) => println!(
            "  Admin     {}/admin  (password for this run: {password}; set SHOP_ADMIN_PASSWORD to choose one)",
            shop.public_url
        ),
        None => println!("  Admin     {}/admin", shop.public_url),
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
