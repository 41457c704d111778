//! The `PaymentCallback<P>` extractor in plain handlers: the receipt, its default
//! rejection answers, `Result<_, PaymentRejection>`, the re-post, and misconfiguration.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::{Arc, Mutex};

use actix_web::{
    App, HttpRequest, HttpResponse, Responder, ResponseError,
    http::{StatusCode, header},
    test, web,
};
use common::*;
use payment_actix::{
    CallbackCookies, PaymentCallback, PaymentRejection,
    payment_core::{GatewayId, NotPaid, Payments, PendingPayment, Rejection},
};

async fn paid_novinpal(
    cookies: CallbackCookies,
    PaymentCallback(receipt): PaymentCallback<GetGateway>,
) -> impl Responder {
    let text = format!(
        "paid {} {} {}",
        receipt.order_id(),
        receipt.amount().get(),
        receipt.gateway_ref()
    );
    cookies.attach(HttpResponse::Ok().body(text))
}

/// The cookies argument after the extractor: the order does not matter.
async fn paid_inopal(cb: PaymentCallback<PostGateway>, cookies: CallbackCookies) -> impl Responder {
    let text = format!("paid {}", cb.0.order_id());
    cookies.attach(text)
}

/// An app that renders failures itself and keeps pending payments for a retry job.
async fn own_pages(
    request: HttpRequest,
    cookies: CallbackCookies,
    cb: Result<PaymentCallback<GetGateway>, PaymentRejection>,
    pending: web::Data<Mutex<Vec<PendingPayment>>>,
) -> HttpResponse {
    match cb {
        Ok(PaymentCallback(receipt)) => cookies
            .attach(HttpResponse::Ok().body(format!("ours: paid {}", receipt.order_id())))
            .respond_to(&request),
        Err(rejection) => match rejection.not_paid() {
            NotPaid::Failed(failed) => cookies
                .attach(HttpResponse::Ok().body(format!("ours: {} not paid", failed.order_id)))
                .respond_to(&request),
            NotPaid::Pending(p) => {
                pending.lock().unwrap().push(p.clone());
                HttpResponse::Ok().body(format!("ours: {} pending", p.order_id))
            }
            NotPaid::Rejected(r) => {
                HttpResponse::Ok().body(format!("ours: refused ({})", r.english()))
            }
            _ => rejection.error_response(),
        },
    }
}

fn app_data(shop: &Shop) -> web::Data<Payments> {
    web::Data::new(shop.payments.clone())
}

const NOVINPAL: &str = "/pay/callback/novinpal";
const INOPAL: &str = "/pay/callback/inopal";

macro_rules! app {
    ($shop:expr) => {
        test::init_service(
            App::new()
                .app_data(app_data(&$shop))
                .route(NOVINPAL, web::get().to(paid_novinpal))
                .route(NOVINPAL, web::post().to(paid_novinpal))
                .route(INOPAL, web::post().to(paid_inopal)),
        )
        .await
    };
}

fn get(uri: &str, cookie: Option<&str>) -> test::TestRequest {
    let req = test::TestRequest::get().uri(uri);
    match cookie {
        Some(cookie) => req.insert_header((header::COOKIE, cookie)),
        None => req,
    }
}

fn post(uri: &str, body: String, cookie: Option<&str>) -> test::TestRequest {
    let req = test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(body);
    match cookie {
        Some(cookie) => req.insert_header((header::COOKIE, cookie)),
        None => req,
    }
}

#[actix_web::test]
async fn extractor_yields_the_verified_receipt_and_the_cookie_removal() {
    let shop = shop();
    let app = app!(shop);
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("{NOVINPAL}?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        removes(&set_cookies(&res), &s.cookie),
        "{:?}",
        set_cookies(&res)
    );
    assert_eq!(body(res).await, "paid A-1 120000 ref-A-1");
    assert_eq!(shop.get_gw.calls(), 1);
}

#[actix_web::test]
async fn extractor_rejections_answer_with_status_page_and_cookies() {
    let shop = shop();
    let app = app!(shop);

    let s = start(&shop, GatewayId::NovinPal, "F-1", 120_000).await;
    let uri = format!("{NOVINPAL}?{}", s.fields(false));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(removes(&set_cookies(&res), &s.cookie));
    assert_eq!(
        header(&res, header::CONTENT_TYPE).as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(body(res).await.contains("Payment not completed"));

    let s = start(&shop, GatewayId::NovinPal, "N-1", 120_000).await;
    shop.get_gw.then_timeout();
    let uri = format!("{NOVINPAL}?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    let res = test::call_service(&app, get(&uri, None).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "missing state");

    let res = test::call_service(&app, get(&uri, Some("pay_novinpal_1=AAAA")).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "tampered state");
    assert!(removes(&set_cookies(&res), "pay_novinpal_1=AAAA"));

    let s = start(&shop, GatewayId::NovinPal, "R-1", 120_000).await;
    let uri = format!("{NOVINPAL}?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "replay");
}

#[actix_web::test]
async fn result_extractor_lets_the_app_render_every_case() {
    let shop = shop();
    let pending = web::Data::new(Mutex::new(Vec::<PendingPayment>::new()));
    let app = test::init_service(
        App::new()
            .app_data(app_data(&shop))
            .app_data(pending.clone())
            .route(NOVINPAL, web::get().to(own_pages)),
    )
    .await;

    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let res = test::call_service(
        &app,
        get(&format!("{NOVINPAL}?{}", s.fields(true)), Some(&s.cookie)).to_request(),
    )
    .await;
    assert!(removes(&set_cookies(&res), &s.cookie));
    assert_eq!(body(res).await, "ours: paid A-1");

    let s = start(&shop, GatewayId::NovinPal, "F-1", 120_000).await;
    let res = test::call_service(
        &app,
        get(&format!("{NOVINPAL}?{}", s.fields(false)), Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(removes(&set_cookies(&res), &s.cookie));
    assert_eq!(body(res).await, "ours: F-1 not paid");

    let s = start(&shop, GatewayId::NovinPal, "N-1", 120_000).await;
    shop.get_gw.then_timeout();
    let uri = format!("{NOVINPAL}?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(body(res).await, "ours: N-1 pending");
    let stored = pending.lock().unwrap()[0].clone();
    let outcome = shop.payments.retry(&stored).await;
    assert!(
        matches!(outcome, Ok(ref r) if r.order_id().as_str() == "N-1"),
        "{outcome:?}"
    );

    let res = test::call_service(&app, get(&uri, None).to_request()).await;
    assert!(body(res).await.starts_with("ours: refused"));
}

#[actix_web::test]
async fn rejection_accessors_and_display() {
    let shop = shop();
    let seen: Arc<Mutex<Vec<PaymentRejection>>> = Arc::default();
    let sink = seen.clone();
    let app = test::init_service(App::new().app_data(app_data(&shop)).route(
        NOVINPAL,
        web::get().to(
            move |cb: Result<PaymentCallback<GetGateway>, PaymentRejection>| {
                let sink = sink.clone();
                async move {
                    match cb {
                        Ok(_) => HttpResponse::Ok().finish(),
                        Err(rejection) => {
                            let res = rejection.error_response();
                            sink.lock().unwrap().push(rejection);
                            res
                        }
                    }
                }
            },
        ),
    ))
    .await;
    let s = start(&shop, GatewayId::NovinPal, "F-1", 120_000).await;
    test::call_service(
        &app,
        get(&format!("{NOVINPAL}?{}", s.fields(false)), Some(&s.cookie)).to_request(),
    )
    .await;
    test::call_service(
        &app,
        get(&format!("{NOVINPAL}?{}", s.fields(true)), None).to_request(),
    )
    .await;
    let seen = seen.lock().unwrap();
    let failed = &seen[0];
    let NotPaid::Failed(payment) = failed.not_paid() else {
        panic!("{failed:?}")
    };
    assert_eq!(payment.order_id.as_str(), "F-1");
    assert_eq!(failed.http_status(), StatusCode::PAYMENT_REQUIRED.as_u16());
    assert_eq!(failed.status_code(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(failed.cookies().len(), 1);
    assert!(failed.to_string().contains("F-1"), "{failed}");
    assert!(failed.reply().body.contains("Payment not completed"));
    let missing = &seen[1];
    assert!(
        matches!(
            missing.not_paid(),
            NotPaid::Rejected(Rejection::MissingState)
        ),
        "{missing:?}"
    );
    assert_eq!(missing.status_code(), StatusCode::BAD_REQUEST);
    assert!(format!("{missing:?}").contains("MissingState"));
}

#[actix_web::test]
async fn cross_site_post_is_reposted_then_extracted() {
    let shop = shop();
    let app = app!(shop);
    let s = start(&shop, GatewayId::Inopal, "X-1", 50_000).await;
    let res = test::call_service(&app, post(INOPAL, s.fields(true), None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (method, action, fields) = form(&body(res).await);
    assert_eq!((method.as_str(), action.as_str()), ("POST", INOPAL));
    let res = test::call_service(
        &app,
        post(&action, urlencode(&fields), Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(removes(&set_cookies(&res), &s.cookie));
    assert_eq!(body(res).await, "paid X-1");
    assert_eq!(shop.post_gw.calls(), 1);
}

#[actix_web::test]
async fn extractor_at_the_wrong_path_or_without_config_is_500() {
    let shop = shop();
    let app = test::init_service(
        App::new()
            .app_data(app_data(&shop))
            .route("/payments/novinpal/back", web::get().to(paid_novinpal)),
    )
    .await;
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/payments/novinpal/back?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body(res).await.contains("payment settings are incomplete"));

    let app = test::init_service(App::new().route(NOVINPAL, web::get().to(paid_novinpal))).await;
    let uri = format!("{NOVINPAL}?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(shop.get_gw.calls(), 0);
}

#[actix_web::test]
async fn plain_payments_in_app_data_and_nested_prefix_work() {
    let shop = shop_at("http://localhost:3000/", "/shop/pay");
    let app = test::init_service(App::new().app_data(shop.payments.clone()).service(
        web::scope("/shop").route("/pay/callback/novinpal", web::get().to(paid_novinpal)),
    ))
    .await;
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/shop/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.starts_with("paid A-1"));
}

#[actix_web::test]
async fn oversized_body_is_refused_by_the_extractor() {
    let shop = shop();
    let app = app!(shop);
    let s = start(&shop, GatewayId::Inopal, "O-1", 50_000).await;
    let huge = format!("{}&pad={}", s.fields(true), "x".repeat(200_000));
    let res = test::call_service(&app, post(INOPAL, huge, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(shop.post_gw.calls(), 0);
}

#[actix_web::test]
async fn without_callback_cookies_the_state_cookie_is_simply_left_over() {
    let shop = shop();
    let app = test::init_service(App::new().app_data(app_data(&shop)).route(
        NOVINPAL,
        web::get().to(|cb: PaymentCallback<GetGateway>| async move {
            let printed = format!("{cb:?}");
            let PaymentCallback(receipt) = cb;
            assert_eq!(printed, format!("PaymentCallback({receipt:?})"));
            format!("paid {}", receipt.order_id())
        }),
    ))
    .await;
    let s = start(&shop, GatewayId::NovinPal, "L-1", 120_000).await;
    let uri = format!("{NOVINPAL}?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).is_empty());
    // Harmless: the left-over state cannot pay twice.
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(shop.get_gw.calls(), 1);
}

#[actix_web::test]
async fn extractor_for_an_unconfigured_gateway_is_500() {
    use payment_actix::payment_core::{KeyRing, SigningKey};
    let keys = KeyRing::new(SigningKey::new(1, vec![7; 32]).unwrap());
    let only_inopal = Payments::builder("http://localhost:3000", keys)
        .gateway(PostGateway::default())
        .build()
        .unwrap();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(only_inopal))
            .route(NOVINPAL, web::get().to(paid_novinpal)),
    )
    .await;
    let res = test::call_service(&app, get(NOVINPAL, None).to_request()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
