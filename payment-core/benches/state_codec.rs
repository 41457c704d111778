//! Signing and checking an order state, beside the same payload through the `cookie`
//! crate's signed jar (HMAC-SHA256 too), which is what a hand-written shop would use.

// A benchmark whose setup or answer is wrong stops: unwrapping, expecting and indexing
// say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use payment_core::{
    AccountId, GatewayId, KeyRing, OrderId, Rial, SigningKey,
    state::{OrderState, StateCodec},
    time::Duration,
    time::OffsetDateTime,
};

const COOKIE_NAME: &str = "pay_novinpal_0a1b2c3d4e5f";

fn state() -> OrderState {
    OrderState::new(
        GatewayId::NovinPal,
        OrderId::new("order-2026-000123").unwrap(),
        Rial::new(1_250_000),
        "447515262",
        OffsetDateTime::now_utc(),
        Duration::minutes(30),
    )
}

fn codec(c: &mut Criterion) {
    let codec = StateCodec::new(KeyRing::new(SigningKey::new(1, vec![7; 32]).unwrap()));
    let state = state();
    let now = OffsetDateTime::now_utc();
    let sealed = codec.seal(&state, COOKIE_NAME);
    let novinpal = AccountId::from(GatewayId::NovinPal);
    let mut group = c.benchmark_group("order_state");
    group.bench_function("payment_core_seal", |b| {
        b.iter(|| codec.seal(black_box(&state), black_box(COOKIE_NAME)))
    });
    group.bench_function("payment_core_open", |b| {
        b.iter(|| {
            codec
                .open(black_box(&sealed), COOKIE_NAME, Some(&novinpal), now)
                .unwrap()
        })
    });
    group.bench_function("payment_core_seal_and_open", |b| {
        b.iter(|| {
            let value = codec.seal(black_box(&state), COOKIE_NAME);
            codec
                .open(&value, COOKIE_NAME, Some(&novinpal), now)
                .unwrap()
        })
    });

    // The same fields as JSON, the usual hand-written choice.
    let payload = serde_json::json!({
        "gateway": "novinpal",
        "order_id": state.order_id().as_str(),
        "amount": state.amount().get(),
        "gateway_ref": state.gateway_ref(),
        "nonce": state.nonce().iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "issued_at": state.issued_at(),
        "expires_at": state.expires_at(),
    })
    .to_string();
    let key = cookie::Key::from(&[7u8; 64]);
    group.bench_function("cookie_signed_jar_seal_and_open", |b| {
        b.iter(|| {
            let mut jar = cookie::CookieJar::new();
            jar.signed_mut(&key)
                .add(cookie::Cookie::new(COOKIE_NAME, black_box(payload.clone())));
            let value = jar.get(COOKIE_NAME).unwrap().value().to_owned();
            // A fresh jar, as on the callback request.
            let mut incoming = cookie::CookieJar::new();
            incoming.add_original(cookie::Cookie::new(COOKIE_NAME, value));
            let opened = incoming.signed(&key).get(COOKIE_NAME).unwrap();
            serde_json::from_str::<serde_json::Value>(opened.value()).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
