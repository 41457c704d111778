//! The payment sandbox inside the shop's process, for sandbox mode.

use std::net::SocketAddr;

use payment_axum::payment_core::GatewayId;
use payment_sandbox::{Sandbox, SandboxConfig, SandboxGateway, SandboxHandle};
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
    // Served as the shop is: slow clients are dropped here too.
    let task = tokio::spawn(async move {
        let serving = crate::server::serve(
            listener,
            router,
            crate::ServerLimits::default(),
            std::future::pending(),
        );
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "sandbox stopped");
        }
    });
    Ok(InProcessSandbox {
        base_url,
        handle,
        task,
    })
}

/// The sandbox's simulation of a gateway (it uses the same names), if it has one.
pub fn sandbox_gateway(id: GatewayId) -> Option<SandboxGateway> {
    id.as_str().parse().ok()
}

/// The adapter base URL of `gateway` in the sandbox at `base` (`{base}/{prefix}`), if the
/// sandbox simulates it.
pub fn base_url_for(base: &str, gateway: GatewayId) -> Option<String> {
    let prefix = sandbox_gateway(gateway)?.prefix();
    Some(format!("{}{prefix}", base.trim_end_matches('/')))
}
