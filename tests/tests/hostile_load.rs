//! A bounded hostile load on loopback: the axum router with the sandbox as gateway, hit at
//! once by honest buyers (each returning twice) and by forged, tampered, cookieless,
//! order-swapped, amount-swapped and garbage callbacks aimed at orders nobody paid.
//!
//! Asserted: every honest payment is fulfilled exactly once, no unpaid order is ever
//! fulfilled, the app never answers 5xx, and nothing panics.
//!
//! `PAYMENT_LOAD_PAYMENTS` sets the number of honest payments (default 100, about
//! 1,000 requests); `PAYMENT_LOAD_PAYMENTS=3000` makes some 30,000.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use payment_core::GatewayId;
use payment_e2e::{
    apps::axum::AxumRouter,
    buyer::{Answer, Buyer, Cookie, act, with_field},
    harness::Env,
    scenarios::{CHEAP, DEAR, amount_field, order_field, order_id, reference_field, start},
};
use payment_sandbox::{Action, CallbackInstruction};
use tokio::sync::Semaphore;

const CONCURRENCY: usize = 64;
const TIME_CAP: Duration = Duration::from_secs(240);

struct Honest {
    gateway: GatewayId,
    order: String,
    jar: Vec<Cookie>,
    callback: CallbackInstruction,
}

struct Unpaid {
    order: String,
    jar: Vec<Cookie>,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Honest,
    Forged,
    Swapped,
    AmountSwapped,
    Tampered,
    Cookieless,
    Garbage,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_mix_fulfils_every_honest_payment_once_and_nothing_else() {
    let honest_count: usize = std::env::var("PAYMENT_LOAD_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    tokio::time::timeout(TIME_CAP, run(honest_count))
        .await
        .expect("the load test finished within its time cap");
}

async fn run(honest_count: usize) {
    let env = Arc::new(Env::start::<AxumRouter>().await);
    let started = Instant::now();

    // Honest buyers who paid, and orders that were started but never paid.
    let mut honest = Vec::new();
    let mut unpaid = Vec::new();
    for gateway in GatewayId::ALL.iter().cycle().take(honest_count) {
        let mut buyer = Buyer::new(&env);
        let order = order_id("load");
        start(&env, &mut buyer, *gateway, &order, CHEAP).await;
        let callback = act(&env, *gateway, &order, Action::Pay);
        honest.push(Arc::new(Honest {
            gateway: *gateway,
            order,
            jar: buyer.jar.clone(),
            callback,
        }));
        let mut victim = Buyer::new(&env);
        let order = order_id("idle");
        start(&env, &mut victim, *gateway, &order, DEAR).await;
        unpaid.push(Arc::new(Unpaid {
            order,
            jar: victim.jar.clone(),
        }));
    }
    let prepared = started.elapsed();

    // The storm: every request at once, CONCURRENCY in flight.
    let mut plan: Vec<(Kind, usize)> = Vec::new();
    for i in 0..honest_count {
        plan.push((Kind::Honest, i));
        plan.push((Kind::Honest, i));
        for kind in [
            Kind::Forged,
            Kind::Swapped,
            Kind::AmountSwapped,
            Kind::Tampered,
            Kind::Cookieless,
            Kind::Garbage,
        ] {
            plan.push((kind, i));
        }
    }
    // A fixed shuffle, so that runs are comparable.
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    for i in (1..plan.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        plan.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let requests = Arc::new(AtomicUsize::new(0));
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for (kind, i) in plan {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (env, honest, unpaid, requests) = (
            env.clone(),
            honest[i].clone(),
            unpaid[i].clone(),
            requests.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let answer = send(&env, kind, &honest, &unpaid).await;
            requests.fetch_add(1, Ordering::Relaxed);
            drop(permit);
            (kind, answer.status, answer.body)
        }));
    }
    for task in tasks {
        let (kind, status, body) = task.await.expect("no request task panicked");
        assert!(status < 500, "{kind:?} got {status}: {body}");
        if !matches!(kind, Kind::Honest) {
            assert_ne!(status, 200, "{kind:?} was answered as paid: {body}");
        }
    }
    let storm = started.elapsed() - prepared;

    // Buyers whose returns all met "being processed" reload once more, as the page asks.
    for payment in &honest {
        if env.log.paid_for(&payment.order) == 0 {
            let mut buyer = Buyer::new(&env);
            let answer = buyer.return_with(&payment.callback, &payment.jar).await;
            assert_eq!(answer.status, 200, "{}: {}", payment.order, answer.body);
        }
    }

    for payment in &honest {
        assert_eq!(env.log.paid_for(&payment.order), 1, "{}", payment.order);
    }
    for order in &unpaid {
        assert_eq!(
            env.log.paid_for(&order.order),
            0,
            "{} was fulfilled",
            order.order
        );
    }
    assert_eq!(env.log.paid().len(), honest_count);
    eprintln!(
        "hostile load: {} payments prepared in {prepared:?}; {} requests in {storm:?}",
        honest_count,
        requests.load(Ordering::Relaxed)
    );
}

async fn send(env: &Env, kind: Kind, honest: &Honest, unpaid: &Unpaid) -> Answer {
    let gateway = honest.gateway;
    let mut buyer = Buyer::new(env);
    match kind {
        Kind::Honest => buyer.return_with(&honest.callback, &honest.jar).await,
        // A "paid" callback made up for the unpaid order, shaped like a real one.
        Kind::Forged => {
            let txn = env.transaction(gateway, &unpaid.order);
            let reference = match gateway {
                GatewayId::Inopal | GatewayId::GardeshPay => {
                    txn.reference.unwrap_or_else(|| "4242424242".into())
                }
                _ => txn.key,
            };
            let forged = with_field(&honest.callback, order_field(gateway), &unpaid.order);
            let forged = with_field(&forged, reference_field(gateway), &reference);
            buyer.return_with(&forged, &unpaid.jar).await
        }
        // The honest payment's callback, renamed to the unpaid order, with its cookie.
        Kind::Swapped => {
            let swapped = with_field(&honest.callback, order_field(gateway), &unpaid.order);
            buyer.return_with(&swapped, &unpaid.jar).await
        }
        Kind::AmountSwapped => match amount_field(gateway) {
            Some(field) => {
                let swapped = with_field(&honest.callback, field, &DEAR.to_string());
                let swapped = with_field(&swapped, order_field(gateway), &unpaid.order);
                buyer.return_with(&swapped, &unpaid.jar).await
            }
            None => buyer.return_with(&honest.callback, &unpaid.jar).await,
        },
        Kind::Tampered => {
            let (name, value) = unpaid.jar[0].clone();
            let mut forged: Vec<char> = value.chars().collect();
            let mid = forged.len() / 3;
            forged[mid] = if forged[mid] == 'x' { 'y' } else { 'x' };
            let cookie = vec![(name, forged.into_iter().collect())];
            let swapped = with_field(&honest.callback, order_field(gateway), &unpaid.order);
            buyer.return_with(&swapped, &cookie).await
        }
        Kind::Cookieless => {
            let swapped = with_field(&honest.callback, order_field(gateway), &unpaid.order);
            buyer.return_with(&swapped, &[]).await
        }
        Kind::Garbage => {
            let mut garbage = honest.callback.clone();
            garbage.fields = vec![
                ("\u{0}".into(), "%%%".repeat(50)),
                ("amount".into(), "-1".into()),
            ];
            garbage.url = format!(
                "{}/shop/pay/callback/{}?x=%FF%FE&amount=1e9",
                env.app_base,
                gateway.as_str()
            );
            buyer.return_with(&garbage, &unpaid.jar).await
        }
    }
}
