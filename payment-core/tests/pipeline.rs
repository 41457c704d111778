//! The callback pipeline, driven through the public API with a scripted gateway: every
//! way a callback can be wrong, and the pending → retry path.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::scripted::{Scripted, keys, paid, timeout};
use payment_core::{
    CallbackRequest, ConfigError, Error, FailedPayment, GatewayId, NotPaid, Order, Payments,
    PendingPayment, Rejection, Rial, SigningKey,
    clock::ManualClock,
    error::{CallbackError, GatewayCode, GatewayError, Operation, StateError},
    gateways::novinpal::NovinPalCode,
    outcome::{FailureReason, Outcome},
    reply::CallbackResult,
    state::StateCodec,
    time::Duration,
};

/// The form field that marks a callback the library re-posted itself.
const RESUBMIT_FIELD: &str = "_payment_resubmit";

/// The rejection `outcome` is; anything else fails the test.
fn rejection(outcome: &Outcome) -> &Rejection {
    match outcome {
        Err(NotPaid::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

struct Shop {
    payments: Payments,
    gateway: Scripted,
    clock: ManualClock,
}

fn shop() -> Shop {
    let gateway = Scripted::default();
    let clock = ManualClock::starting_now();
    let payments = Payments::builder("http://localhost:3000", keys(42))
        .mount_path("/shop/pay")
        .gateway(gateway.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Shop {
        payments,
        gateway,
        clock,
    }
}

/// A started payment: the cookie pair the browser would send back.
struct Started {
    cookie: (String, String),
    reference: String,
}

async fn start(shop: &Shop, order_id: &str, amount: u64) -> Started {
    let order = Order::new(order_id.parse().unwrap(), Rial::new(amount));
    let started = shop
        .payments
        .start(GatewayId::NovinPal, &order)
        .await
        .unwrap();
    let cookie = started.cookie();
    assert_eq!(cookie.path, "/shop/pay/callback");
    assert!(cookie.http_only);
    assert!(!cookie.secure, "plain-http development origin");
    // One cookie per order: the prefix and the first six bytes of the state's nonce.
    let state = StateCodec::new(keys(42))
        .open_ignoring_expiry(&cookie.value, &cookie.name)
        .unwrap();
    let nonce_hex: String = state.nonce()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(cookie.name, format!("pay_novinpal_{nonce_hex}"));
    assert_eq!(
        shop.gateway.callback_urls.lock().unwrap().last().unwrap(),
        "http://localhost:3000/shop/pay/callback/novinpal"
    );
    Started {
        cookie: (cookie.name.clone(), cookie.value.clone()),
        reference: started.gateway_ref().to_owned(),
    }
}

fn get(query: &str, cookies: &[&(String, String)]) -> CallbackRequest {
    let mut req = CallbackRequest::from_get(query).unwrap();
    for (k, v) in cookies {
        req = req.with_cookie(k.clone(), v.clone());
    }
    req
}

fn query(s: &Started, order: &str, amount: u64) -> String {
    format!("ref={}&order={order}&amount={amount}&ok=1", s.reference)
}

async fn callback(shop: &Shop, req: &CallbackRequest) -> CallbackResult {
    shop.payments
        .handle_callback(GatewayId::NovinPal, req)
        .await
}

#[tokio::test]
async fn paid_callback_yields_receipt_from_state_and_clears_cookie() {
    let shop = shop();
    let s = start(&shop, "A-1", 120_000).await;
    let result = callback(&shop, &get(&query(&s, "A-1", 120_000), &[&s.cookie])).await;
    let Ok(receipt) = &result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(receipt.order_id().as_str(), "A-1");
    assert_eq!(receipt.amount(), Rial::new(120_000));
    assert_eq!(receipt.gateway_ref(), "ref-A-1");
    assert_eq!(receipt.bank_reference(), Some("638060399619297999"));
    assert_eq!(shop.gateway.calls(), 1);
    assert_eq!(result.cookies.len(), 1);
    assert_eq!(result.cookies[0].name, s.cookie.0);
    assert!(result.cookies[0].is_removal());
}

#[tokio::test]
async fn amount_swap_is_rejected_without_verify() {
    // The buyer starts a dear order and a cheap one, pays the cheap one, and presents the
    // cheap payment's callback with the dear order's state.
    let shop = shop();
    let dear = start(&shop, "DEAR", 9_000_000).await;
    let cheap = start(&shop, "CHEAP", 10_000).await;
    let swapped = get(&query(&cheap, "CHEAP", 10_000), &[&dear.cookie]);
    let result = callback(&shop, &swapped).await;
    assert_eq!(rejection(&result.outcome), &Rejection::ForeignState);
    // Same reference as the dear state but the cheap amount in the callback.
    let lying = get(&query(&dear, "DEAR", 10_000), &[&dear.cookie]);
    let result = callback(&shop, &lying).await;
    assert_eq!(rejection(&result.outcome), &Rejection::AmountMismatch);
    assert_eq!(shop.gateway.calls(), 0);
}

#[tokio::test]
async fn amount_reported_by_verify_must_match_the_state() {
    let shop = shop();
    let s = start(&shop, "A-2", 500_000).await;
    shop.gateway.then(Ok(paid("A-2", 10_000)));
    let result = callback(
        &shop,
        &get(&format!("ref={}&ok=1", s.reference), &[&s.cookie]),
    )
    .await;
    assert_eq!(rejection(&result.outcome), &Rejection::AmountMismatch);
    // Rejected verifies release the claim: the genuine outcome can still be had.
    let result = callback(
        &shop,
        &get(&format!("ref={}&ok=1", s.reference), &[&s.cookie]),
    )
    .await;
    assert!(result.outcome.is_ok(), "{:?}", result.outcome);
}

#[tokio::test]
async fn order_mismatch_is_rejected() {
    let shop = shop();
    let s = start(&shop, "A-3", 50_000).await;
    let result = callback(&shop, &get(&query(&s, "OTHER", 50_000), &[&s.cookie])).await;
    assert_eq!(rejection(&result.outcome), &Rejection::OrderMismatch);
    shop.gateway.then(Ok(paid("OTHER", 50_000)));
    let result = callback(
        &shop,
        &get(&format!("ref={}&ok=1", s.reference), &[&s.cookie]),
    )
    .await;
    assert_eq!(
        rejection(&result.outcome),
        &Rejection::VerifiedOrderMismatch
    );
}

#[tokio::test]
async fn replayed_callback_is_rejected_and_never_fulfilled_twice() {
    let shop = shop();
    let s = start(&shop, "A-4", 50_000).await;
    let req = get(&query(&s, "A-4", 50_000), &[&s.cookie]);
    let first = callback(&shop, &req).await.outcome;
    assert!(first.is_ok(), "{first:?}");
    let again = callback(&shop, &req).await;
    assert_eq!(rejection(&again.outcome), &Rejection::Replay);
    assert_eq!(again.http_status(), 409);
    // A "cancelled" callback replayed later must not downgrade the paid order either.
    let cancel = get(&format!("ref={}&ok=0", s.reference), &[&s.cookie]);
    assert_eq!(
        rejection(&callback(&shop, &cancel).await.outcome),
        &Rejection::Replay
    );
    assert_eq!(shop.gateway.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_callbacks_fulfil_once() {
    let shop = Arc::new(shop());
    let s = start(&shop, "A-5", 70_000).await;
    let req = get(&query(&s, "A-5", 70_000), &[&s.cookie]);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (shop, req) = (shop.clone(), req.clone());
        tasks.push(tokio::spawn(
            async move { callback(&shop, &req).await.outcome },
        ));
    }
    let mut paid = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => paid += 1,
            Err(NotPaid::Rejected(Rejection::Replay | Rejection::InProgress)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(paid, 1);
}

#[tokio::test]
async fn timeout_is_pending_keeps_the_cookie_and_retry_succeeds_once() {
    let shop = shop();
    let s = start(&shop, "A-6", 80_000).await;
    shop.gateway.then(Err(timeout()));
    let req = get(&query(&s, "A-6", 80_000), &[&s.cookie]);
    let result = callback(&shop, &req).await;
    let Err(NotPaid::Pending(pending)) = result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(pending.order_id.as_str(), "A-6");
    assert_eq!(pending.amount, Rial::new(80_000));
    assert!(result.cookies.is_empty(), "the state stays usable");

    // The first verify went through at the gateway; its answer was lost. The retry hears
    // "verified before", which still fulfils — once.
    let mut again = paid("A-6", 80_000);
    again.already_verified = true;
    shop.gateway.then(Ok(again));
    // The pending payment survives storage as JSON.
    let stored = serde_json::to_string(&pending).unwrap();
    let pending: PendingPayment = serde_json::from_str(&stored).unwrap();
    let retried = shop.payments.retry(&pending).await;
    assert!(retried.is_ok(), "{retried:?}");
    assert_eq!(
        rejection(&shop.payments.retry(&pending).await),
        &Rejection::Replay
    );
    // The buyer refreshing the callback page after that is a replay too.
    assert_eq!(
        rejection(&callback(&shop, &req).await.outcome),
        &Rejection::Replay
    );
    assert_eq!(shop.gateway.calls(), 2);
}

#[tokio::test]
async fn transient_gateway_code_is_pending_and_final_refusal_is_failed() {
    let shop = shop();
    let s = start(&shop, "A-7", 80_000).await;
    let refusal = |code| {
        Err(Error::Gateway(GatewayError {
            gateway: GatewayId::NovinPal,
            operation: Operation::Verify,
            code: GatewayCode::NovinPal(code),
            http_status: Some(200),
            message: None,
        }))
    };
    shop.gateway.then(refusal(NovinPalCode::ServerError));
    shop.gateway.then(refusal(NovinPalCode::Failed));
    let req = get(&query(&s, "A-7", 80_000), &[&s.cookie]);
    assert!(matches!(
        callback(&shop, &req).await.outcome,
        Err(NotPaid::Pending(_))
    ));
    let result = callback(&shop, &req).await;
    let Err(NotPaid::Failed(failed)) = &result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert!(
        matches!(&failed.reason, FailureReason::Declined(e) if e.code == GatewayCode::NovinPal(NovinPalCode::Failed))
    );
    assert_eq!(result.http_status(), 402);
    assert!(result.cookies.iter().any(|c| c.is_removal()));
}

#[tokio::test]
async fn cancelled_callback_fails_without_verify() {
    let shop = shop();
    let s = start(&shop, "A-8", 80_000).await;
    let result = callback(
        &shop,
        &get(&format!("ref={}&ok=0", s.reference), &[&s.cookie]),
    )
    .await;
    assert!(matches!(
        result.outcome,
        Err(NotPaid::Failed(FailedPayment {
            reason: FailureReason::NotPaid { .. },
            ..
        }))
    ));
    assert_eq!(shop.gateway.calls(), 0);
}

#[tokio::test]
async fn missing_cookie_is_rejected_on_get_and_resubmitted_once_on_post() {
    let shop = shop();
    let s = start(&shop, "A-9", 80_000).await;
    let result = callback(&shop, &get(&query(&s, "A-9", 80_000), &[])).await;
    assert_eq!(rejection(&result.outcome), &Rejection::MissingState);

    // A cross-site POST arrives without the Lax cookie: re-post from our own origin.
    let body = query(&s, "A-9", 80_000);
    let post = CallbackRequest::from_post("", body.as_bytes()).unwrap();
    let result = callback(&shop, &post).await;
    let Err(NotPaid::Resubmit(form)) = &result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(form.action, "/shop/pay/callback/novinpal");
    assert!(form.fields.contains(&("order".into(), "A-9".into())));
    assert!(form.fields.contains(&(RESUBMIT_FIELD.into(), "1".into())));
    // The library's own answer is the page that posts the form again, at once.
    let reply = result.reply();
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .body
            .contains("method=\"POST\" action=\"/shop/pay/callback/novinpal\"")
    );

    // The re-post without a cookie again is refused, not looped.
    let mut again: Vec<(String, String)> = form.fields.clone();
    let body = serde_urlencoded::to_string(&again).unwrap();
    let repost = CallbackRequest::from_post("", body.as_bytes()).unwrap();
    let result = callback(&shop, &repost).await;
    assert_eq!(rejection(&result.outcome), &Rejection::MissingState);

    // With the cookie the re-post completes the payment.
    again.retain(|(k, _)| k != "unused");
    let with_cookie = CallbackRequest::from_post("", body.as_bytes())
        .unwrap()
        .with_cookie(s.cookie.0.clone(), s.cookie.1.clone());
    assert!(callback(&shop, &with_cookie).await.outcome.is_ok());
}

#[tokio::test]
async fn resubmit_action_is_always_a_local_path() {
    let shop = shop();
    let post = CallbackRequest::from_post("x=1", b"ref=r&ok=1").unwrap();
    let result = callback(&shop, &post).await;
    let Err(NotPaid::Resubmit(form)) = result.outcome else {
        panic!("{:?}", result.outcome)
    };
    assert_eq!(form.action, "/shop/pay/callback/novinpal?x=1");
    // A request at a path of its own choosing is refused before it is read, so that path
    // never becomes the form's action.
    let result = shop
        .payments
        .handle_request("//evil.example/steal", None, async { Ok(post.clone()) })
        .await;
    assert!(matches!(
        rejection(&result.outcome),
        Rejection::Misconfigured(_)
    ));
}

#[tokio::test]
async fn tampered_cookie_is_rejected_and_removed() {
    let shop = shop();
    let s = start(&shop, "A-10", 80_000).await;
    let mut value = s.cookie.1.clone().into_bytes();
    let mid = value.len() / 2;
    value[mid] = if value[mid] == b'A' { b'B' } else { b'A' };
    let tampered = (s.cookie.0.clone(), String::from_utf8(value).unwrap());
    let result = callback(&shop, &get(&query(&s, "A-10", 80_000), &[&tampered])).await;
    assert!(matches!(
        rejection(&result.outcome),
        Rejection::TamperedState(StateError::BadSignature | StateError::Malformed)
    ));
    assert_eq!(result.http_status(), 403);
    assert!(
        result
            .cookies
            .iter()
            .any(|c| c.name == s.cookie.0 && c.is_removal())
    );
    assert_eq!(shop.gateway.calls(), 0);
}

#[tokio::test]
async fn state_signed_with_another_key_is_rejected() {
    let shop = shop();
    let other = Payments::builder("http://localhost:3000", keys(7))
        .mount_path("/shop/pay")
        .gateway(Scripted::default())
        .build()
        .unwrap();
    let order = Order::new("A-11".parse().unwrap(), Rial::new(10_000));
    let forged = other.start(GatewayId::NovinPal, &order).await.unwrap();
    let cookie = (forged.cookie().name.clone(), forged.cookie().value.clone());
    let result = callback(&shop, &get("ref=ref-A-11&ok=1", &[&cookie])).await;
    assert_eq!(
        rejection(&result.outcome),
        &Rejection::TamperedState(StateError::BadSignature)
    );
}

#[tokio::test]
async fn expired_state_is_rejected() {
    let shop = shop();
    let s = start(&shop, "A-12", 80_000).await;
    shop.clock.advance(Duration::minutes(31));
    let result = callback(&shop, &get(&query(&s, "A-12", 80_000), &[&s.cookie])).await;
    assert_eq!(rejection(&result.outcome), &Rejection::ExpiredState);
    assert_eq!(shop.gateway.calls(), 0);
}

#[tokio::test]
async fn two_tabs_keep_two_states() {
    let shop = shop();
    let a = start(&shop, "TAB-A", 10_000).await;
    let b = start(&shop, "TAB-B", 20_000).await;
    assert_ne!(a.cookie.0, b.cookie.0);
    let both = [&a.cookie, &b.cookie];
    let rb = callback(&shop, &get(&query(&b, "TAB-B", 20_000), &both)).await;
    let receipt = rb.outcome.as_ref().ok().unwrap();
    assert_eq!(receipt.order_id().as_str(), "TAB-B");
    let ra = callback(&shop, &get(&query(&a, "TAB-A", 10_000), &both)).await;
    let receipt = ra.outcome.as_ref().ok().unwrap();
    assert_eq!(receipt.amount(), Rial::new(10_000));
}

#[tokio::test]
async fn malformed_callback_and_unknown_gateway_are_rejected() {
    let shop = shop();
    let result = callback(&shop, &get("ok=1", &[])).await;
    assert_eq!(
        rejection(&result.outcome),
        &Rejection::MalformedCallback(CallbackError::MissingField("ref"))
    );
    let result = shop
        .payments
        .handle_callback(GatewayId::IdPay, &get("", &[]))
        .await;
    assert_eq!(rejection(&result.outcome), &Rejection::UnknownGateway);
    assert_eq!(result.http_status(), 404);
}

#[tokio::test]
async fn secure_cookie_follows_the_public_scheme_and_callback_url_the_mount() {
    let gateway = Scripted::default();
    let payments = Payments::builder("https://shop.example/store/", keys(1))
        .mount_path("checkout/pay/")
        .gateway(gateway.clone())
        .build()
        .unwrap();
    assert_eq!(
        payments.callback_url(GatewayId::NovinPal).as_str(),
        "https://shop.example/store/checkout/pay/callback/novinpal"
    );
    let order = Order::new("S-1".parse().unwrap(), Rial::new(10_000));
    let started = payments.start(GatewayId::NovinPal, &order).await.unwrap();
    assert!(started.cookie().secure);
    assert_eq!(started.cookie().path, "/store/checkout/pay/callback");
    assert_eq!(
        gateway.callback_urls.lock().unwrap().as_slice(),
        ["https://shop.example/store/checkout/pay/callback/novinpal"]
    );
}

#[test]
fn weak_key_and_bad_url_are_startup_errors() {
    // A ring cannot be made without a key, and a key must have 32 bytes.
    assert_eq!(
        SigningKey::new(1, vec![42; 31]).unwrap_err(),
        ConfigError::WeakSigningKey { key_id: 1, len: 31 }
    );
    let err = Payments::builder("ftp://x", keys(42))
        .gateway(Scripted::default())
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::InvalidUrl {
            what: "public base URL"
        }
    );
    assert!(
        Payments::builder("not a url", keys(42))
            .gateway(Scripted::default())
            .build()
            .is_err()
    );
}
