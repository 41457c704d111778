//! The payment sandbox inside the shop's process, for sandbox mode.

use std::net::SocketAddr;

use payment_axum::payment_core::GatewayId;
use payment_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use tokio::{net::TcpListener, task::JoinHandle};

/// A sandbox served by the shop's process; it stops when dropped.
#[derive(Debug)]
pub struct InProcessSandbox {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// To inspect and steer the sandbox (tests inject faults through it).
    pub handle: SandboxHandle,
    task: JoinHandle<()>,
}

impl Drop for InProcessSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the sandbox on `addr`; if that port is taken, on a free port of the same host.
pub async fn start(addr: SocketAddr) -> std::io::Result<InProcessSandbox> {
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) if addr.port() != 0 => {
            tracing::warn!(%addr, error = %e, "sandbox port taken; using a free one");
            TcpListener::bind(SocketAddr::new(addr.ip(), 0)).await?
        }
        Err(e) => return Err(e),
    };
    let bound = listener.local_addr()?;
    let base_url = format!("http://{bound}");
    let sandbox = Sandbox::new(SandboxConfig::default().public_url(base_url.clone()));
    let handle = sandbox.handle();
    let router = sandbox.router();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "sandbox stopped");
        }
    });
    Ok(InProcessSandbox {
        base_url,
        handle,
        task,
    })
}

/// The sandbox's name for a gateway.
pub fn sandbox_gateway(id: GatewayId) -> payment_sandbox::Gateway {
    match id {
        GatewayId::IdPay => payment_sandbox::Gateway::IdPay,
        GatewayId::NovinPal => payment_sandbox::Gateway::NovinPal,
        GatewayId::Inopal => payment_sandbox::Gateway::Inopal,
        GatewayId::CanPay => payment_sandbox::Gateway::CanPay,
        GatewayId::GardeshPay => payment_sandbox::Gateway::GardeshPay,
    }
}

/// The adapter base URL of `gateway` in the sandbox at `base`: `{base}/{prefix}`.
pub fn base_url_for(base: &str, gateway: GatewayId) -> String {
    format!(
        "{}{}",
        base.trim_end_matches('/'),
        sandbox_gateway(gateway).prefix()
    )
}
