//! Starting a payment from a handler: the redirect, the state cookie, and the errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
    response::IntoResponse,
};
use common::*;
use payment_axum::{
    StartError,
    payment_core::{
        Error, GatewayId, Order, Rial,
        error::{GatewayCode, GatewayError, Operation, TransportErrorKind},
        gateways::idpay::IdPayCode,
    },
    start,
};

async fn checkout(app: &axum::Router, gateway: GatewayId, order: &str, amount: u64) -> Answer {
    send(
        app,
        Request::builder()
            .method(Method::POST)
            .uri(format!("/checkout/{gateway}/{order}/{amount}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn get_gateway_start_is_a_302_with_the_state_cookie() {
    let shop = shop();
    let app = shop_app(&shop.payments);
    let answer = checkout(&app, GatewayId::NovinPal, "A-1", 120_000).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(
        answer.header(header::LOCATION),
        "https://gateway.test/start/ref-A-1"
    );
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    let cookies = answer.set_cookies();
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    assert!(cookie.starts_with("pay_novinpal_"), "{cookie}");
    assert!(cookie.contains("; Path=/pay/callback;"), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("; Max-Age=1800"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http development origin: {cookie}"
    );
    assert_eq!(
        shop.get_gw.callback_urls.lock().unwrap().as_slice(),
        ["http://localhost:3000/pay/callback/novinpal"]
    );
}

#[tokio::test]
async fn start_response_exposes_what_the_app_stores_and_keeps_tokens_out_of_debug() {
    let shop = shop();
    let order = Order::new("A-2".parse().unwrap(), Rial::new(50_000));
    let started = start(&shop.payments, GatewayId::IdPay, &order)
        .await
        .unwrap();
    assert_eq!(started.gateway_ref(), "ref-A-2");
    assert_eq!(started.payable_amount(), Some(Rial::new(50_500)));
    assert_eq!(
        started.redirect().url().as_str(),
        "https://gateway.test/pay"
    );
    assert!(started.cookie().http_only);
    let debug = format!("{started:?}");
    assert!(!debug.contains("ref-A-2"), "{debug}");
    assert!(!debug.contains(&started.cookie().value), "{debug}");
    let get = start(&shop.payments, GatewayId::NovinPal, &order)
        .await
        .unwrap();
    assert_eq!(get.payable_amount(), None);
    assert!(!format!("{get:?}").contains("ref-A-2"));
}

#[tokio::test]
async fn post_gateway_start_is_an_auto_submitting_form() {
    let shop = shop();
    let app = shop_app(&shop.payments);
    let answer = checkout(&app, GatewayId::IdPay, "A-3", 70_000).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.is_html());
    assert_eq!(answer.header(header::CACHE_CONTROL), "no-store");
    assert!(answer.body.contains("method=\"POST\""), "{}", answer.body);
    assert_eq!(answer.form_action(), "https://gateway.test/pay");
    assert_eq!(
        answer.form_fields(),
        [("token".to_owned(), "ref-A-3".to_owned())]
    );
    assert!(answer.body.contains(".submit()"));
    let (name, _) = answer.state_cookie();
    assert!(name.starts_with("pay_idpay_"));
}

#[tokio::test]
async fn https_public_url_makes_the_cookie_secure_and_scopes_its_path() {
    let shop = shop_at("https://shop.example/store", "/checkout/pay");
    let app = shop_app(&shop.payments);
    let answer = checkout(&app, GatewayId::NovinPal, "A-4", 70_000).await;
    let cookie = &answer.set_cookies()[0];
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("; Path=/store/checkout/pay/callback;"),
        "{cookie}"
    );
}

#[tokio::test]
async fn an_order_outside_the_gateway_limits_is_a_readable_422() {
    let shop = shop();
    let app = shop_app(&shop.payments);
    let answer = checkout(&app, GatewayId::NovinPal, "A-5", 5_000).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.is_html());
    assert!(answer.set_cookies().is_empty());
    assert!(answer.body.contains("پرداخت آغاز نشد"), "{}", answer.body);
    assert!(answer.body.contains("Payment not started"));
    assert!(
        answer.body.contains("below the minimum of 10000 rial"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("10,000 ریال"), "{}", answer.body);
    assert!(
        shop.get_gw.callback_urls.lock().unwrap().is_empty(),
        "nothing was sent"
    );
}

#[tokio::test]
async fn start_errors_map_to_statuses_and_stay_inspectable() {
    let shop = shop();
    let order = Order::new("A-6".parse().unwrap(), Rial::new(50_000));
    let refusal = Error::Gateway(GatewayError {
        gateway: GatewayId::IdPay,
        operation: Operation::Create,
        code: GatewayCode::IdPay(IdPayCode::ApiKeyNotFound),
        http_status: Some(403),
        message: Some("API Key یافت نشد.".into()),
    });
    shop.post_gw.then_create(refusal);
    let err = start(&shop.payments, GatewayId::IdPay, &order)
        .await
        .unwrap_err();
    assert!(
        matches!(&err.0, Error::Gateway(g) if g.code == GatewayCode::IdPay(IdPayCode::ApiKeyNotFound))
    );
    assert_eq!(err.http_status(), StatusCode::BAD_GATEWAY.as_u16());
    let page = err.reply();
    assert_eq!(page.status, StatusCode::BAD_GATEWAY.as_u16());
    assert!(page.body.contains("API key not found"), "{}", page.body);
    assert!(page.body.contains("API Key یافت نشد."));
    assert!(
        err.to_string()
            .starts_with("payment could not be started: idpay create refused")
    );

    let cases = [
        (TransportErrorKind::Timeout, StatusCode::GATEWAY_TIMEOUT),
        (TransportErrorKind::Connect, StatusCode::BAD_GATEWAY),
        (TransportErrorKind::Status(503), StatusCode::BAD_GATEWAY),
    ];
    for (kind, status) in cases {
        shop.get_gw
            .then_create(transport(GatewayId::NovinPal, Operation::Create, kind));
        let err = start(&shop.payments, GatewayId::NovinPal, &order)
            .await
            .unwrap_err();
        assert_eq!(err.http_status(), status.as_u16());
        let response = err.into_response();
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert!(response.headers().get(header::SET_COOKIE).is_none());
    }

    // A gateway the app did not configure is the app's mistake: 500.
    let err = start(&shop.payments, GatewayId::CanPay, &order)
        .await
        .unwrap_err();
    assert_eq!(
        err.http_status(),
        StatusCode::INTERNAL_SERVER_ERROR.as_u16()
    );
    let StartError(error) = err;
    assert!(matches!(error, Error::Config(_)));
}
