//! The scenarios every app must pass, for every gateway. The axum and actix suites call
//! these same functions (through [`crate::scenario_tests!`]); only the app differs.

use std::sync::atomic::{AtomicU32, Ordering};

use payment_core::{GatewayId, Rejection};
use payment_sandbox::{Action, Call, Fault, FaultSpec};

use crate::{
    buyer::{Buyer, act, with_field},
    harness::{Claims, Env, Flavor, sandbox_gateway},
};

/// A cheap order and an expensive one, both within every gateway's limits.
pub const CHEAP: u64 = 50_000;
pub const DEAR: u64 = 9_000_000;

/// A fresh order id: letters and digits only (Inopal accepts nothing else).
pub fn order_id(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{tag}{}n{nanos}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The callback field that names the shop's order (Zarinpal's callback names none: its
/// `Authority` is all that ties it to an order).
pub fn order_field(gateway: GatewayId) -> &'static str {
    match gateway {
        GatewayId::IdPay | GatewayId::Inopal => "order_id",
        GatewayId::NovinPal | GatewayId::GardeshPay => "invoiceNumber",
        GatewayId::CanPay => "invoice_id",
        GatewayId::Zarinpal => "Authority",
        GatewayId::Zibal => "orderId",
        other => panic!("no callback fields known for {other}"),
    }
}

/// The callback field that names the gateway's payment.
pub fn reference_field(gateway: GatewayId) -> &'static str {
    match gateway {
        GatewayId::IdPay => "id",
        GatewayId::NovinPal => "refId",
        GatewayId::Inopal => "ref_num",
        GatewayId::CanPay => "token",
        GatewayId::GardeshPay => "trackingNumber",
        GatewayId::Zarinpal => "Authority",
        GatewayId::Zibal => "trackId",
        other => panic!("no callback fields known for {other}"),
    }
}

/// The callback field that states an amount, where the gateway sends one.
pub fn amount_field(gateway: GatewayId) -> Option<&'static str> {
    match gateway {
        GatewayId::IdPay | GatewayId::NovinPal | GatewayId::CanPay => Some("amount"),
        _ => None,
    }
}

/// Starts a payment and checks the answer: a redirect to the gateway (or, for Inopal, an
/// auto-submitting POST form) with a narrow, HttpOnly, SameSite=Lax state cookie.
pub async fn start(env: &Env, buyer: &mut Buyer, gateway: GatewayId, order: &str, amount: u64) {
    let answer = buyer.start(gateway, order, amount).await;
    let sandbox = env.sandbox.base_url_for(sandbox_gateway(gateway));
    if gateway == GatewayId::Inopal {
        assert_eq!(answer.status, 200, "{}", answer.body);
        let (action, fields) = crate::buyer::auto_submit_form(&answer.body).expect("a form");
        assert_eq!(action, format!("{sandbox}/api/pardakht/payment"));
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].0, "token");
    } else {
        assert_eq!(answer.status, 302, "{}", answer.body);
        let location = answer.headers["location"].to_str().unwrap();
        assert!(
            location.starts_with(&sandbox),
            "{location} is not at {sandbox}"
        );
    }
    let cookie = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("pay_{}_", gateway.as_str())))
        .expect("a state cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/shop/pay/callback"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let txn = env.transaction(gateway, order);
    assert_eq!(txn.amount, amount);
    assert!(txn.callback_url.starts_with(&format!(
        "{}/shop/pay/callback/{}",
        env.app_base,
        gateway.as_str()
    )));
}

pub async fn paid<F: Flavor>(gateway: GatewayId) {
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("paid");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let callback = act(&env, gateway, &order, Action::Pay);
    let answer = buyer.return_to_shop(&callback).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let receipts = env.log.paid();
    assert_eq!(receipts.len(), 1);
    let receipt = &receipts[0];
    let txn = env.transaction(gateway, &order);
    assert_eq!(receipt.gateway(), gateway);
    assert_eq!(receipt.order_id().as_str(), order);
    assert_eq!(receipt.amount().get(), CHEAP);
    let expected_ref = match gateway {
        GatewayId::Inopal => txn.reference.clone().expect("ref_num"),
        _ => txn.key.clone(),
    };
    assert_eq!(receipt.gateway_ref(), expected_ref);
    assert!(receipt.bank_reference().is_some() || gateway == GatewayId::Inopal);
    assert_eq!(txn.successful_verifies, 1, "{txn:?}");
    assert_eq!(txn.state.name(), "verified");
    assert!(
        buyer.jar.is_empty(),
        "the used state cookie is removed: {:?}",
        buyer.jar
    );
}

pub async fn cancelled<F: Flavor>(gateway: GatewayId) {
    for action in [Action::Cancel, Action::BankFail] {
        let env = Env::start::<F>().await;
        let mut buyer = Buyer::new(&env);
        let order = order_id("cancel");
        start(&env, &mut buyer, gateway, &order, CHEAP).await;
        let callback = act(&env, gateway, &order, action);
        let answer = buyer.return_to_shop(&callback).await;
        assert_eq!(answer.status, 402, "{action:?}: {}", answer.body);
        assert!(env.log.paid().is_empty());
        let failed = env.log.failed();
        if gateway == GatewayId::GardeshPay {
            // Its callback names a tracking number the state cannot bind, so a refusal is
            // never final: no failure reaches the app and the state stays.
            assert!(failed.is_empty(), "{action:?}: {failed:?}");
            assert_eq!(env.log.rejected(), [Rejection::UnconfirmedPayment]);
            assert!(!buyer.jar.is_empty(), "{action:?}: the state cookie stays");
        } else {
            assert_eq!(failed.len(), 1, "{action:?}");
            assert_eq!(failed[0].order_id.as_str(), order);
        }
        assert_eq!(env.transaction(gateway, &order).successful_verifies, 0);
    }
}

/// The order id the gateway sees for the second payment of `order`.
pub fn second_invoice_id(gateway: GatewayId, order: &str) -> String {
    match gateway {
        GatewayId::Inopal => format!("{order}R2"),
        _ => format!("{order}-2"),
    }
}

/// A cancelled first payment, then a second payment of the same order that pays: the
/// gateway sees a new order id for it (CanPay, NovinPal and GardeshPay, and the sandbox
/// with them, refuse one they have seen), the receipt names the shop's order. Once with
/// the app counting the attempts, once with a ledger that counts them.
pub async fn second_attempt<F: Flavor>(gateway: GatewayId) {
    for ledger in [false, true] {
        let env = if ledger {
            let store = std::sync::Arc::new(payment_core::ledger::MemoryPaymentStore::new());
            Env::start_with::<F>("127.0.0.1", Claims::Ledger(store)).await
        } else {
            Env::start::<F>().await
        };
        let mut buyer = Buyer::new(&env);
        let order = order_id("again");
        start(&env, &mut buyer, gateway, &order, CHEAP).await;
        let cancelled = act(&env, gateway, &order, Action::Cancel);
        assert_eq!(buyer.return_to_shop(&cancelled).await.status, 402);

        let attempt = if ledger { None } else { Some(2) };
        let again = buyer.start_attempt(gateway, &order, CHEAP, attempt).await;
        assert!(
            matches!(again.status, 200 | 302),
            "ledger {ledger}: {} {}",
            again.status,
            again.body
        );
        let invoice = second_invoice_id(gateway, &order);
        let txn = env.transaction(gateway, &invoice);
        assert_eq!(txn.amount, CHEAP);
        let paid = act(&env, gateway, &invoice, Action::Pay);
        let answer = buyer.return_to_shop(&paid).await;
        assert_eq!(answer.status, 200, "ledger {ledger}: {}", answer.body);
        let receipts = env.log.paid();
        assert_eq!(receipts.len(), 1, "ledger {ledger}");
        assert_eq!(receipts[0].order_id().as_str(), order);
        assert_eq!(
            receipts[0].gateway_ref(),
            match gateway {
                GatewayId::Inopal => env
                    .transaction(gateway, &invoice)
                    .reference
                    .expect("ref_num"),
                _ => txn.key.clone(),
            }
        );
        assert_eq!(env.transaction(gateway, &invoice).successful_verifies, 1);
        assert_eq!(env.transaction(gateway, &order).successful_verifies, 0);
    }
}

/// Someone who knows the order id sends the buyer's browser to the callback route with a
/// reference of their own before the buyer returns: the order is neither failed nor
/// paid, its state stays, and the buyer's real return pays it once.
pub async fn forged_failure<F: Flavor>(gateway: GatewayId) {
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("forged");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let callback = act(&env, gateway, &order, Action::Pay);
    let forged = with_field(&callback, reference_field(gateway), "90000001");
    let answer = buyer.return_to_shop(&forged).await;
    assert!(
        [402, 403].contains(&answer.status),
        "{gateway}: {} {}",
        answer.status,
        answer.body
    );
    assert!(
        env.log.failed().is_empty(),
        "{gateway}: {:?}",
        env.log.failed()
    );
    assert!(env.log.paid().is_empty());
    assert!(!buyer.jar.is_empty(), "{gateway}: the state cookie stays");
    let answer = buyer.return_to_shop(&callback).await;
    assert_eq!(answer.status, 200, "{gateway}: {}", answer.body);
    assert_eq!(env.log.paid_for(&order), 1);
    assert_eq!(env.transaction(gateway, &order).successful_verifies, 1);
}

/// Runs `attack` after a paid-for callback exists, then checks nothing was fulfilled and
/// that the honest return still works exactly once afterwards (the attack left no claim
/// behind), unless `honest_after` is false.
async fn attack<F, A>(gateway: GatewayId, expected: &[u16], honest_after: bool, attack: A)
where
    F: Flavor,
    A: AsyncFnOnce(
        &Env,
        &mut Buyer,
        &payment_sandbox::CallbackInstruction,
        &str,
    ) -> crate::buyer::Answer,
{
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("atk");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let callback = act(&env, gateway, &order, Action::Pay);
    let answer = attack(&env, &mut buyer, &callback, &order).await;
    assert!(
        expected.contains(&answer.status),
        "{gateway}: got {} (expected {expected:?}): {}",
        answer.status,
        answer.body
    );
    assert!(
        env.log.paid().is_empty(),
        "{gateway}: an attack was fulfilled"
    );
    if honest_after {
        let answer = buyer.return_to_shop(&callback).await;
        assert_eq!(answer.status, 200, "{gateway}: {}", answer.body);
        assert_eq!(env.log.paid_for(&order), 1);
    }
}

pub async fn tampered_cookie<F: Flavor>(gateway: GatewayId) {
    attack::<F, _>(
        gateway,
        &[403],
        true,
        async |env, buyer, callback, order| {
            let (name, value) = buyer.last_cookie();
            let mut bytes = value.into_bytes();
            let i = bytes.len() / 2;
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = vec![(name, String::from_utf8(bytes).unwrap())];
            // From another browser: the removal of the bad cookie must not touch the buyer's.
            let answer = Buyer::new(env).return_with(callback, &forged).await;
            let _ = buyer;
            assert_eq!(env.transaction(gateway, order).verify_calls, 0);
            answer
        },
    )
    .await;
}

pub async fn missing_cookie<F: Flavor>(gateway: GatewayId) {
    attack::<F, _>(
        gateway,
        &[400],
        true,
        async |env, buyer, callback, order| {
            let answer = buyer.return_with(callback, &[]).await;
            assert_eq!(env.transaction(gateway, order).verify_calls, 0);
            answer
        },
    )
    .await;
}

/// The buyer comes back with the callback of a payment, but only the state cookie of
/// another (dearer) order started in the same browser.
pub async fn foreign_cookie<F: Flavor>(gateway: GatewayId) {
    attack::<F, _>(
        gateway,
        &[403, 402],
        true,
        async |env, buyer, callback, _order| {
            let dear = order_id("dear");
            start(env, buyer, gateway, &dear, DEAR).await;
            let other = vec![buyer.last_cookie()];
            let answer = buyer.return_with(callback, &other).await;
            assert_eq!(env.transaction(gateway, &dear).successful_verifies, 0);
            answer
        },
    )
    .await;
}

/// The callback of a cheap payment, edited to name a dearer order the buyer also started,
/// sent with both state cookies.
pub async fn order_swapped<F: Flavor>(gateway: GatewayId) {
    attack::<F, _>(
        gateway,
        &[403, 402],
        true,
        async |env, buyer, callback, _order| {
            let dear = order_id("dear");
            start(env, buyer, gateway, &dear, DEAR).await;
            let swapped = with_field(callback, order_field(gateway), &dear);
            let answer = buyer.return_to_shop(&swapped).await;
            assert_eq!(env.transaction(gateway, &dear).successful_verifies, 0);
            answer
        },
    )
    .await;
}

/// The dearer order's callback route, carrying the cheap payment's reference: the buyer
/// pays little and claims the dear order.
pub async fn reference_swapped<F: Flavor>(gateway: GatewayId) {
    attack::<F, _>(
        gateway,
        &[403, 402, 400],
        true,
        async |env, buyer, callback, _order| {
            let dear = order_id("dear");
            start(env, buyer, gateway, &dear, DEAR).await;
            let dear_cookie = vec![buyer.last_cookie()];
            let swapped = with_field(callback, order_field(gateway), &dear);
            let answer = buyer.return_with(&swapped, &dear_cookie).await;
            assert_eq!(env.transaction(gateway, &dear).successful_verifies, 0);
            answer
        },
    )
    .await;
}

/// The callback's amount raised to the dear order's, where the callback states one.
pub async fn amount_swapped<F: Flavor>(gateway: GatewayId) {
    let Some(field) = amount_field(gateway) else {
        // Nothing to swap: this gateway's callback carries no amount, and verify always
        // uses the signed state's amount anyway.
        return;
    };
    attack::<F, _>(
        gateway,
        &[403],
        true,
        async |env, buyer, callback, order| {
            let swapped = with_field(callback, field, &DEAR.to_string());
            let answer = buyer.return_to_shop(&swapped).await;
            assert_eq!(env.transaction(gateway, order).verify_calls, 0);
            answer
        },
    )
    .await;
}

pub async fn replayed<F: Flavor>(gateway: GatewayId) {
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("replay");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let kept = buyer.jar.clone();
    let callback = act(&env, gateway, &order, Action::Pay);
    assert_eq!(buyer.return_to_shop(&callback).await.status, 200);
    // The same request again, with the cookie the shop already removed.
    let again = buyer.return_with(&callback, &kept).await;
    assert_eq!(again.status, 409, "{}", again.body);
    // And a burst of them at once.
    let mut burst = Vec::new();
    for _ in 0..6 {
        let mut b = Buyer::new(&env);
        let callback = callback.clone();
        let kept = kept.clone();
        burst.push(tokio::spawn(async move {
            b.return_with(&callback, &kept).await.status
        }));
    }
    for task in burst {
        assert_eq!(task.await.unwrap(), 409);
    }
    assert_eq!(env.log.paid_for(&order), 1);
}

/// Duplicate callbacks racing each other: exactly one is fulfilled.
pub async fn concurrent_duplicates<F: Flavor>(gateway: GatewayId) {
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("race");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let callback = act(&env, gateway, &order, Action::Pay);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut b = Buyer::new(&env);
        b.jar = buyer.jar.clone();
        let callback = callback.clone();
        tasks.push(tokio::spawn(async move {
            b.return_to_shop(&callback).await.status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(env.log.paid_for(&order), 1);
}

pub async fn expired<F: Flavor>(gateway: GatewayId) {
    attack::<F, _>(
        gateway,
        &[410],
        false,
        async |env, buyer, callback, order| {
            env.clock.advance(payment_core::time::Duration::minutes(31));
            let answer = buyer.return_to_shop(callback).await;
            assert_eq!(env.transaction(gateway, order).verify_calls, 0);
            answer
        },
    )
    .await;
}

/// Verify times out (the gateway did the work; its answer came too late): pending, and
/// the buyer's reload then fulfils exactly once.
pub async fn verify_timeout_then_reload<F: Flavor>(gateway: GatewayId) {
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("slow");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let callback = act(&env, gateway, &order, Action::Pay);
    env.sandbox.handle.set_fault(
        sandbox_gateway(gateway),
        Call::Verify,
        FaultSpec::new(Fault::Delay { ms: 2500 }).times(1),
    );
    let answer = buyer.return_to_shop(&callback).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(env.log.pending().len(), 1);
    assert!(env.log.paid().is_empty());
    assert!(
        !buyer.jar.is_empty(),
        "a pending payment keeps its state cookie"
    );
    let answer = buyer.return_to_shop(&callback).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(env.log.paid_for(&order), 1);
    let again = buyer.return_to_shop(&callback).await;
    assert_ne!(again.status, 200);
    assert_eq!(env.log.paid_for(&order), 1);
}

/// Verify answers 500 (not processed): pending; the app's stored pending payment is then
/// retried through the library, twice at once, and is fulfilled exactly once.
pub async fn verify_5xx_then_retry<F: Flavor>(gateway: GatewayId) {
    let env = Env::start::<F>().await;
    let mut buyer = Buyer::new(&env);
    let order = order_id("err");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let callback = act(&env, gateway, &order, Action::Pay);
    env.sandbox.handle.set_fault(
        sandbox_gateway(gateway),
        Call::Verify,
        FaultSpec::new(Fault::Status { code: 500 }).times(1),
    );
    let answer = buyer.return_to_shop(&callback).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let pending = env.log.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(env.transaction(gateway, &order).successful_verifies, 0);
    let (a, b) = tokio::join!(
        env.payments.retry(&pending[0]),
        env.payments.retry(&pending[0])
    );
    let paid = [&a, &b].iter().filter(|o| o.is_ok()).count();
    assert_eq!(paid, 1, "{a:?} / {b:?}");
    let receipt = [a, b].into_iter().find_map(Result::ok);
    assert_eq!(receipt.unwrap().order_id().as_str(), order);
    assert_eq!(env.transaction(gateway, &order).successful_verifies, 1);
    // The buyer's own reload is now a replay, and the app was never told "paid" by it.
    assert_eq!(buyer.return_to_shop(&callback).await.status, 409);
    assert!(env.log.paid().is_empty());
}

/// One `#[tokio::test]` per scenario and gateway, for an app flavour.
#[macro_export]
macro_rules! scenario_tests {
    ($flavor:ty) => {
        $crate::scenario_tests!(@gateways $flavor;
            paid, cancelled, forged_failure, tampered_cookie, missing_cookie, foreign_cookie, order_swapped,
            reference_swapped, amount_swapped, replayed, concurrent_duplicates, expired,
            verify_timeout_then_reload, verify_5xx_then_retry, second_attempt);
    };
    (@gateways $flavor:ty; $($scenario:ident),+) => {
        $(
            mod $scenario {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn idpay() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::IdPay).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn novinpal() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::NovinPal).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn inopal() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::Inopal).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn canpay() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::CanPay).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn gardeshpay() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::GardeshPay).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn zarinpal() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::Zarinpal).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn zibal() { $crate::scenarios::$scenario::<$flavor>(payment_core::GatewayId::Zibal).await }
            }
        )+
    };
}

/// In headless Chromium, with the shop on `localhost` and the gateway on `127.0.0.1` (two
/// sites, as in production): buy, pay on the gateway's page, and land on the shop's paid
/// answer. For gateways that return by cross-site `POST` this proves the state cookie
/// survives with the default `SameSite=Lax` settings.
pub async fn in_browser<F: Flavor>(gateway: GatewayId) {
    let env = Env::start_on::<F>("localhost").await;
    let browser = crate::browser::Browser::launch().await;
    let order = order_id("web");
    browser
        .goto(&format!(
            "{}/shop/buy/{}?order={order}&amount={CHEAP}",
            env.app_base,
            gateway.as_str()
        ))
        .await;
    browser.wait_for_url(&env.sandbox.base_url).await;
    browser.click("button[value=pay]").await;
    browser.wait_for_url(&env.app_base).await;
    browser.wait_for_text(&format!("paid {order}")).await;
    browser
        .screenshot(&format!("{}-{}-paid", F::NAME, gateway.as_str()))
        .await;
    browser.close().await;
    assert_eq!(env.log.paid_for(&order), 1);
    assert_eq!(env.transaction(gateway, &order).successful_verifies, 1);
}
