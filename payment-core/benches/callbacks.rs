//! What a callback costs apart from the network:
//!
//! - `callback_parse/*`: each gateway's `parse_callback` on its documented paid callback
//!   (the request already built), and `callback_request/*`: building the request from the
//!   raw query string or form body as the framework crates do, then parsing it.
//! - `verify_decode/*`: each gateway's documented successful verify answer decoded as its
//!   adapter does after the HTTP call (through the unstable `payment_core::fuzzing`
//!   hooks, which build the adapter on every call: `adapter_new/*` is that part alone).
//! - `pipeline/*`: `Payments::handle_callback` end to end for a fresh paid NovinPal
//!   payment — parse, find and check the signed state (HMAC), claim in the in-memory
//!   replay guard, verify, compare, complete, receipt and cookies — with a verify that
//!   answers at once instead of over HTTP; and `Payments::start` with a create that does
//!   the same. Beside them, `baseline/*`: reading the same callback's query string into a
//!   struct, which is all a hand-written handler does before its verify call.
//! - `replay_guard/*`: a claim and its completion in the in-memory guard, empty and
//!   holding 250,000 completed payments; and a claim and its release in a guard holding a
//!   thousand or a million, back to back or with 32 claims in flight, to show what a large
//!   table's cache misses cost.

// A benchmark whose setup or answer is wrong stops: unwrapping, expecting and indexing
// say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::{
    hint::black_box,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use payment_core::{
    CallbackRequest, CanPay, Error, GardeshPay, GatewayId, IdPay, Inopal, KeyRing,
    MemoryReplayGuard, NovinPal, Order, OrderId, Payments, ReplayGuard, Rial, SigningKey, Zarinpal,
    Zibal,
    adapter::{CallbackData, Created, Gateway, Redirect, Verified},
    fuzzing,
    replay::Claim,
    state::OrderState,
    time::OffsetDateTime,
    url::Url,
};

/// A documented paid callback per gateway: (gateway, GET query, POST body).
const CALLBACKS: [(GatewayId, &str, &str); 7] = [
    (
        GatewayId::IdPay,
        "",
        "status=10&track_id=10012&id=d2e353189823079e1e4181772cff5292&order_id=101\
         &amount=10000&card_no=610433******1064&date=1533559373",
    ),
    (
        GatewayId::NovinPal,
        "refId=509744199&success=1&code=100&invoiceNumber=9999999&amount=10000",
        "",
    ),
    (
        GatewayId::Inopal,
        "",
        "status=1&order_id=12356&ref_num=eroxr&card_number=610433******6047\
         &tracking_code=141167552421",
    ),
    (
        GatewayId::CanPay,
        "",
        "success=1&token=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9&amount=10000&invoice_id=47",
    ),
    (
        GatewayId::GardeshPay,
        "trackingNumber=738495012345&invoiceNumber=INV-1001",
        "",
    ),
    (
        GatewayId::Zarinpal,
        "Authority=A0000000000000000000000000000wwOGYpd&Status=OK",
        "",
    ),
    (
        GatewayId::Zibal,
        "trackId=15966442233311&success=1&status=2&orderId=2211",
        "",
    ),
];

/// A documented successful verify answer per gateway, with the state it is about.
fn verify_answers() -> Vec<(GatewayId, OrderState, &'static str)> {
    let state = |gateway, order_id: &str, amount, reference: &str| {
        OrderState::new(
            gateway,
            OrderId::new(order_id).unwrap(),
            Rial::new(amount),
            reference,
            OffsetDateTime::now_utc(),
            payment_core::time::Duration::minutes(30),
        )
    };
    vec![
        (
            GatewayId::IdPay,
            state(
                GatewayId::IdPay,
                "101",
                10_000,
                "d2e353189823079e1e4181772cff5292",
            ),
            r#"{"status":"100","track_id":"10012","id":"d2e353189823079e1e4181772cff5292",
                "order_id":"101","amount":"10000","date":"1533559300",
                "payment":{"track_id":"888001","amount":"10000","card_no":"610433******1064",
                "hashed_card_no":"E59FF8B3B2A0D5F9E3C7A7D0B7F0D6C2","date":"1533559373"},
                "verify":{"date":"1533559400"}}"#,
        ),
        (
            GatewayId::NovinPal,
            state(GatewayId::NovinPal, "9999999", 10_000, "509744199"),
            r#"{"paidAt":"2022-12-07 19:59:45","cardNumber":"6104-33**-****-6047","status":1,
                "amount":10000,"refNumber":"638060399619297999","refId":"509744199",
                "description":"Sample description","orderId":"9999999","verifiedBefore":false}"#,
        ),
        (
            GatewayId::Inopal,
            state(GatewayId::Inopal, "12356", 50_000, "eroxr"),
            r#"{"status":1,"message":"Ok","data":{"ref_num":"eroxr","price":50000}}"#,
        ),
        (
            GatewayId::CanPay,
            state(
                GatewayId::CanPay,
                "47",
                10_000,
                "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9",
            ),
            r#"{"status":true,"data":{"card":"5022-29**-****-7122","reference":"738495012345"}}"#,
        ),
        (
            GatewayId::GardeshPay,
            state(
                GatewayId::GardeshPay,
                "INV-1001",
                120_000,
                "5f2c6a1d9e8b4c3a",
            ),
            r#"{"success":true,"data":{"cardNumber":"610433******6047","refNumber":"738495012345",
                "message":"پرداخت با موفقیت انجام شد.","invoiceNumber":"INV-1001",
                "invoiceDate":"2024-03-21T00:15:00"},"amount":120000,"verifiedBefore":false,
                "message":"عملیات با موفقیت انجام شد."}"#,
        ),
        (
            GatewayId::Zarinpal,
            state(
                GatewayId::Zarinpal,
                "A-1001",
                120_000,
                "A0000000000000000000000000000wwOGYpd",
            ),
            r#"{"data":{"code":100,"message":"Paid","card_hash":"1EBE3EBEBE35C7EC0F8D6EE4F2F8",
                "card_pan":"502229******5995","ref_id":201,"fee_type":"Merchant","fee":0},
                "errors":[]}"#,
        ),
        (
            GatewayId::Zibal,
            state(GatewayId::Zibal, "2211", 1_600, "15966442233311"),
            r#"{"paidAt":"2018-03-25T23:43:01.053000","amount":1600,"result":100,"status":1,
                "refNumber":12312,"description":"Hello World!","cardNumber":"62741****44",
                "orderId":"2211","message":"success"}"#,
        ),
    ]
}

fn request(query: &str, body: &str) -> CallbackRequest {
    if body.is_empty() {
        CallbackRequest::from_get(query).unwrap()
    } else {
        CallbackRequest::from_post(query, body.as_bytes()).unwrap()
    }
}

/// A gateway's callback parser, called through a pointer as `Payments` calls the
/// adapters it holds.
type Parser = Box<dyn Fn(&CallbackRequest) -> Result<CallbackData, Error>>;

fn parser<G: Gateway>(adapter: G) -> Parser {
    Box::new(move |request| adapter.parse_callback(request))
}

/// The callback parser of `gateway`'s adapter (it needs no network and no real
/// credential).
fn adapter(gateway: GatewayId) -> Parser {
    match gateway {
        GatewayId::IdPay => parser(IdPay::new("k")),
        GatewayId::NovinPal => parser(NovinPal::new("k")),
        GatewayId::Inopal => parser(Inopal::new("k")),
        GatewayId::CanPay => parser(CanPay::new("k")),
        GatewayId::GardeshPay => parser(GardeshPay::new()),
        GatewayId::Zarinpal => parser(Zarinpal::new("k")),
        GatewayId::Zibal => parser(Zibal::new("k")),
        other => panic!("no documented callback for {other}"),
    }
}

fn callbacks(c: &mut Criterion) {
    let mut group = c.benchmark_group("callback_parse");
    for (gateway, query, body) in CALLBACKS {
        let adapter = adapter(gateway);
        let req = request(query, body);
        adapter(&req).expect("a documented callback parses");
        group.bench_function(gateway.as_str(), |b| {
            b.iter(|| adapter(black_box(&req)).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("callback_request");
    for (gateway, query, body) in CALLBACKS {
        let adapter = adapter(gateway);
        group.bench_function(gateway.as_str(), |b| {
            b.iter(|| adapter(&request(black_box(query), black_box(body))).unwrap())
        });
    }
    group.finish();
}

fn verify_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify_decode");
    for (gateway, state, body) in verify_answers() {
        let (_, query, form) = CALLBACKS.iter().find(|(g, ..)| *g == gateway).unwrap();
        let callback = adapter(gateway)(&request(query, form)).unwrap();
        let verified = fuzzing::decode_verify(&state, &callback, 200, body.as_bytes());
        assert!(verified.is_ok(), "{gateway}: {verified:?}");
        group.bench_function(gateway.as_str(), |b| {
            b.iter(|| {
                fuzzing::decode_verify(
                    black_box(&state),
                    &callback,
                    200,
                    black_box(body.as_bytes()),
                )
            })
        });
    }
    group.finish();

    // What the hook adds to each figure above: building the adapter it decodes with.
    let mut group = c.benchmark_group("adapter_new");
    group.bench_function("idpay", |b| b.iter(|| IdPay::new(black_box("k"))));
    group.bench_function("novinpal", |b| b.iter(|| NovinPal::new(black_box("k"))));
    group.bench_function("inopal", |b| b.iter(|| Inopal::new(black_box("k"))));
    group.bench_function("canpay", |b| b.iter(|| CanPay::new(black_box("k"))));
    group.bench_function("gardeshpay", |b| {
        b.iter(|| GardeshPay::new().with_merchant_token(black_box("k")))
    });
    group.bench_function("zarinpal", |b| b.iter(|| Zarinpal::new(black_box("k"))));
    group.bench_function("zibal", |b| b.iter(|| Zibal::new(black_box("k"))));
    group.finish();
}

/// NovinPal's wire format without the wire: `create` hands out a new reference at once
/// and `verify` confirms the state's payment at once, so the pipeline's own work is all
/// that is measured.
struct InstantNovinPal {
    parser: NovinPal,
    next: AtomicU64,
}

impl Gateway for InstantNovinPal {
    const ID: GatewayId = GatewayId::NovinPal;

    fn check_order(&self, order: &Order) -> Result<(), Error> {
        Gateway::check_order(&self.parser, order)
    }

    async fn create(&self, _order: &Order, _callback_url: &Url) -> Result<Created, Error> {
        let reference = (500_000_000 + self.next.fetch_add(1, Ordering::Relaxed)).to_string();
        let start = Url::parse("https://api.novinpal.ir/invoice/start/")
            .unwrap()
            .join(&reference)
            .unwrap();
        Ok(Created {
            gateway_ref: reference,
            redirect: Redirect::Get(start),
            payable_amount: None,
        })
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        Gateway::parse_callback(&self.parser, request)
    }

    async fn verify(&self, state: &OrderState, _: &CallbackData) -> Result<Verified, Error> {
        let mut verified = Verified::new();
        verified.order_id = Some(state.order_id().to_string());
        verified.amount = Some(state.amount());
        verified.bank_reference = Some("638060399619297999".into());
        verified.card_mask = Some("6104-33**-****-6047".into());
        Ok(verified)
    }
}

fn payments() -> Payments {
    let keys = KeyRing::new(SigningKey::new(1, vec![7; 32]).unwrap());
    Payments::builder("https://shop.example", keys)
        .gateway(InstantNovinPal {
            parser: NovinPal::new("k"),
            next: AtomicU64::new(1),
        })
        .build()
        .unwrap()
}

/// `n` started payments as the callbacks their buyers bring back: the query string and
/// the `Cookie` header.
fn started(
    runtime: &tokio::runtime::Runtime,
    payments: &Payments,
    n: u64,
) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let order = Order::new(format!("order-{i}").parse().unwrap(), Rial::new(120_000));
            let started = runtime
                .block_on(payments.start(GatewayId::NovinPal, &order))
                .unwrap();
            let query = format!(
                "refId={}&success=1&code=100&invoiceNumber=order-{i}&amount=120000",
                started.gateway_ref()
            );
            let cookie = started.cookie();
            (query, format!("{}={}", cookie.name, cookie.value))
        })
        .collect()
}

fn pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("pipeline");
    group.bench_function("novinpal_handle_callback", |b| {
        // A fresh service per sample, so the replay guard holds only that sample's
        // payments; each iteration is a distinct paid payment, as in production.
        b.iter_custom(|iters| {
            let payments = payments();
            let callbacks = started(&runtime, &payments, iters);
            let began = Instant::now();
            for (query, cookie) in &callbacks {
                let request = CallbackRequest::from_get(query)
                    .unwrap()
                    .with_cookie_header(cookie);
                let result =
                    runtime.block_on(payments.handle_callback(GatewayId::NovinPal, &request));
                debug_assert!(result.outcome.is_ok(), "{:?}", result.outcome);
                black_box(result);
            }
            began.elapsed()
        })
    });
    let payments = payments();
    let order = Order::new("order-1".parse().unwrap(), Rial::new(120_000));
    group.bench_function("novinpal_start", |b| {
        b.iter(|| {
            runtime
                .block_on(payments.start(GatewayId::NovinPal, black_box(&order)))
                .unwrap()
        })
    });
    group.finish();

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Callback {
        #[serde(rename = "refId")]
        ref_id: String,
    }
    let mut group = c.benchmark_group("baseline");
    let query = "refId=509744199&success=1&code=100&invoiceNumber=order-1&amount=120000";
    group.bench_function("novinpal_read_query", |b| {
        b.iter(|| serde_urlencoded::from_str::<Callback>(black_box(query)).unwrap())
    });
    group.finish();
}

/// One payment's claim and completion in the in-memory replay guard, empty and holding
/// 250,000 completed payments (two days of a shop taking one payment every 0.7 s: the
/// guard keeps completed keys for the state lifetime or the pending window plus a day).
fn replay_guard(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let lease = Duration::from_secs(120);
    let keep = Duration::from_secs(2 * 24 * 3600);
    let mut group = c.benchmark_group("replay_guard");
    group.sample_size(20);
    for held in [0u64, 250_000] {
        group.bench_function(format!("claim_complete_holding_{held}"), |b| {
            // A fresh guard per sample, filled with `held` completed payments.
            b.iter_custom(|iters| {
                let guard = MemoryReplayGuard::new();
                let keys: Vec<String> =
                    (0..held + iters).map(|i| format!("novinpal:{i}")).collect();
                runtime.block_on(async {
                    for key in &keys[..held as usize] {
                        let Ok(Claim::Acquired(ticket)) = guard.claim(key, lease).await else {
                            unreachable!()
                        };
                        guard.complete(&ticket, keep).await.unwrap();
                    }
                    let began = Instant::now();
                    for key in &keys[held as usize..] {
                        let Ok(Claim::Acquired(ticket)) = guard.claim(key, lease).await else {
                            unreachable!()
                        };
                        guard.complete(&ticket, keep).await.unwrap();
                    }
                    began.elapsed()
                })
            })
        });
    }
    // A guard holding `held` completed payments (filled once), then claims of fresh
    // payments released again, so the table keeps its size however many iterations run:
    // released claims touch the table as completed ones do. With 32 in flight, each
    // release comes 32 claims after its own claim, as on a server with 32 connections.
    for held in [1_000u64, 1_000_000] {
        let guard = MemoryReplayGuard::new();
        runtime.block_on(async {
            for i in 0..held {
                let key = format!("novinpal:held:{i}");
                let Ok(Claim::Acquired(ticket)) = guard.claim(&key, lease).await else {
                    unreachable!()
                };
                guard.complete(&ticket, keep).await.unwrap();
            }
        });
        let next = AtomicU64::new(0);
        for window in [0usize, 32] {
            group.bench_function(
                format!("claim_release_in_flight_{window}_holding_{held}"),
                |b| {
                    b.iter_custom(|iters| {
                        let first = next.fetch_add(iters, Ordering::Relaxed);
                        let keys: Vec<String> = (first..first + iters)
                            .map(|i| format!("novinpal:{i}"))
                            .collect();
                        runtime.block_on(async {
                            let mut in_flight =
                                std::collections::VecDeque::with_capacity(window + 1);
                            let began = Instant::now();
                            for key in &keys {
                                let Ok(Claim::Acquired(ticket)) = guard.claim(key, lease).await
                                else {
                                    unreachable!()
                                };
                                in_flight.push_back(ticket);
                                if in_flight.len() > window
                                    && let Some(done) = in_flight.pop_front()
                                {
                                    guard.release(&done).await.unwrap();
                                }
                            }
                            for done in in_flight {
                                guard.release(&done).await.unwrap();
                            }
                            began.elapsed()
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = callbacks, verify_decode, pipeline, replay_guard
}
criterion_main!(benches);
