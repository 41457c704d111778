//! Nothing lost: when IDPay refuses a second verify (its 10-minute window has passed) of a
//! payment whose first verify went through but whose answer was lost, the pipeline asks
//! IDPay's inquiry and fulfils the payment once; where inquiry says "not confirmed", the
//! refusal stands.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use payment_core::{
    CallbackRequest, GatewayId, IdPay, KeyRing, NotPaid, Order, OrderId, Payments, Rejection, Rial,
    SigningKey, outcome::FailureReason, reply::CallbackResult,
};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

const KEY: &str = "6a7f99eb-7c20-4412-a972-6dfb7cd253a4";
const ID: &str = "d2e353189823079e1e4181772cff5292";

async fn setup(inquiry_status: &str) -> (MockServer, Payments, CallbackRequest) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": ID, "link": format!("https://idpay.ir/p/ws-sandbox/{ID}")}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment/verify"))
        .respond_with(ResponseTemplate::new(405).set_body_json(
            json!({"error_code": 54, "error_message": "مدت زمان تایید پرداخت سپری شده است."}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment/inquiry"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": inquiry_status, "track_id": "10012", "id": ID, "order_id": "A-101",
            "amount": "50000", "date": "1546288200",
            "payment": {"track_id": "888001", "amount": "50000", "card_no": "610433******1064",
                        "hashed_card_no": "E59F", "date": "1546288500"},
            "verify": {"date": "1546288800"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let keys = KeyRing::new(SigningKey::new(1, vec![9; 32]).unwrap());
    let payments = Payments::builder("https://shop.example", keys)
        .gateway(IdPay::new(KEY).with_base_url(&server.uri()).unwrap())
        .build()
        .unwrap();
    let order = Order::new(OrderId::new("A-101").unwrap(), Rial::new(50_000));
    let started = payments.start(GatewayId::IdPay, &order).await.unwrap();
    let body = format!(
        "status=10&track_id=10012&id={ID}&order_id=A-101&amount=50000&card_no=610433******1064&date=1546288500"
    );
    let request = CallbackRequest::from_post("", body.as_bytes())
        .unwrap()
        .with_cookie(&started.cookie().name, &started.cookie().value);
    (server, payments, request)
}

async fn callback(payments: &Payments, request: &CallbackRequest) -> CallbackResult {
    payments.handle_callback(GatewayId::IdPay, request).await
}

#[tokio::test]
async fn a_refused_verify_of_a_confirmed_payment_is_paid_through_inquiry() {
    let (_server, payments, request) = setup("101").await;
    let result = callback(&payments, &request).await;
    let Ok(receipt) = result.outcome else {
        panic!("expected paid, got {:?}", result.outcome)
    };
    assert_eq!(receipt.order_id().as_str(), "A-101");
    assert_eq!(receipt.amount(), Rial::new(50_000));
    assert_eq!(receipt.gateway_ref(), ID);
    // And once only.
    let again = callback(&payments, &request).await;
    assert!(
        matches!(again.outcome, Err(NotPaid::Rejected(Rejection::Replay))),
        "{:?}",
        again.outcome
    );
}

#[tokio::test]
async fn a_refused_verify_stays_failed_when_inquiry_does_not_confirm() {
    let (_server, payments, request) = setup("10").await;
    let result = callback(&payments, &request).await;
    let Err(NotPaid::Failed(failed)) = result.outcome else {
        panic!("expected failed, got {:?}", result.outcome)
    };
    let FailureReason::Declined(refusal) = failed.reason else {
        panic!("expected the verify refusal, got {:?}", failed.reason)
    };
    assert_eq!(refusal.code.code(), 54);
}
