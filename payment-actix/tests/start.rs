//! Starting a payment from a handler: the redirect, the POST-form page, the state cookie,
//! and every way a start can fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use actix_web::{
    App, HttpResponse, ResponseError,
    http::{StatusCode, header},
    test, web,
};
use common::*;
use payment_actix::{
    StartError, StartResponse,
    payment_core::{Error, GatewayId, Order, Payments, Rial, error::TransportErrorKind},
    start,
};

/// `GET /buy/{gateway}/{order}/{amount}`: the start helper used as a user would.
async fn buy(
    payments: web::Data<Payments>,
    path: web::Path<(String, String, u64)>,
) -> Result<StartResponse, StartError> {
    let (gateway, order, amount) = path.into_inner();
    let gateway: GatewayId = gateway.parse().unwrap();
    let order = Order::new(order.parse().unwrap(), Rial::new(amount));
    start(&payments, gateway, &order).await
}

macro_rules! app {
    ($shop:expr) => {
        test::init_service(
            App::new()
                .app_data(web::Data::new($shop.payments.clone()))
                .route("/buy/{gateway}/{order}/{amount}", web::get().to(buy)),
        )
        .await
    };
}

#[actix_web::test]
async fn get_gateway_start_is_a_302_with_the_state_cookie() {
    let shop = shop();
    let app = app!(shop);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/buy/novinpal/A-1/120000")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        header(&res, header::LOCATION).as_deref(),
        Some("https://gateway.test/pay/ref-A-1")
    );
    assert_eq!(
        header(&res, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("pay_"), "{cookie}");
    assert!(cookie.contains("; Path=/pay/callback;"), "{cookie}");
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("; Max-Age=1800"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http development origin: {cookie}"
    );
}

#[actix_web::test]
async fn https_origin_makes_the_cookie_secure() {
    let shop = shop_at("https://shop.example", "/pay");
    let app = app!(shop);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/buy/novinpal/A-1/120000")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(set_cookies(&res)[0].contains("; Secure"));
}

#[actix_web::test]
async fn post_form_gateway_start_is_an_auto_submitting_page() {
    let shop = shop();
    let app = app!(shop);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/buy/inopal/B-7/50000")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, header::CONTENT_TYPE).as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        header(&res, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 1);
    assert!(cookies[0].contains("; Path=/pay/callback;"));
    let page = body(res).await;
    let (method, action, fields) = form(&page);
    assert_eq!(method, "POST");
    assert_eq!(action, "https://gateway.test/pay");
    assert_eq!(fields, vec![("token".to_owned(), "ref-B-7".to_owned())]);
    assert!(page.contains(".submit()"), "submits itself");
}

#[actix_web::test]
async fn start_response_exposes_what_the_app_stores() {
    let shop = shop();
    let order = Order::new("C-3".parse().unwrap(), Rial::new(50_000));
    let response = start(&shop.payments, GatewayId::Inopal, &order)
        .await
        .unwrap();
    assert_eq!(response.gateway_ref(), "ref-C-3");
    assert_eq!(response.payable_amount(), Some(Rial::new(50_500)));
    assert_eq!(
        response.redirect().url().as_str(),
        "https://gateway.test/pay"
    );
    assert!(response.cookie().http_only);
    let cookie_name = response.cookie().name.clone();
    let http: HttpResponse = response.into_response();
    assert_eq!(http.status(), StatusCode::OK);
    assert!(
        http.headers()
            .get_all(header::SET_COOKIE)
            .any(|v| v.to_str().unwrap().starts_with(&cookie_name))
    );
}

async fn failed_start(order: &str, amount: u64, gateway: &str) -> (StatusCode, String) {
    let shop = shop();
    let app = app!(shop);
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("/buy/{gateway}/{order}/{amount}"))
            .to_request(),
    )
    .await;
    assert!(
        set_cookies(&res).is_empty(),
        "no state cookie on a failed start"
    );
    assert_eq!(
        header(&res, header::CONTENT_TYPE).as_deref(),
        Some("text/html; charset=utf-8")
    );
    (res.status(), body(res).await)
}

#[actix_web::test]
async fn invalid_order_is_a_422_page_in_persian_and_english() {
    let (status, page) = failed_start("A-1", 500, "novinpal").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("این سفارش را نمی‌توان"), "{page}");
    assert!(page.contains("This order cannot be paid"), "{page}");
    assert!(page.contains("below the minimum"), "{page}");
}

#[actix_web::test]
async fn gateway_refusal_is_a_502() {
    let (status, page) = failed_start("REFUSE", 50_000, "novinpal").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("refused the payment"), "{page}");
    assert!(page.contains("wrong API key"), "{page}");
    assert!(page.contains("کلید API اشتباه است"), "{page}");
}

#[actix_web::test]
async fn gateway_timeout_is_a_504_and_other_transport_failures_a_502() {
    let (status, page) = failed_start("TIMEOUT", 50_000, "novinpal").await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert!(page.contains("did not answer"), "{page}");
    let (status, page) = failed_start("DOWN", 50_000, "novinpal").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("Nothing was charged"), "{page}");
}

#[actix_web::test]
async fn unconfigured_gateway_is_a_500() {
    let (status, page) = failed_start("A-1", 50_000, "idpay").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.contains("payment settings are incomplete"), "{page}");
    assert!(
        !page.contains("idpay"),
        "no configuration details for the buyer: {page}"
    );
}

#[actix_web::test]
async fn start_error_can_be_matched_by_the_app() {
    let shop = shop();
    let low = Order::new("A-1".parse().unwrap(), Rial::new(1));
    let err = start(&shop.payments, GatewayId::NovinPal, &low)
        .await
        .unwrap_err();
    assert!(matches!(&err.0, Error::InvalidOrder(_)), "{err:?}");
    assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err.to_string().contains("below the minimum"), "{err}");

    let timeout = Order::new("TIMEOUT".parse().unwrap(), Rial::new(50_000));
    let err = start(&shop.payments, GatewayId::NovinPal, &timeout)
        .await
        .unwrap_err();
    let StartError(error) = err;
    match error {
        Error::Transport(t) => assert_eq!(t.kind, TransportErrorKind::Timeout),
        other => panic!("{other:?}"),
    }
}
