//! `PaymentRouter` mounted in an app: hooks, default pages, cookies, the cross-site POST
//! re-post, attacks, pending + retry, nest prefixes and app state.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Body,
    extract::{FromRef, State},
    http::{Method, Request, StatusCode, header},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use common::*;
use payment_axum::{
    PaymentRouter,
    payment_core::{
        CallbackRequest, FailedPayment, GatewayId, NotPaid, Payments, PendingPayment, Receipt,
        Rejection, Rial,
        error::{Operation, StateError, TransportErrorKind},
        outcome::FailureReason,
        time::Duration,
    },
};

/// The form field that marks a callback the library re-posted itself.
const RESUBMIT_FIELD: &str = "_payment_resubmit";

/// Everything the hooks saw.
#[derive(Clone, Default)]
struct Seen {
    paid: Arc<Mutex<Vec<Receipt>>>,
    failed: Arc<Mutex<Vec<FailedPayment>>>,
    pending: Arc<Mutex<Vec<PendingPayment>>>,
    rejected: Arc<Mutex<Vec<Rejection>>>,
}

/// A router whose hooks record what they get and answer with recognisable responses.
fn hooked(payments: &Payments, seen: &Seen) -> PaymentRouter {
    let (paid, failed, pending, rejected) = (
        seen.paid.clone(),
        seen.failed.clone(),
        seen.pending.clone(),
        seen.rejected.clone(),
    );
    PaymentRouter::new(payments.clone())
        .on_paid(move |receipt: Receipt| {
            let paid = paid.clone();
            async move {
                let page = format!("fulfilled {}", receipt.order_id());
                paid.lock().unwrap().push(receipt);
                page
            }
        })
        .on_failed(move |f: FailedPayment| {
            let failed = failed.clone();
            async move {
                failed.lock().unwrap().push(f);
                (StatusCode::PAYMENT_REQUIRED, "hook: not paid")
            }
        })
        .on_pending(move |p: PendingPayment| {
            let pending = pending.clone();
            async move {
                pending.lock().unwrap().push(p);
                (StatusCode::ACCEPTED, "hook: pending")
            }
        })
        .on_rejected(move |r: Rejection| {
            let rejected = rejected.clone();
            async move {
                let status = StatusCode::from_u16(r.http_status()).unwrap();
                rejected.lock().unwrap().push(r);
                (status, "hook: refused")
            }
        })
}

fn cb(order: &str, amount: u64, ok: bool) -> String {
    format!(
        "/pay/callback/novinpal?{}",
        callback_query(order, amount, ok)
    )
}

#[tokio::test]
async fn paid_callback_hands_the_receipt_to_on_paid_and_clears_the_cookie() {
    let shop = shop();
    let seen = Seen::default();
    let app = hooked(&shop.payments, &seen).mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::NovinPal, "A-1", 120_000).await;

    let answer = send(&app, get_req(&cb("A-1", 120_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "fulfilled A-1");
    assert!(answer.removes(&cookie.0), "{:?}", answer.set_cookies());
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");

    let paid = seen.paid.lock().unwrap();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].order_id().as_str(), "A-1");
    assert_eq!(paid[0].amount(), Rial::new(120_000));
    assert_eq!(paid[0].gateway_ref(), "ref-A-1");
    assert_eq!(paid[0].bank_reference(), Some("638060399619297999"));
    assert_eq!(shop.get_gw.verify_calls(), 1);
}

#[tokio::test]
async fn default_answers_are_readable_pages_with_the_outcome_status() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));

    // Paid: 200, the receipt page.
    let cookie = begin(&app, GatewayId::NovinPal, "P-1", 120_000).await;
    let answer = send(&app, get_req(&cb("P-1", 120_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.is_html());
    assert!(answer.body.contains("پرداخت موفق بود") && answer.body.contains("Payment successful"));
    assert!(answer.body.contains("P-1") && answer.body.contains("120,000"));
    assert!(answer.body.contains("638060399619297999"));
    assert!(answer.removes(&cookie.0));

    // Cancelled: 402.
    let cookie = begin(&app, GatewayId::NovinPal, "F-1", 50_000).await;
    let answer = send(&app, get_req(&cb("F-1", 50_000, false), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::PAYMENT_REQUIRED);
    assert!(answer.is_html());
    assert!(
        answer.body.contains("Payment not completed") && answer.body.contains("پرداخت انجام نشد")
    );
    assert!(answer.removes(&cookie.0));

    // Verify timed out: 202, and the state stays (no removal).
    let cookie = begin(&app, GatewayId::NovinPal, "W-1", 50_000).await;
    shop.get_gw.then_verify(Err(transport(
        GatewayId::NovinPal,
        Operation::Verify,
        TransportErrorKind::Timeout,
    )));
    let answer = send(&app, get_req(&cb("W-1", 50_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert!(answer.body.contains("Payment being confirmed"));
    assert!(answer.set_cookies().is_empty());

    // No state cookie on a GET: 400 refused.
    let answer = send(&app, get_req(&cb("W-1", 50_000, true), None)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.is_html());
    assert!(answer.body.contains("Request refused") && answer.body.contains("درخواست نامعتبر"));
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn hooks_receive_failed_pending_and_rejected_and_keep_the_cookies() {
    let shop = shop();
    let seen = Seen::default();
    let app = hooked(&shop.payments, &seen).mount(shop_app(&shop.payments));

    let cookie = begin(&app, GatewayId::NovinPal, "F-2", 50_000).await;
    let answer = send(&app, get_req(&cb("F-2", 50_000, false), Some(&cookie))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::PAYMENT_REQUIRED, "hook: not paid")
    );
    assert!(
        answer.removes(&cookie.0),
        "cookies are set on hook responses too"
    );
    let failed = seen.failed.lock().unwrap().pop().unwrap();
    assert_eq!(failed.order_id.as_str(), "F-2");
    assert_eq!(failed.amount, Rial::new(50_000));
    assert!(matches!(failed.reason, FailureReason::NotPaid { .. }));

    let cookie = begin(&app, GatewayId::NovinPal, "W-2", 60_000).await;
    shop.get_gw.then_verify(Err(transport(
        GatewayId::NovinPal,
        Operation::Verify,
        TransportErrorKind::Status(502),
    )));
    let answer = send(&app, get_req(&cb("W-2", 60_000, true), Some(&cookie))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::ACCEPTED, "hook: pending")
    );
    let pending = seen.pending.lock().unwrap().pop().unwrap();
    assert_eq!(
        (pending.order_id.as_str(), pending.amount),
        ("W-2", Rial::new(60_000))
    );

    let answer = send(&app, get_req(&cb("W-2", 60_000, true), None)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::BAD_REQUEST, "hook: refused")
    );
    assert_eq!(
        seen.rejected.lock().unwrap().pop(),
        Some(Rejection::MissingState)
    );
    assert!(seen.paid.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_hook_may_redirect() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone())
        .on_paid(|receipt: Receipt| async move {
            Redirect::to(&format!("/orders/{}", receipt.order_id()))
        })
        .mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::NovinPal, "R-1", 50_000).await;
    let answer = send(&app, get_req(&cb("R-1", 50_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.header(header::LOCATION), "/orders/R-1");
    assert!(answer.removes(&cookie.0));
}

#[tokio::test]
async fn a_hook_without_a_status_answers_with_the_outcome_status() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone())
        .on_failed(|f: FailedPayment| async move { format!("sorry, {} is not paid", f.order_id) })
        .on_pending(|_: PendingPayment| async move { axum::response::Html("checking") })
        .on_rejected(|_: Rejection| async move { (StatusCode::IM_A_TEAPOT, "chosen") })
        .mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::NovinPal, "H-1", 50_000).await;
    let answer = send(&app, get_req(&cb("H-1", 50_000, false), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(answer.body, "sorry, H-1 is not paid");
    let cookie = begin(&app, GatewayId::NovinPal, "H-2", 50_000).await;
    shop.get_gw.then_verify(Err(transport(
        GatewayId::NovinPal,
        Operation::Verify,
        TransportErrorKind::Timeout,
    )));
    let answer = send(&app, get_req(&cb("H-2", 50_000, true), Some(&cookie))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::ACCEPTED, "checking")
    );
    assert!(answer.is_html());
    let answer = send(&app, get_req(&cb("H-2", 50_000, true), None)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::IM_A_TEAPOT, "chosen")
    );
}

#[tokio::test]
async fn cross_site_post_without_the_cookie_is_re_posted_then_paid() {
    let shop = shop();
    let seen = Seen::default();
    let app = hooked(&shop.payments, &seen).mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::IdPay, "X-1", 90_000).await;
    let fields = callback_fields("X-1", 90_000, true);

    // The gateway's page posts back cross-site: the browser withholds the Lax cookie.
    let answer = send(&app, post_form("/pay/callback/idpay", &fields, None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.is_html());
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    assert_eq!(answer.form_action(), "/pay/callback/idpay");
    let reposted = answer.form_fields();
    for field in &fields {
        assert!(reposted.contains(field), "{reposted:?}");
    }
    assert!(reposted.contains(&(RESUBMIT_FIELD.to_owned(), "1".to_owned())));
    assert!(seen.paid.lock().unwrap().is_empty() && seen.rejected.lock().unwrap().is_empty());
    assert_eq!(shop.post_gw.verify_calls(), 0);

    // The page re-posts from our own origin: now the cookie comes along.
    let answer = send(
        &app,
        post_form(&answer.form_action(), &reposted, Some(&cookie)),
    )
    .await;
    assert_eq!(answer.body, "fulfilled X-1");
    assert!(answer.removes(&cookie.0));
    assert_eq!(seen.paid.lock().unwrap()[0].amount(), Rial::new(90_000));
    assert_eq!(shop.post_gw.verify_calls(), 1);
}

#[tokio::test]
async fn a_re_post_that_still_has_no_cookie_is_refused_not_looped() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    begin(&app, GatewayId::IdPay, "X-2", 90_000).await;
    let answer = send(
        &app,
        post_form(
            "/pay/callback/idpay",
            &callback_fields("X-2", 90_000, true),
            None,
        ),
    )
    .await;
    let answer = send(
        &app,
        post_form(&answer.form_action(), &answer.form_fields(), None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("Request refused"));
}

#[tokio::test]
async fn tampered_cookie_is_403_and_replay_is_409_without_fulfilment() {
    let shop = shop();
    let seen = Seen::default();
    let app = hooked(&shop.payments, &seen).mount(shop_app(&shop.payments));
    let (name, value) = begin(&app, GatewayId::NovinPal, "T-1", 80_000).await;

    let mut bytes = value.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let tampered = (name.clone(), String::from_utf8(bytes).unwrap());
    let answer = send(&app, get_req(&cb("T-1", 80_000, true), Some(&tampered))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.removes(&name));
    assert!(matches!(
        seen.rejected.lock().unwrap().pop(),
        Some(Rejection::TamperedState(
            StateError::BadSignature | StateError::Malformed
        ))
    ));
    assert_eq!(shop.get_gw.verify_calls(), 0);

    let genuine = (name, value);
    let answer = send(&app, get_req(&cb("T-1", 80_000, true), Some(&genuine))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(&app, get_req(&cb("T-1", 80_000, true), Some(&genuine))).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(seen.rejected.lock().unwrap().pop(), Some(Rejection::Replay));
    assert_eq!(seen.paid.lock().unwrap().len(), 1);
    assert_eq!(shop.get_gw.verify_calls(), 1);
}

#[tokio::test]
async fn swapped_foreign_and_expired_states_are_refused() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    let dear = begin(&app, GatewayId::NovinPal, "DEAR", 9_000_000).await;
    let cheap = begin(&app, GatewayId::NovinPal, "CHEAP", 10_000).await;
    // The cheap payment's callback with the dear order's state.
    let answer = send(&app, get_req(&cb("CHEAP", 10_000, true), Some(&dear))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // The dear reference with the cheap amount.
    let answer = send(&app, get_req(&cb("DEAR", 10_000, true), Some(&dear))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    shop.clock.advance(Duration::minutes(31));
    let answer = send(&app, get_req(&cb("CHEAP", 10_000, true), Some(&cheap))).await;
    assert_eq!(answer.status, StatusCode::GONE);
    assert!(answer.removes(&cheap.0));
    assert_eq!(shop.get_gw.verify_calls(), 0);
}

#[tokio::test]
async fn pending_payment_is_retried_later_and_fulfilled_once() {
    let shop = shop();
    let seen = Seen::default();
    let app = hooked(&shop.payments, &seen).mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::NovinPal, "W-3", 80_000).await;
    shop.get_gw.then_verify(Err(transport(
        GatewayId::NovinPal,
        Operation::Verify,
        TransportErrorKind::Timeout,
    )));
    let answer = send(&app, get_req(&cb("W-3", 80_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    let pending = seen.pending.lock().unwrap().pop().unwrap();
    // The app stores it as JSON and retries from a background job.
    let stored = serde_json::to_string(&pending).unwrap();
    let pending: PendingPayment = serde_json::from_str(&stored).unwrap();
    let Ok(receipt) = shop.payments.retry(&pending).await else {
        panic!("retry should fulfil")
    };
    assert_eq!(receipt.order_id().as_str(), "W-3");
    assert!(matches!(
        shop.payments.retry(&pending).await,
        Err(NotPaid::Rejected(Rejection::Replay))
    ));
    // The buyer reloading the callback afterwards is a replay, not a second fulfilment.
    let answer = send(&app, get_req(&cb("W-3", 80_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert!(seen.paid.lock().unwrap().is_empty());
    assert_eq!(shop.get_gw.verify_calls(), 2);
}

#[tokio::test]
async fn works_nested_under_a_non_root_prefix() {
    let shop = shop_at("http://localhost:3000/", "/shop/pay");
    let seen = Seen::default();
    // Nested by hand, at the configured path.
    let app =
        shop_app(&shop.payments).nest("/shop/pay", hooked(&shop.payments, &seen).into_router());
    let cookie = begin(&app, GatewayId::NovinPal, "N-1", 40_000).await;
    assert_eq!(
        shop.get_gw.callback_urls.lock().unwrap().as_slice(),
        ["http://localhost:3000/shop/pay/callback/novinpal"]
    );
    let uri = format!(
        "/shop/pay/callback/novinpal?{}",
        callback_query("N-1", 40_000, true)
    );
    let answer = send(&app, get_req(&uri, Some(&cookie))).await;
    assert_eq!(answer.body, "fulfilled N-1");

    // The re-post goes to the nested path too.
    let cookie = begin(&app, GatewayId::IdPay, "N-2", 40_000).await;
    let answer = send(
        &app,
        post_form(
            "/shop/pay/callback/idpay",
            &callback_fields("N-2", 40_000, true),
            None,
        ),
    )
    .await;
    assert_eq!(answer.form_action(), "/shop/pay/callback/idpay");
    let answer = send(
        &app,
        post_form(&answer.form_action(), &answer.form_fields(), Some(&cookie)),
    )
    .await;
    assert_eq!(answer.body, "fulfilled N-2");

    // `mount` reads the path from the configuration.
    let mounted = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    let cookie = begin(&mounted, GatewayId::NovinPal, "N-3", 40_000).await;
    let uri = format!(
        "/shop/pay/callback/novinpal?{}",
        callback_query("N-3", 40_000, true)
    );
    assert_eq!(
        send(&mounted, get_req(&uri, Some(&cookie))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn mounted_at_the_wrong_prefix_is_a_loud_500_and_touches_nothing() {
    let shop = shop();
    let seen = Seen::default();
    // Configured for /pay, nested at /payments: gateways would call /pay/... and miss.
    let app =
        shop_app(&shop.payments).nest("/payments", hooked(&shop.payments, &seen).into_router());
    let cookie = begin(&app, GatewayId::NovinPal, "M-1", 40_000).await;
    let uri = format!(
        "/payments/callback/novinpal?{}",
        callback_query("M-1", 40_000, true)
    );
    let answer = send(&app, get_req(&uri, Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(matches!(
        seen.rejected.lock().unwrap().pop(),
        Some(Rejection::Misconfigured(_))
    ));
    assert!(answer.set_cookies().is_empty());
    assert_eq!(shop.get_gw.verify_calls(), 0);

    // The default page says so without leaking paths.
    let app = shop_app(&shop.payments).nest(
        "/payments",
        PaymentRouter::new(shop.payments.clone()).into(),
    );
    let answer = send(&app, get_req(&uri, Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        answer.body.contains("payment settings are incomplete"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("/payments"));
}

#[tokio::test]
async fn public_base_url_with_a_path_works_behind_a_stripping_proxy_and_nested() {
    let shop = shop_at("https://shop.example/store", "/pay");
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    // The proxy strips /store: the app sees /pay/callback/...
    let cookie = begin(&app, GatewayId::NovinPal, "S-1", 40_000).await;
    let answer = send(&app, get_req(&cb("S-1", 40_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.set_cookies()[0].contains("; Path=/store/pay/callback;"));
    // The re-post goes to the public path the browser knows.
    let answer = send(
        &app,
        post_form(
            "/pay/callback/idpay",
            &callback_fields("S-2", 40_000, true),
            None,
        ),
    )
    .await;
    assert_eq!(answer.form_action(), "/store/pay/callback/idpay");

    // The app itself nested under /store: the full public path is accepted too.
    let inner = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    let app = Router::new().nest("/store", inner);
    let cookie = send(
        &app,
        Request::builder()
            .method(Method::POST)
            .uri("/store/checkout/novinpal/S-3/40000")
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .state_cookie();
    let uri = format!(
        "/store/pay/callback/novinpal?{}",
        callback_query("S-3", 40_000, true)
    );
    assert_eq!(
        send(&app, get_req(&uri, Some(&cookie))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_and_unconfigured_gateways_are_404() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    for path in [
        "/pay/callback/zarinpal",
        "/pay/callback/NOVINPAL",
        "/pay/callback/gardeshpay",
        "/pay/callback/%FF%FE",
    ] {
        let answer = send(&app, get_req(path, None)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(answer.body.contains("unknown payment gateway"), "{path}");
    }
}

#[tokio::test]
async fn oversized_and_garbage_requests_are_refused_without_panicking() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::IdPay, "G-1", 40_000).await;

    let huge = vec![("x".to_owned(), "y".repeat(100 * 1024))];
    let answer = send(&app, post_form("/pay/callback/idpay", &huge, Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("malformed"), "{}", answer.body);

    let req = Request::builder()
        .method(Method::POST)
        .uri("/pay/callback/idpay")
        .body(Body::from(vec![0xff, 0xfe, b'=', 0x80]))
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::BAD_REQUEST);

    let req = Request::builder()
        .uri(cb("G-1", 40_000, true))
        .header(header::COOKIE, &b"pay_novinpal_x=\xff\xfe"[..])
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, req).await.status, StatusCode::BAD_REQUEST);

    let answer = send(&app, get_req("/pay/callback/novinpal?%%%&&==&ref", None)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    // A HEAD (link checker, prefetch) never consumes the payment.
    let uri = format!(
        "/pay/callback/idpay?{}",
        callback_query("G-1", 40_000, true)
    );
    let head = Request::builder()
        .method(Method::HEAD)
        .uri(&uri)
        .header(header::COOKIE, format!("{}={}", cookie.0, cookie.1))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, head).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(shop.post_gw.verify_calls(), 0);
    // The real return still works.
    let answer = send(
        &app,
        post_form(
            "/pay/callback/idpay",
            &callback_fields("G-1", 40_000, true),
            Some(&cookie),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

/// The callback fields of `order`, padded with extra fields to exactly `len` bytes of form
/// body (each field under the 2 KiB field limit, fewer than 64 fields in all).
fn padded_body(order: &str, amount: u64, len: usize) -> String {
    let mut body = serde_urlencoded::to_string(callback_fields(order, amount, true)).unwrap();
    for i in 0.. {
        let head = format!("&p{i}=");
        let remaining = len - body.len();
        body.push_str(&head);
        if remaining <= head.len() + 2000 {
            body.push_str(&"p".repeat(remaining - head.len()));
            break;
        }
        body.push_str(&"p".repeat(1800));
    }
    assert_eq!(body.len(), len);
    body
}

fn post_body(uri: &str, body: String, cookie: &(String, String)) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{}={}", cookie.0, cookie.1))
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_body_over_the_callback_limit_is_refused() {
    let shop = shop();
    let app = PaymentRouter::new(shop.payments.clone()).mount(shop_app(&shop.payments));
    let cookie = begin(&app, GatewayId::IdPay, "L-1", 40_000).await;
    let over = padded_body("L-1", 40_000, CallbackRequest::MAX_BODY + 1);
    let answer = send(&app, post_body("/pay/callback/idpay", over, &cookie)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("malformed"), "{}", answer.body);
    assert_eq!(shop.post_gw.verify_calls(), 0);
    // A body of exactly the limit is read, and the payment goes through.
    let at = padded_body("L-1", 40_000, CallbackRequest::MAX_BODY);
    let answer = send(&app, post_body("/pay/callback/idpay", at, &cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(shop.post_gw.verify_calls(), 1);
}

/// An app with its own state type.
#[derive(Clone)]
struct AppState {
    payments: Payments,
    orders: Arc<Mutex<Vec<String>>>,
}

impl FromRef<AppState> for Payments {
    fn from_ref(state: &AppState) -> Payments {
        state.payments.clone()
    }
}

async fn orders(State(state): State<AppState>) -> String {
    state.orders.lock().unwrap().join(",")
}

#[tokio::test]
async fn mounts_into_an_app_with_its_own_state() {
    let shop = shop_at("http://localhost:3000", "/shop/pay");
    let state = AppState {
        payments: shop.payments.clone(),
        orders: Arc::default(),
    };
    let fulfilled = state.orders.clone();
    let app: Router<AppState> = Router::new()
        .route("/orders", get(orders))
        .route("/checkout/{gateway}/{order}/{amount}", post(checkout));
    let app = PaymentRouter::new(shop.payments.clone())
        .on_paid(move |receipt: Receipt| {
            let fulfilled = fulfilled.clone();
            async move {
                fulfilled
                    .lock()
                    .unwrap()
                    .push(receipt.order_id().to_string());
                "ok".into_response()
            }
        })
        .mount(app)
        .with_state(state);

    let cookie = begin(&app, GatewayId::NovinPal, "O-1", 40_000).await;
    let uri = format!(
        "/shop/pay/callback/novinpal?{}",
        callback_query("O-1", 40_000, true)
    );
    assert_eq!(send(&app, get_req(&uri, Some(&cookie))).await.body, "ok");
    assert_eq!(send(&app, get_req("/orders", None)).await.body, "O-1");
}

/// Over real HTTP on loopback with a cookie-keeping client, under a nest prefix.
#[tokio::test]
async fn whole_flow_over_http_with_a_cookie_keeping_client() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shop = shop_at(&format!("http://127.0.0.1:{}", addr.port()), "/shop/pay");
    let seen = Seen::default();
    let app = hooked(&shop.payments, &seen).mount(shop_app(&shop.payments));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{addr}");
    let started = client
        .post(format!("{base}/checkout/novinpal/H-1/150000"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::FOUND);
    assert_eq!(
        started.headers()[header::LOCATION],
        "https://gateway.test/start/ref-H-1"
    );
    let callback = format!(
        "{base}/shop/pay/callback/novinpal?{}",
        callback_query("H-1", 150_000, true)
    );
    let paid = client.get(&callback).send().await.unwrap();
    assert_eq!(paid.status(), StatusCode::OK);
    assert_eq!(paid.text().await.unwrap(), "fulfilled H-1");
    // The cookie was removed: a reload comes without state and is refused.
    let again = client.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(seen.paid.lock().unwrap().len(), 1);
    assert_eq!(shop.get_gw.verify_calls(), 1);
    server.abort();
}
