//! Secrets never reach the logs: a whole payment through every gateway, with every span
//! and event recorded at TRACE level, mentions no credential, no signed state and no full
//! card number.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_ever_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mut secrets: Vec<String> = vec![
        payment_sandbox::IDPAY_API_KEY.into(),
        payment_sandbox::NOVINPAL_API_KEY.into(),
        payment_sandbox::INOPAL_GATEWAY_ID.into(),
        payment_sandbox::CANPAY_MERCHANT.into(),
    ];
    for &gateway in GatewayId::ALL {
        let env = Env::start::<AxumRouter>().await;
        let mut buyer = Buyer::new(&env);
        let order = order_id("log");
        start(&env, &mut buyer, gateway, &order, CHEAP).await;
        secrets.extend(buyer.jar.iter().map(|(_, value)| value.clone()));
        let callback = act(&env, gateway, &order, Action::Pay);
        assert_eq!(buyer.return_to_shop(&callback).await.status, 200);
        if let Some(card) = env.transaction(gateway, &order).card_number {
            secrets.push(card);
        }
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("callback handled"),
        "the capture works: {logs}"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "{secret} was logged");
    }
}
