//! `PaymentCallback<P>` on the app's own route: the receipt, the self-rendering rejection,
//! `Result<_, PaymentRejection>`, `CallbackCookies`, nest prefixes and app state.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use common::*;
use payment_axum::{
    CallbackCookies, PaymentCallback, PaymentRejection,
    payment_core::{
        GatewayId, NotPaid, Payments, Rejection, Rial,
        error::{Operation, TransportErrorKind},
        outcome::FailureReason,
    },
};

/// The shape: the receipt, or the rejection's own response.
async fn paid(PaymentCallback(receipt): PaymentCallback<GetGateway>) -> String {
    format!(
        "paid {} {} {}",
        receipt.order_id(),
        receipt.amount().get(),
        receipt.gateway_ref()
    )
}

/// With the cookie removals.
async fn paid_with_cookies(
    cookies: CallbackCookies,
    PaymentCallback(receipt): PaymentCallback<PostGateway>,
) -> (CallbackCookies, String) {
    (cookies, format!("paid {}", receipt.order_id()))
}

/// Rendering failures itself.
async fn own_pages(
    cookies: CallbackCookies,
    cb: Result<PaymentCallback<GetGateway>, PaymentRejection>,
) -> Response {
    let rejection = match cb {
        Ok(PaymentCallback(receipt)) => {
            return (cookies, format!("mine: paid {}", receipt.order_id())).into_response();
        }
        Err(rejection) => rejection,
    };
    match rejection.not_paid() {
        NotPaid::Failed(payment) => (
            StatusCode::OK,
            cookies,
            format!("mine: failed {}", payment.order_id),
        )
            .into_response(),
        NotPaid::Pending(payment) => (
            StatusCode::OK,
            format!("mine: pending {}", payment.order_id),
        )
            .into_response(),
        NotPaid::Rejected(refusal) => (
            StatusCode::OK,
            cookies,
            format!("mine: refused {refusal:?}"),
        )
            .into_response(),
        // The re-post page, and anything else: the library's own answer.
        _ => rejection.into_response(),
    }
}

fn app(payments: &Payments) -> Router {
    let routes: Router<Payments> = Router::new()
        .route("/pay/callback/novinpal", get(paid).post(paid))
        .route(
            "/pay/callback/idpay",
            get(paid_with_cookies).post(paid_with_cookies),
        );
    shop_app(payments).merge(routes.with_state(payments.clone()))
}

fn own_pages_app(payments: &Payments) -> Router {
    let routes: Router<Payments> =
        Router::new().route("/pay/callback/novinpal", get(own_pages).post(own_pages));
    shop_app(payments).merge(routes.with_state(payments.clone()))
}

fn cb(order: &str, amount: u64, ok: bool) -> String {
    format!(
        "/pay/callback/novinpal?{}",
        callback_query(order, amount, ok)
    )
}

#[tokio::test]
async fn extractor_yields_the_verified_receipt() {
    let shop = shop();
    let app = app(&shop.payments);
    let cookie = begin(&app, GatewayId::NovinPal, "E-1", 120_000).await;
    let answer = send(&app, get_req(&cb("E-1", 120_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "paid E-1 120000 ref-E-1");
    // Without CallbackCookies the removal is not sent (harmless, see the docs).
    assert!(answer.set_cookies().is_empty());
    assert_eq!(shop.get_gw.verify_calls(), 1);
}

#[tokio::test]
async fn rejection_renders_itself_for_attacks_and_failures() {
    let shop = shop();
    let app = app(&shop.payments);
    let cookie = begin(&app, GatewayId::NovinPal, "E-2", 80_000).await;

    let mut tampered = cookie.clone();
    tampered.1.insert(3, 'x');
    let answer = send(&app, get_req(&cb("E-2", 80_000, true), Some(&tampered))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.is_html() && answer.body.contains("Request refused"),
        "{answer:?}"
    );
    assert!(
        answer.removes(&cookie.0),
        "the rejection carries its cookies"
    );
    assert_eq!(answer.header(axum::http::header::CACHE_CONTROL), "no-store");

    let answer = send(&app, get_req(&cb("E-2", 80_000, true), None)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);

    let answer = send(&app, get_req(&cb("E-2", 80_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(&app, get_req(&cb("E-2", 80_000, true), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);

    let cookie = begin(&app, GatewayId::NovinPal, "E-3", 80_000).await;
    let answer = send(&app, get_req(&cb("E-3", 80_000, false), Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::PAYMENT_REQUIRED);
    assert!(answer.body.contains("Payment not completed"));
    assert_eq!(shop.get_gw.verify_calls(), 1);
}

#[tokio::test]
async fn callback_cookies_carry_the_removal_and_the_re_post_works() {
    let shop = shop();
    let app = app(&shop.payments);
    let cookie = begin(&app, GatewayId::IdPay, "E-4", 90_000).await;
    let fields = callback_fields("E-4", 90_000, true);
    let answer = send(&app, post_form("/pay/callback/idpay", &fields, None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.form_action(), "/pay/callback/idpay");
    let answer = send(
        &app,
        post_form(&answer.form_action(), &answer.form_fields(), Some(&cookie)),
    )
    .await;
    assert_eq!(answer.body, "paid E-4");
    assert!(answer.removes(&cookie.0), "{:?}", answer.set_cookies());
}

#[tokio::test]
async fn result_extractor_lets_the_app_render_every_outcome() {
    let shop = shop();
    let app = own_pages_app(&shop.payments);

    let cookie = begin(&app, GatewayId::NovinPal, "R-1", 50_000).await;
    let answer = send(&app, get_req(&cb("R-1", 50_000, true), Some(&cookie))).await;
    assert_eq!(answer.body, "mine: paid R-1");
    assert!(answer.removes(&cookie.0));

    let cookie = begin(&app, GatewayId::NovinPal, "R-2", 50_000).await;
    let answer = send(&app, get_req(&cb("R-2", 50_000, false), Some(&cookie))).await;
    assert_eq!(answer.body, "mine: failed R-2");
    assert!(answer.removes(&cookie.0));

    let cookie = begin(&app, GatewayId::NovinPal, "R-3", 50_000).await;
    shop.get_gw.then_verify(Err(transport(
        GatewayId::NovinPal,
        Operation::Verify,
        TransportErrorKind::Connect,
    )));
    let answer = send(&app, get_req(&cb("R-3", 50_000, true), Some(&cookie))).await;
    assert_eq!(answer.body, "mine: pending R-3");

    let answer = send(&app, get_req(&cb("R-3", 50_000, true), None)).await;
    assert_eq!(answer.body, "mine: refused MissingState");

    // The re-post of a cookieless cross-site POST still goes out.
    let answer = send(
        &app,
        post_form(
            "/pay/callback/novinpal",
            &callback_fields("R-3", 50_000, true),
            None,
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.form_action(), "/pay/callback/novinpal");
    // ... and its re-post with the cookie completes the pending payment.
    let answer = send(
        &app,
        post_form(&answer.form_action(), &answer.form_fields(), Some(&cookie)),
    )
    .await;
    assert_eq!(answer.body, "mine: paid R-3");
    // timed out, R-3 again; the cancelled R-2 is never verified.
    assert_eq!(shop.get_gw.verify_calls(), 3);
}

#[tokio::test]
async fn rejection_value_is_an_error_with_status_and_outcome() {
    let shop = shop();
    let payments = shop.payments.clone();
    let seen: Arc<Mutex<Vec<PaymentRejection>>> = Arc::default();
    let store = seen.clone();
    let handler = move |cb: Result<PaymentCallback<GetGateway>, PaymentRejection>| {
        let store = store.clone();
        async move {
            if let Err(e) = cb {
                store.lock().unwrap().push(e);
            }
            "seen"
        }
    };
    let routes: Router<Payments> = Router::new().route("/pay/callback/novinpal", get(handler));
    let app = shop_app(&payments).merge(routes.with_state(payments.clone()));
    let cookie = begin(&app, GatewayId::NovinPal, "V-1", 50_000).await;
    send(&app, get_req(&cb("V-1", 50_000, false), Some(&cookie))).await;
    let rejection = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        rejection.http_status(),
        StatusCode::PAYMENT_REQUIRED.as_u16()
    );
    assert_eq!(rejection.cookies().len(), 1);
    assert!(!matches!(rejection.not_paid(), NotPaid::Resubmit(_)));
    assert!(
        rejection
            .to_string()
            .starts_with("payment for order V-1 failed")
    );
    let source: &dyn std::error::Error = &rejection;
    assert!(source.source().is_none());
    let PaymentRejection(unpaid) = rejection;
    let NotPaid::Failed(failed) = unpaid.into_not_paid() else {
        panic!()
    };
    assert_eq!(failed.amount, Rial::new(50_000));
    assert!(matches!(failed.reason, FailureReason::NotPaid { .. }));
}

/// An app with its own state, the extractor inside a router nested at `/shop`.
#[derive(Clone)]
struct AppState {
    payments: Payments,
    fulfilled: Arc<Mutex<Vec<String>>>,
}

impl FromRef<AppState> for Payments {
    fn from_ref(state: &AppState) -> Payments {
        state.payments.clone()
    }
}

async fn fulfil(
    State(state): State<AppState>,
    PaymentCallback(receipt): PaymentCallback<GetGateway>,
) -> &'static str {
    state
        .fulfilled
        .lock()
        .unwrap()
        .push(receipt.order_id().to_string());
    "fulfilled"
}

#[tokio::test]
async fn extractor_under_a_nest_prefix_with_app_state() {
    let shop = shop_at("http://localhost:3000/", "/shop/pay");
    let state = AppState {
        payments: shop.payments.clone(),
        fulfilled: Arc::default(),
    };
    let shop_routes: Router<AppState> = Router::new()
        .route("/pay/callback/novinpal", get(fulfil).post(fulfil))
        .route("/checkout/{gateway}/{order}/{amount}", post(checkout));
    let app = Router::new()
        .nest("/shop", shop_routes)
        .with_state(state.clone());
    let started = send(
        &app,
        axum::http::Request::builder()
            .method("POST")
            .uri("/shop/checkout/novinpal/S-1/40000")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    let cookie = started.state_cookie();
    let uri = format!(
        "/shop/pay/callback/novinpal?{}",
        callback_query("S-1", 40_000, true)
    );
    let answer = send(&app, get_req(&uri, Some(&cookie))).await;
    assert_eq!(answer.body, "fulfilled");
    assert_eq!(*state.fulfilled.lock().unwrap(), ["S-1"]);
}

#[tokio::test]
async fn extractor_on_another_path_or_gateway_is_a_loud_500() {
    let shop = shop();
    // The gateway is told /pay/callback/novinpal; the app routes somewhere else.
    let routes: Router<Payments> = Router::new()
        .route("/payment/return", get(paid))
        .route("/pay/callback/canpay", get(paid_canpay));
    let app = shop_app(&shop.payments).merge(routes.with_state(shop.payments.clone()));
    let cookie = begin(&app, GatewayId::NovinPal, "W-1", 40_000).await;
    let uri = format!("/payment/return?{}", callback_query("W-1", 40_000, true));
    let answer = send(&app, get_req(&uri, Some(&cookie))).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(answer.body.contains("payment settings are incomplete"));
    assert_eq!(shop.get_gw.verify_calls(), 0);

    let answer = send(&app, get_req("/pay/callback/canpay?ref=x&ok=1", None)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// A gateway type the shop never configured (CanPay's id).
struct CanPayKind;
impl Kind for CanPayKind {
    const ID: GatewayId = GatewayId::CanPay;
    const POST: bool = false;
}

async fn paid_canpay(cb: Result<PaymentCallback<Fake<CanPayKind>>, PaymentRejection>) -> Response {
    match cb {
        Err(rejection)
            if matches!(
                rejection.not_paid(),
                NotPaid::Rejected(Rejection::Misconfigured(_))
            ) =>
        {
            (StatusCode::INTERNAL_SERVER_ERROR, "misconfigured").into_response()
        }
        other => panic!("{other:?}"),
    }
}
