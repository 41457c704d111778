//! The IDPay adapter against a mock of its API: every request pinned (method, path,
//! headers, JSON body), every answer of `idpay-api-fa.txt` (and of IDPay v1.1 as the
//! digest gives it) decoded, the limits, the faults and the callback.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    assert_500_then_timeout, assert_callbacks_refused, assert_debug_hides, assert_malformed,
    callback_url, created_get, gateway_error, get, http, invalid_order, json_answer, mount,
    mount_json, mount_once, order, paid_callback, post, raw_json, silent_server,
};
use payment_core::{
    Error, GatewayId, IdPay, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Inquiry, Verified},
    error::{CallbackError, ConfigError, GatewayCode, GatewayError, Operation, OrderProblem},
    gateways::idpay::{IdPayCode, IdPayVersion},
    state::OrderState,
    url::Url,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

/// The document's example key (36 characters).
const KEY: &str = "6a7f99eb-7c20-4412-a972-6dfb7cd253a4";
const ID: &str = "d2e353189823079e1e4181772cff5292";

/// The document's create answer.
const DOC_CREATED: &str = r#"{
  "id": "d2e353189823079e1e4181772cff5292",
  "link": "https://idpay.ir/p/ws-sandbox/d2e353189823079e1e4181772cff5292"
}"#;

/// The document's error answer (create and inquiry).
const DOC_ERROR_32: &str = r#"{
  "error_code": 32,
  "error_message": "شماره سفارش `order_id` نباید خالی باشد."
}"#;

/// The document's inquiry answer: every number as a string, status 1 (not paid).
const DOC_INQUIRY: &str = r#"{
  "status": "1",
  "track_id": "10012",
  "id": "d2e353189823079e1e4181772cff5292",
  "order_id": "101",
  "amount": "10000",
  "card_no": "610433******1064",
  "date": "1533559373"
}"#;

/// IDPay v1.1's verify answer, in the digest's shape (numbers as strings).
fn v11_answer(status: &str) -> Value {
    json!({
        "status": status,
        "track_id": "10012",
        "id": ID,
        "order_id": "101",
        "amount": "10000",
        "date": "1533559300",
        "payment": {
            "track_id": "888001",
            "amount": "10000",
            "card_no": "610433******1064",
            "hashed_card_no": "E59FF8B3B2A0D5F9E3C7A7D0B7F0D6C2",
            "date": "1533559373"
        },
        "verify": { "date": "1533559400" }
    })
}

const GW: GatewayId = GatewayId::IdPay;

fn adapter(server: &MockServer) -> IdPay {
    IdPay::new(KEY)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn state() -> OrderState {
    common::state(GW, "101", 10_000, ID)
}

/// Creates order 101 of 10,000 rial.
async fn create(idpay: &IdPay) -> Result<Created, Error> {
    idpay.create(&order("101", 10_000), &callback_url(GW)).await
}

/// Verifies the state's payment after a paid callback.
async fn verify(idpay: &IdPay) -> Result<Verified, Error> {
    idpay.verify(&state(), &paid_callback(GW)).await
}

/// The v1 document's confirmation: the inquiry answer with status 100.
fn doc_inquiry_confirmed() -> String {
    DOC_INQUIRY.replace(r#""status": "1""#, r#""status": "100""#)
}

// ---------------------------------------------------------------- create

#[tokio::test]
async fn create_sends_the_documented_json_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment"))
        .and(header("x-api-key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "order_id": "101",
            "amount": 10000,
            "phone": "09382198592",
            "desc": "توضیحات پرداخت کننده",
            "callback": "https://shop.example/pay/callback/idpay"
        })))
        .respond_with(raw_json(201, DOC_CREATED))
        .expect(1)
        .mount(&server)
        .await;
    let order = order("101", 10_000)
        .with_mobile("09382198592")
        .with_description("توضیحات پرداخت کننده")
        // IDPay's document takes neither: they are not sent.
        .with_email("buyer@example.com")
        .with_payer_name("Buyer");

    let created = adapter(&server)
        .create(&order, &callback_url(GW))
        .await
        .unwrap();

    let link = "https://idpay.ir/p/ws-sandbox/d2e353189823079e1e4181772cff5292";
    assert_eq!(created, created_get(ID, link));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    // Test mode is off by default: no X-SANDBOX header at all.
    assert!(requests[0].headers.get("x-sandbox").is_none());
}

#[tokio::test]
async fn create_without_optional_fields_and_in_test_mode() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment"))
        .and(header("x-api-key", KEY))
        .and(header("x-sandbox", "true"))
        .and(body_json(json!({
            "order_id": "A-1001",
            "amount": 500000000,
            "callback": "https://shop.example/pay/callback/idpay"
        })))
        .respond_with(raw_json(201, DOC_CREATED))
        .expect(1)
        .mount(&server)
        .await;

    let created = adapter(&server)
        .with_sandbox(true)
        .create(&order("A-1001", 500_000_000), &callback_url(GW))
        .await
        .unwrap();

    assert_eq!(created.gateway_ref, ID);
}

#[tokio::test]
async fn version_1_creates_at_v1_payment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment"))
        .and(header("x-api-key", KEY))
        .respond_with(raw_json(201, DOC_CREATED))
        .expect(1)
        .mount(&server)
        .await;

    let created = create(&adapter(&server).with_version(IdPayVersion::V1))
        .await
        .unwrap();

    assert_eq!(created.gateway_ref, ID);
}

#[tokio::test]
async fn create_answered_with_200_as_the_documents_example_heading_says() {
    let server = MockServer::start().await;
    mount(&server, "/v1.1/payment", raw_json(200, DOC_CREATED)).await;

    let created = create(&adapter(&server)).await.unwrap();

    assert_eq!(created.gateway_ref, ID);
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it() {
    let server = MockServer::start().await;
    mount_once(&server, "/idpay/v1.1/payment", raw_json(201, DOC_CREATED)).await;
    let idpay = IdPay::new(KEY)
        .with_base_url(&format!("{}/idpay", server.uri()))
        .unwrap()
        .with_http(http());

    create(&idpay).await.unwrap();
}

#[tokio::test]
async fn create_refusal_carries_the_code_the_http_status_and_the_message() {
    let server = MockServer::start().await;
    mount(&server, "/v1.1/payment", raw_json(406, DOC_ERROR_32)).await;

    let err = create(&adapter(&server)).await.unwrap_err();

    assert!(!err.is_transient());
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GatewayId::IdPay,
            operation: Operation::Create,
            code: GatewayCode::IdPay(IdPayCode::OrderIdEmpty),
            http_status: Some(406),
            message: Some("شماره سفارش `order_id` نباید خالی باشد.".into()),
        }
    );
}

#[tokio::test]
async fn every_documented_error_maps_to_its_typed_code() {
    let table = [
        (403, 11, IdPayCode::UserBlocked),
        (403, 12, IdPayCode::ApiKeyNotFound),
        (403, 13, IdPayCode::IpMismatch),
        (403, 14, IdPayCode::WebServiceNotApproved),
        (403, 21, IdPayCode::BankAccountNotApproved),
        (406, 31, IdPayCode::IdEmpty),
        (406, 32, IdPayCode::OrderIdEmpty),
        (406, 33, IdPayCode::AmountEmpty),
        (406, 34, IdPayCode::AmountBelowMinimum),
        (406, 35, IdPayCode::AmountAboveMaximum),
        (406, 36, IdPayCode::AmountOverLimit),
        (406, 37, IdPayCode::CallbackEmpty),
        (406, 38, IdPayCode::CallbackDomainMismatch),
        (405, 51, IdPayCode::TransactionNotCreated),
        (400, 52, IdPayCode::InquiryNoResult),
        // v1.1's verify refusals.
        (405, 53, IdPayCode::VerifyNotPossible),
        (405, 54, IdPayCode::VerifyWindowPassed),
    ];
    let server = MockServer::start().await;
    let idpay = adapter(&server);
    for (http_status, code, typed) in table {
        server.reset().await;
        // Codes as numbers and as strings alike.
        let body = if code % 2 == 0 {
            format!(r#"{{"error_code":{code},"error_message":"m"}}"#)
        } else {
            format!(r#"{{"error_code":"{code}","error_message":"m"}}"#)
        };
        mount(&server, "/v1.1/payment", raw_json(http_status, &body)).await;
        mount(
            &server,
            "/v1.1/payment/verify",
            raw_json(http_status, &body),
        )
        .await;

        let err = create(&idpay).await.unwrap_err();
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::IdPay(typed), "{code}");
        assert_eq!(e.http_status, Some(http_status));
        assert_eq!(e.message.as_deref(), Some("m"));

        let err = verify(&idpay).await.unwrap_err();
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::IdPay(typed), "{code}");
        assert_eq!(e.operation, Operation::Verify);
    }
}

#[tokio::test]
async fn create_answers_outside_the_document_are_malformed() {
    let cases = [
        (201, r#"{"id":"d2e3"}"#),                              // no link
        (201, r#"{"link":"https://idpay.ir/p/ws-sandbox/x"}"#), // no id
        (201, r#"{"id":"","link":"https://idpay.ir/p/x"}"#),    // empty id
        (201, r#"{"id":"d2e3","link":"javascript:alert(1)"}"#), // not a web link
        (201, r#"{"id":"d2e3","link":"not a url"}"#),
        (202, DOC_CREATED),                                 // undocumented status
        (406, r#"{"error_code":"x","error_message":"m"}"#), // code not a number
        (403, r#"<html>forbidden</html>"#),
        (201, r#"[]"#),
    ];
    let server = MockServer::start().await;
    let idpay = adapter(&server);
    let answers = cases.map(|(status, body)| (format!("{status} {body}"), raw_json(status, body)));
    assert_malformed(&server, GW, "/v1.1/payment", answers, || create(&idpay)).await;
}

#[tokio::test]
async fn check_order_refuses_every_documented_limit_before_any_request() {
    let server = silent_server().await;
    let idpay = adapter(&server);
    let reason = |order: &Order| {
        let refused = invalid_order(idpay.check_order(order));
        assert_eq!(refused.gateway, GW);
        refused.reason
    };

    assert_eq!(
        reason(&order("101", 9_999)),
        OrderProblem::AmountTooLow {
            amount: 9_999,
            min: 10_000
        }
    );
    assert_eq!(
        reason(&order("101", 500_000_001)),
        OrderProblem::AmountTooHigh {
            amount: 500_000_001,
            max: 500_000_000
        }
    );
    assert_eq!(
        reason(&order(&"x".repeat(51), 10_000)),
        OrderProblem::OrderIdTooLong { len: 51, max: 50 }
    );
    for phone in ["0938219859", "093821985921", "0938219859x", "+9893821985"] {
        assert!(
            matches!(
                reason(&order("101", 10_000).with_mobile(phone)),
                OrderProblem::Field { field: "phone", .. }
            ),
            "{phone}"
        );
    }
    assert!(matches!(
        reason(&order("101", 10_000).with_description("س".repeat(256))),
        OrderProblem::Field { field: "desc", .. }
    ));

    // The limits themselves are allowed; a Persian description counts characters.
    let at_limits = order(&"x".repeat(50), 10_000)
        .with_mobile("09382198592")
        .with_description("س".repeat(255));
    assert!(idpay.check_order(&at_limits).is_ok());
    assert!(idpay.check_order(&order("101", 500_000_000)).is_ok());

    // create refuses the same orders, and a callback URL over 255 characters.
    invalid_order(idpay.create(&order("101", 9_999), &callback_url(GW)).await);
    let long = Url::parse(&format!("https://example.com/{}", "c".repeat(236))).unwrap();
    assert_eq!(long.as_str().len(), 256);
    let refused = invalid_order(idpay.create(&order("101", 10_000), &long).await);
    assert!(matches!(refused.reason, OrderProblem::CallbackUrl(_)));
}

#[tokio::test]
async fn an_api_key_that_cannot_be_a_header_is_a_configuration_error() {
    let server = silent_server().await;
    let idpay = IdPay::new("bad\nkey").with_base_url(&server.uri()).unwrap();

    let err = create(&idpay).await.unwrap_err();

    assert!(matches!(err, Error::Config(ConfigError::Invalid(_))));
    assert!(!err.to_string().contains("bad\nkey"));
}

#[tokio::test]
async fn create_500_and_timeout_are_transport_errors_and_not_repeated() {
    let server = MockServer::start().await;
    let idpay = adapter(&server);
    let (error, late) = (ResponseTemplate::new(500), raw_json(201, DOC_CREATED));
    let at = "/v1.1/payment";
    assert_500_then_timeout(&server, GW, at, error, late, || create(&idpay)).await;
}

// ---------------------------------------------------------------- verify (v1.1)

fn expected_v11(already_verified: bool) -> Verified {
    let mut v = Verified::new();
    v.order_id = Some("101".into());
    v.amount = Some(Rial::new(10_000));
    v.bank_reference = Some("888001".into());
    v.card_mask = Some("610433******1064".into());
    v.paid_at = Some("1533559373".into());
    v.already_verified = already_verified;
    v
}

#[tokio::test]
async fn verify_posts_id_and_order_id_from_the_state() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment/verify"))
        .and(header("x-api-key", KEY))
        .and(header("x-sandbox", "true"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "id": ID, "order_id": "101" })))
        .respond_with(json_answer(200, v11_answer("100")))
        .expect(1)
        .mount(&server)
        .await;
    // The callback's values are never used.
    let mut callback = paid_callback(GW);
    callback.reference = Some("another".into());
    callback.amount = Some(Rial::new(1));

    let verified = adapter(&server)
        .with_sandbox(true)
        .verify(&state(), &callback)
        .await
        .unwrap();

    assert_eq!(verified, expected_v11(false));
}

#[tokio::test]
async fn status_101_is_already_verified() {
    let server = MockServer::start().await;
    mount_json(&server, "/v1.1/payment/verify", 200, v11_answer("101")).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert_eq!(verified, expected_v11(true));
}

#[tokio::test]
async fn verify_reads_numbers_sent_as_numbers() {
    let server = MockServer::start().await;
    let body = json!({
        "status": 100, "track_id": 10012, "id": ID, "order_id": 101, "amount": 10000,
        "date": 1533559300,
        "payment": { "track_id": 888001, "amount": 10000, "card_no": "610433******1064",
                     "hashed_card_no": "E59F", "date": 1533559373 },
        "verify": { "date": 1533559400 }
    });
    mount_json(&server, "/v1.1/payment/verify", 200, body).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert_eq!(verified, expected_v11(false));
}

#[tokio::test]
async fn the_paid_amount_is_reported_so_the_pipeline_can_compare_it() {
    let server = MockServer::start().await;
    let mut body = v11_answer("100");
    body["payment"]["amount"] = json!("9000");
    mount_json(&server, "/v1.1/payment/verify", 200, body).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert_eq!(verified.amount, Some(Rial::new(9_000)));
}

#[tokio::test]
async fn other_statuses_in_a_verify_answer_are_refusals_with_that_code() {
    for (status, code) in [
        ("1", IdPayCode::NotPaid),
        ("2", IdPayCode::PaymentFailed),
        ("7", IdPayCode::CancelledByPayer),
        ("10", IdPayCode::AwaitingVerify),
    ] {
        let server = MockServer::start().await;
        mount_json(&server, "/v1.1/payment/verify", 200, v11_answer(status)).await;
        let err = verify(&adapter(&server)).await.unwrap_err();
        assert!(!err.is_transient());
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::IdPay(code), "{status}");
        assert_eq!(e.http_status, None);
    }
}

#[tokio::test]
async fn verify_answers_outside_the_document_are_malformed() {
    let mut other_payment = v11_answer("100");
    other_payment["id"] = json!("ffffffffffffffffffffffffffffffff");
    let mut no_order = v11_answer("100");
    no_order.as_object_mut().unwrap().remove("order_id");
    let mut bad_amount = v11_answer("100");
    bad_amount["payment"]["amount"] = json!("ten");
    let mut no_amount = v11_answer("100");
    no_amount.as_object_mut().unwrap().remove("amount");
    no_amount["payment"]["amount"] = json!("");
    let mut no_status = v11_answer("100");
    no_status.as_object_mut().unwrap().remove("status");
    let cases = [
        (200, other_payment.to_string()),
        (200, no_order.to_string()),
        (200, bad_amount.to_string()),
        (200, no_amount.to_string()),
        (200, no_status.to_string()),
        (200, r#"{"status":"ok"}"#.to_owned()),
        (404, v11_answer("100").to_string()),
        (200, "not json".to_owned()),
    ];
    let server = MockServer::start().await;
    let idpay = adapter(&server);
    let answers = cases.map(|(status, body)| {
        let answer = raw_json(status, &body);
        (body, answer)
    });
    let at = "/v1.1/payment/verify";
    assert_malformed(&server, GW, at, answers, || verify(&idpay)).await;
}

#[tokio::test]
async fn an_empty_payment_part_falls_back_to_the_top_level_fields() {
    let server = MockServer::start().await;
    let mut body = v11_answer("100");
    body["payment"] = json!([]);
    mount_json(&server, "/v1.1/payment/verify", 200, body).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert_eq!(verified.amount, Some(Rial::new(10_000)));
    assert_eq!(verified.bank_reference.as_deref(), Some("10012"));
}

#[tokio::test]
async fn verify_500_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let idpay = adapter(&server);
    let (error, late) = (
        ResponseTemplate::new(500),
        json_answer(200, v11_answer("100")),
    );
    let at = "/v1.1/payment/verify";
    assert_500_then_timeout(&server, GW, at, error, late, || verify(&idpay)).await;
}

// ---------------------------------------------------------------- verify (v1)

#[tokio::test]
async fn version_1_verifies_with_the_documents_inquiry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment/inquiry"))
        .and(header("x-api-key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({ "id": ID, "order_id": "101" })))
        .respond_with(raw_json(200, &doc_inquiry_confirmed()))
        .expect(1)
        .mount(&server)
        .await;

    let verified = verify(&adapter(&server).with_version(IdPayVersion::V1))
        .await
        .unwrap();

    let mut expected = Verified::new();
    expected.order_id = Some("101".into());
    expected.amount = Some(Rial::new(10_000));
    expected.bank_reference = Some("10012".into());
    expected.card_mask = Some("610433******1064".into());
    expected.paid_at = Some("1533559373".into());
    expected.already_verified = false;
    assert_eq!(verified, expected);
}

#[tokio::test]
async fn version_1_refuses_every_status_but_100() {
    for (status, code) in [
        ("1", IdPayCode::NotPaid),
        ("2", IdPayCode::PaymentFailed),
        ("3", IdPayCode::ErrorOccurred),
    ] {
        let server = MockServer::start().await;
        let body = DOC_INQUIRY.replace(r#""status": "1""#, &format!(r#""status": "{status}""#));
        mount(&server, "/v1/payment/inquiry", raw_json(200, &body)).await;
        let err = verify(&adapter(&server).with_version(IdPayVersion::V1))
            .await
            .unwrap_err();
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::IdPay(code), "{status}");
        assert_eq!(e.operation, Operation::Verify);
    }

    // The document's error answer, from the inquiry.
    let server = MockServer::start().await;
    mount(&server, "/v1/payment/inquiry", raw_json(406, DOC_ERROR_32)).await;
    let err = verify(&adapter(&server).with_version(IdPayVersion::V1))
        .await
        .unwrap_err();
    let e = gateway_error(err);
    assert_eq!(e.code, GatewayCode::IdPay(IdPayCode::OrderIdEmpty));
    assert_eq!(e.http_status, Some(406));
}

#[tokio::test]
async fn version_1_reports_another_amount_for_the_pipeline_to_refuse() {
    let server = MockServer::start().await;
    let body = doc_inquiry_confirmed().replace(r#""amount": "10000""#, r#""amount": "1000""#);
    mount(&server, "/v1/payment/inquiry", raw_json(200, &body)).await;

    let verified = verify(&adapter(&server).with_version(IdPayVersion::V1))
        .await
        .unwrap();

    assert_eq!(verified.amount, Some(Rial::new(1_000)));
}

// ---------------------------------------------------------------- inquiry

#[tokio::test]
async fn inquiry_uses_the_v11_inquiry_and_never_verifies() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1.1/payment/inquiry"))
        .and(header("x-api-key", KEY))
        .and(body_json(json!({ "id": ID, "order_id": "101" })))
        .respond_with(json_answer(200, v11_answer("100")))
        .expect(1)
        .mount(&server)
        .await;

    let verified = adapter(&server).inquiry(&state()).await.unwrap();

    // Status 100 in an inquiry: verified by an earlier call.
    assert_eq!(verified, expected_v11(true));
}

#[tokio::test]
async fn inquiry_of_a_payment_not_verified_yet_is_a_refusal() {
    for (status, code) in [
        ("10", IdPayCode::AwaitingVerify),
        ("1", IdPayCode::NotPaid),
        ("7", IdPayCode::CancelledByPayer),
    ] {
        let server = MockServer::start().await;
        mount_json(&server, "/v1.1/payment/inquiry", 200, v11_answer(status)).await;
        let err = adapter(&server).inquiry(&state()).await.unwrap_err();
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::IdPay(code));
        assert_eq!(e.operation, Operation::Inquiry);
    }
    for status in ["101", "200"] {
        let server = MockServer::start().await;
        mount_json(&server, "/v1.1/payment/inquiry", 200, v11_answer(status)).await;
        let verified = adapter(&server).inquiry(&state()).await.unwrap();
        assert!(verified.already_verified, "{status}");
    }
}

#[tokio::test]
async fn version_1_inquiry_reads_the_documents_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment/inquiry"))
        .and(body_json(json!({ "id": ID, "order_id": "101" })))
        .respond_with(raw_json(200, DOC_INQUIRY))
        .expect(1)
        .mount(&server)
        .await;
    let idpay = adapter(&server).with_version(IdPayVersion::V1);

    let err = idpay.inquiry(&state()).await.unwrap_err();
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GatewayId::IdPay,
            operation: Operation::Inquiry,
            code: GatewayCode::IdPay(IdPayCode::NotPaid),
            http_status: None,
            message: None,
        }
    );

    server.reset().await;
    mount(
        &server,
        "/v1/payment/inquiry",
        raw_json(200, &doc_inquiry_confirmed()),
    )
    .await;
    let verified = idpay.inquiry(&state()).await.unwrap();
    assert_eq!(verified.amount, Some(Rial::new(10_000)));
    assert!(!verified.already_verified);

    server.reset().await;
    mount(
        &server,
        "/v1/payment/inquiry",
        raw_json(
            400,
            r#"{"error_code":52,"error_message":"استعلام نتیجه ای نداشت."}"#,
        ),
    )
    .await;
    let e = gateway_error(idpay.inquiry(&state()).await.unwrap_err());
    assert_eq!(e.code, GatewayCode::IdPay(IdPayCode::InquiryNoResult));
    assert_eq!(e.http_status, Some(400));
}

// ---------------------------------------------------------------- callback

fn parse_post(body: &str) -> Result<CallbackData, Error> {
    IdPay::new(KEY).parse_callback(&post(body))
}

#[test]
fn the_documented_paid_callback() {
    let data = parse_post(
        "status=10&track_id=10012&id=d2e353189823079e1e4181772cff5292&order_id=101\
         &amount=10000&card_no=610433******1064&date=1533559373",
    )
    .unwrap();

    let mut expected = paid_callback(GW);
    expected.reference = Some(ID.into());
    expected.order_id = Some("101".into());
    expected.tracking_code = Some("10012".into());
    expected.amount = Some(Rial::new(10_000));
    expected.card_mask = Some("610433******1064".into());
    assert_eq!(data, expected);
}

#[test]
fn version_1_callbacks_say_100() {
    let data = parse_post("status=100&track_id=10012&id=d2e3&order_id=101&amount=10000").unwrap();
    assert_eq!(data.status, CallbackStatus::Paid);
}

#[test]
fn failed_and_cancelled_callbacks_carry_their_code() {
    for (status, code) in [
        (7, IdPayCode::CancelledByPayer),
        (2, IdPayCode::PaymentFailed),
        (1, IdPayCode::NotPaid),
    ] {
        let data = parse_post(&format!(
            "status={status}&track_id=10012&id=d2e3&order_id=101&amount=10000&card_no=&date=1"
        ))
        .unwrap();
        assert_eq!(
            data.status,
            CallbackStatus::Failed {
                code: Some(GatewayCode::IdPay(code)),
                raw_code: Some(status),
            }
        );
        assert_eq!(data.card_mask, None);
    }
}

#[test]
fn the_get_variant_carries_four_fields() {
    let req = get("status=10&track_id=10012&id=d2e3&order_id=101");
    let data = IdPay::new(KEY).parse_callback(&req).unwrap();
    assert_eq!(data.status, CallbackStatus::Paid);
    assert_eq!(data.reference.as_deref(), Some("d2e3"));
    assert_eq!(data.order_id.as_deref(), Some("101"));
    assert_eq!(data.amount, None);
}

#[test]
fn an_undocumented_status_is_left_to_verify() {
    let data = parse_post("status=42&id=d2e3&order_id=101").unwrap();
    assert_eq!(data.status, CallbackStatus::Unknown);
}

#[test]
fn missing_and_malformed_callback_fields_are_refused() {
    use CallbackError::{MalformedField, MissingField};
    let cases = [
        ("track_id=1&id=d2e3&order_id=101", MissingField("status")),
        ("status=10&order_id=101", MissingField("id")),
        ("status=10&id=d2e3&order_id=+", MissingField("order_id")),
        ("status=paid&id=d2e3&order_id=101", MalformedField("status")),
        (
            "status=10&id=d2e3&order_id=101&amount=1e4",
            MalformedField("amount"),
        ),
        (
            "status=10&id=d2e3&order_id=101&amount=99999999999999999999999",
            MalformedField("amount"),
        ),
    ];
    assert_callbacks_refused(&IdPay::new(KEY), post, &cases);
}

#[test]
fn debug_never_shows_the_api_key() {
    let idpay = IdPay::new(KEY).with_sandbox(true);
    assert_debug_hides(
        &idpay,
        &[KEY, "6a7f99eb"],
        &["https://api.idpay.ir/", "V1_1"],
    );
}

#[test]
fn defaults_and_base_url_checks() {
    assert_eq!(IdPayVersion::default(), IdPayVersion::V1_1);
    assert!(IdPay::new(KEY).with_base_url("ftp://x").is_err());
    assert!(IdPay::new(KEY).with_base_url("").is_err());
}
