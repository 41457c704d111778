//! A burst of ordinary refusals does not flood the log: replays and lost cookies are
//! DEBUG lines, while a forged state is a WARN an operator sees.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use payment_core::GatewayId;
use payment_e2e::{
    apps::axum::AxumRouter,
    buyer::{Buyer, act},
    harness::Env,
    scenarios::{CHEAP, order_id, start},
};
use payment_sandbox::Action;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines_with(&self, needle: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains(needle))
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routine_refusals_are_not_warnings_and_tampering_is() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let env = Env::start::<AxumRouter>().await;
    let gateway = GatewayId::NovinPal;
    let mut buyer = Buyer::new(&env);
    let order = order_id("burst");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let saved_jar = buyer.jar.clone();
    let callback = act(&env, gateway, &order, Action::Pay);
    assert_eq!(buyer.return_to_shop(&callback).await.status, 200);
    // The same saved return, 50 times: each one a replay.
    for _ in 0..50 {
        buyer.jar = saved_jar.clone();
        assert_eq!(buyer.return_to_shop(&callback).await.status, 409);
    }
    // And 50 times without the cookie.
    for _ in 0..50 {
        buyer.jar.clear();
        let status = buyer.return_to_shop(&callback).await.status;
        assert!(matches!(status, 200 | 400), "got {status}");
    }
    assert_eq!(captured.lines_with(" WARN "), 0, "routine refusals warned");
    assert_eq!(
        captured.lines_with("callback refused"),
        0,
        "refusals logged at INFO"
    );
    assert_eq!(
        captured.lines_with("callback handled"),
        1,
        "one INFO line: the paid return"
    );

    // A forged state: one warning, naming what happened.
    let mut forged = Buyer::new(&env);
    let forged_order = order_id("forged");
    start(&env, &mut forged, gateway, &forged_order, CHEAP).await;
    for (_, value) in &mut forged.jar {
        value.push('x');
    }
    let callback = act(&env, gateway, &forged_order, Action::Pay);
    assert_eq!(forged.return_to_shop(&callback).await.status, 403);
    assert_eq!(captured.lines_with(" WARN "), 1);
    assert_eq!(captured.lines_with("tampered_state"), 1);
}
