//! The Zarinpal adapter against a mock of its API: every request pinned (method, path,
//! content type, JSON body), every answer of Zarinpal's v4 documentation decoded (every
//! error code included), the limits, the faults, the callback, inquiry, reverse and the
//! list of unverified payments.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    assert_500_then_timeout, assert_callbacks_refused, assert_debug_hides, assert_malformed,
    assert_order_refused, callback_url, created_get, gateway_error, get, http, json_answer,
    json_answers, mount_json, mount_once, order, paid_callback, raw_json, silent_server,
};
use payment_core::{
    CallbackRequest, CardNumber, ConfigError, Error, GatewayId, Rial, Zarinpal,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Inquiry, Reverse, Verified},
    error::{CallbackError, GatewayCode, GatewayError, Operation, OrderProblem},
    gateways::zarinpal::{UnverifiedPayment, ZarinpalCode, ZarinpalStatus},
    state::OrderState,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer,
    matchers::{body_json, header, method, path},
};

/// The documentation's example merchant_id (36 characters).
const MERCHANT: &str = "1344b5d4-0048-11e8-94db-005056a205be";
/// The documentation's example authority.
const AUTHORITY: &str = "A0000000000000000000000000000wwOGYpd";
const JSON: &str = "application/json";

const GW: GatewayId = GatewayId::Zarinpal;

/// The documentation's create success.
fn doc_created() -> Value {
    json!({
        "data": {
            "code": 100,
            "message": "Success",
            "authority": AUTHORITY,
            "fee_type": "Merchant",
            "fee": 100
        },
        "errors": []
    })
}

/// The documentation's verify success (101 for a payment verified before).
fn doc_verified(code: i64) -> Value {
    json!({
        "data": {
            "code": code,
            "message": if code == 100 { "Paid" } else { "Verified" },
            "card_hash": "1EBE3EBEBE35C7EC0F8D6EE4F2F859107A87822CA179BC9528767EA7B5489B69",
            "card_pan": "502229******5995",
            "ref_id": 201,
            "fee_type": "Merchant",
            "fee": 0
        },
        "errors": []
    })
}

/// A refusal in the documented shape.
fn refusal(code: i64, message: &str) -> Value {
    json!({
        "data": [],
        "errors": { "code": code, "message": message, "validations": [] }
    })
}

fn adapter(server: &MockServer) -> Zarinpal {
    Zarinpal::new(MERCHANT)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn state(order_id: &str, amount: u64) -> OrderState {
    common::state(GW, order_id, amount, AUTHORITY)
}

/// Creates order A-1 of 10,000 rial.
async fn create(zarinpal: &Zarinpal) -> Result<Created, Error> {
    zarinpal
        .create(&order("A-1", 10_000), &callback_url(GW))
        .await
}

/// Verifies the documentation's authority for order A-1, 10,000 rial.
async fn verify(zarinpal: &Zarinpal) -> Result<Verified, Error> {
    zarinpal
        .verify(&state("A-1", 10_000), &paid_callback(GW))
        .await
}

const REQUEST: &str = "/pg/v4/payment/request.json";
const VERIFY: &str = "/pg/v4/payment/verify.json";
const INQUIRY: &str = "/pg/v4/payment/inquiry.json";
const REVERSE: &str = "/pg/v4/payment/reverse.json";
const UNVERIFIED: &str = "/pg/v4/payment/unVerified.json";

// ---------------------------------------------------------------- create

#[tokio::test]
async fn create_sends_every_documented_field_as_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(REQUEST))
        .and(header("content-type", JSON))
        .and(body_json(json!({
            "merchant_id": MERCHANT,
            "amount": 120000,
            "currency": "IRR",
            "description": "افزایش اعتبار کاربر شماره ۱۱۳۴۶۲۹",
            "callback_url": "https://shop.example/pay/callback/zarinpal",
            "metadata": {
                "order_id": "ZP-1001",
                "mobile": "09121234567",
                "email": "info.test@example.com",
                "card_pan": "5022291012345678"
            }
        })))
        .respond_with(json_answer(200, doc_created()))
        .expect(1)
        .mount(&server)
        .await;
    let order = order("ZP-1001", 120_000)
        .with_description("افزایش اعتبار کاربر شماره ۱۱۳۴۶۲۹")
        .with_mobile("09121234567")
        .with_email("info.test@example.com")
        .with_card_number(CardNumber::new("5022-2910-1234-5678").unwrap())
        // Zarinpal takes no payer name: it is not sent.
        .with_payer_name("Buyer");

    let created = adapter(&server)
        .create(&order, &callback_url(GW))
        .await
        .unwrap();

    let start = format!("{}/pg/StartPay/{AUTHORITY}", server.uri());
    assert_eq!(created, created_get(AUTHORITY, &start));
}

#[tokio::test]
async fn create_without_a_description_sends_one_made_of_the_order_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(REQUEST))
        .and(body_json(json!({
            "merchant_id": MERCHANT,
            "amount": 10000,
            "currency": "IRR",
            "description": "Order A-1",
            "callback_url": "https://shop.example/pay/callback/zarinpal",
            "metadata": { "order_id": "A-1" }
        })))
        .respond_with(json_answer(200, doc_created()))
        .expect(2)
        .mount(&server)
        .await;
    let zarinpal = adapter(&server);

    create(&zarinpal).await.unwrap();
    // A blank description is no description.
    let blank = order("A-1", 10_000).with_description("  ");
    zarinpal.create(&blank, &callback_url(GW)).await.unwrap();
}

#[tokio::test]
async fn the_sandbox_and_a_base_url_with_a_path_are_used_for_calls_and_the_redirect() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        &format!("/zarinpal{REQUEST}"),
        json_answer(200, doc_created()),
    )
    .await;
    // The last of with_sandbox and with_base_url decides the host.
    let zarinpal = Zarinpal::new(MERCHANT)
        .with_sandbox(true)
        .with_base_url(&format!("{}/zarinpal", server.uri()))
        .unwrap()
        .with_http(http());

    let created = create(&zarinpal).await.unwrap();

    assert_eq!(
        created.redirect.url().as_str(),
        format!("{}/zarinpal/pg/StartPay/{AUTHORITY}", server.uri())
    );
    let debug = format!("{:?}", Zarinpal::new(MERCHANT).with_sandbox(true));
    assert!(debug.contains("https://sandbox.zarinpal.com/"), "{debug}");
    let debug = format!("{:?}", zarinpal.with_sandbox(false));
    assert!(debug.contains("https://payment.zarinpal.com/"), "{debug}");
}

#[tokio::test]
async fn create_rejection_is_a_refusal_with_the_code_the_status_and_the_validations() {
    let server = MockServer::start().await;
    let body = json!({
        "data": [],
        "errors": {
            "code": -9,
            "message": "The input params invalid, validation error.",
            "validations": [
                { "amount": "The amount must be at least 1000." },
                { "callback_url": "The callback url format is invalid." }
            ]
        }
    });
    mount_json(&server, REQUEST, 422, body).await;

    let err = create(&adapter(&server)).await.unwrap_err();

    assert!(!err.is_transient());
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GW,
            operation: Operation::Create,
            code: GatewayCode::Zarinpal(ZarinpalCode::ValidationError),
            http_status: Some(422),
            message: Some(
                "The input params invalid, validation error. (amount: The amount must be at \
                 least 1000.; callback_url: The callback url format is invalid.)"
                    .into()
            ),
        }
    );
}

#[tokio::test]
async fn create_reads_numbers_sent_as_strings() {
    let server = MockServer::start().await;
    let mut body = doc_created();
    body["data"]["code"] = json!("100");
    mount_json(&server, REQUEST, 200, body).await;

    let created = create(&adapter(&server)).await.unwrap();

    assert_eq!(created.gateway_ref, AUTHORITY);
}

#[tokio::test]
async fn create_answers_outside_the_document_are_malformed() {
    let mut no_authority = doc_created();
    no_authority["data"]
        .as_object_mut()
        .unwrap()
        .remove("authority");
    let mut bad_authority = doc_created();
    bad_authority["data"]["authority"] = json!("../A?x#y");
    let mut empty_authority = doc_created();
    empty_authority["data"]["authority"] = json!("");
    let mut no_code = doc_created();
    no_code["data"].as_object_mut().unwrap().remove("code");
    let bodies = [
        no_authority,
        bad_authority,
        empty_authority,
        no_code,
        json!({"data": [], "errors": []}),
        json!({"data": [], "errors": {"code": "x", "message": "m"}}),
        json!({"data": {"code": 100, "authority": AUTHORITY}, "errors": ["oops"]}),
        json!([]),
    ];
    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let mut answers: Vec<_> = json_answers(bodies).into_iter().collect();
    // A success with an HTTP status Zarinpal does not answer with.
    answers.push((doc_created(), json_answer(404, doc_created())));
    answers.push((json!("html"), raw_json(200, "<html>bad gateway</html>")));
    assert_malformed(&server, GW, REQUEST, answers, || create(&zarinpal)).await;
}

#[tokio::test]
async fn check_order_refuses_every_documented_limit_before_any_request() {
    let server = silent_server().await;
    let zarinpal = adapter(&server);
    let url = callback_url(GW);
    let low = OrderProblem::AmountTooLow {
        amount: 9_999,
        min: 10_000,
    };
    assert_order_refused(&zarinpal, &url, &order("A-1", 9_999), low).await;
    let high = OrderProblem::AmountTooHigh {
        amount: 1_000_000_001,
        max: 1_000_000_000,
    };
    assert_order_refused(&zarinpal, &url, &order("A-1", 1_000_000_001), high).await;
    let long = order("A-1", 10_000).with_description("س".repeat(501));
    let reason = OrderProblem::Field {
        field: "description",
        rule: "at most 500 characters",
    };
    assert_order_refused(&zarinpal, &url, &long, reason).await;
    for mobile in ["9121234567", "0912123456x", "+989121234567", "091212345678"] {
        let refused =
            common::invalid_order(zarinpal.check_order(&order("A-1", 10_000).with_mobile(mobile)));
        assert!(
            matches!(
                refused.reason,
                OrderProblem::Field {
                    field: "mobile",
                    ..
                }
            ),
            "{mobile}"
        );
    }

    // The limits themselves are allowed.
    let at_limits = order("A-1", 10_000)
        .with_description("س".repeat(500))
        .with_mobile("09121234567");
    assert!(zarinpal.check_order(&at_limits).is_ok());
    assert!(zarinpal.check_order(&order("A-1", 1_000_000_000)).is_ok());
}

#[tokio::test]
async fn a_merchant_id_that_is_not_a_uuid_is_a_configuration_error_before_any_request() {
    let server = silent_server().await;
    for bad in [
        "",
        "not-a-merchant-id",
        "1344b5d4-0048-11e8-94db-005056a205b",
        "1344b5d4-0048-11e8-94db-005056a205bee",
        "1344b5d4x0048-11e8-94db-005056a205be",
        "1344b5d4-0048-11e8-94db-005056a205bg",
    ] {
        let zarinpal = Zarinpal::new(bad).with_base_url(&server.uri()).unwrap();
        assert!(zarinpal.check_merchant_id().is_err(), "{bad:?}");
        for err in [
            create(&zarinpal).await.unwrap_err(),
            verify(&zarinpal).await.unwrap_err(),
            zarinpal.inquiry(&state("A-1", 10_000)).await.unwrap_err(),
            zarinpal.reverse(&state("A-1", 10_000)).await.unwrap_err(),
            zarinpal.unverified().await.unwrap_err(),
        ] {
            assert!(
                matches!(err, Error::Config(ConfigError::Invalid(_))),
                "{bad:?}: {err:?}"
            );
            if !bad.is_empty() {
                assert!(!err.to_string().contains(bad));
            }
        }
    }
    // Upper-case hex digits are a UUID too.
    assert!(
        Zarinpal::new(MERCHANT.to_uppercase())
            .check_merchant_id()
            .is_ok()
    );
}

#[tokio::test]
async fn create_500_and_timeout_are_transport_errors_and_not_repeated() {
    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let (error, late) = (
        raw_json(500, "<html>oops</html>"),
        json_answer(200, doc_created()),
    );
    assert_500_then_timeout(&server, GW, REQUEST, error, late, || create(&zarinpal)).await;
}

// ---------------------------------------------------------------- verify

#[tokio::test]
async fn verify_sends_the_states_authority_and_amount_and_reads_the_documented_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", JSON))
        .and(body_json(json!({
            "merchant_id": MERCHANT,
            "authority": AUTHORITY,
            "amount": 10000
        })))
        .respond_with(json_answer(200, doc_verified(100)))
        .expect(1)
        .mount(&server)
        .await;
    // The callback's values are never used.
    let mut callback = paid_callback(GW);
    callback.reference = Some("A000000000000000000000000000other".into());
    callback.amount = Some(Rial::new(1));

    let verified = adapter(&server)
        .verify(&state("A-1", 10_000), &callback)
        .await
        .unwrap();

    let mut expected = Verified::new();
    expected.bank_reference = Some("201".into());
    expected.card_mask = Some("502229******5995".into());
    expected.already_verified = false;
    assert_eq!(verified, expected);
}

#[tokio::test]
async fn code_101_is_already_verified() {
    let server = MockServer::start().await;
    mount_json(&server, VERIFY, 200, doc_verified(101)).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert!(verified.already_verified);
    assert_eq!(verified.bank_reference.as_deref(), Some("201"));
}

#[tokio::test]
async fn an_order_id_or_amount_in_the_answer_is_reported_for_the_pipeline_to_compare() {
    let server = MockServer::start().await;
    let mut body = doc_verified(100);
    body["data"]["order_id"] = json!("A-2");
    body["data"]["amount"] = json!(9_000);
    mount_json(&server, VERIFY, 200, body).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert_eq!(verified.order_id.as_deref(), Some("A-2"));
    assert_eq!(verified.amount, Some(Rial::new(9_000)));
}

#[tokio::test]
async fn every_documented_error_code_maps_to_its_typed_code() {
    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let codes = ZarinpalCode::ALL
        .iter()
        .copied()
        .filter(|c| GatewayCode::Zarinpal(*c).code() < 0);
    for code in codes {
        let n = GatewayCode::Zarinpal(code).code();
        server.reset().await;
        // Refusals come with HTTP 200 and with 4xx alike; the status is kept.
        let status = if n % 2 == 0 { 200 } else { 400 };
        mount_json(&server, VERIFY, status, refusal(n, "x")).await;
        let e = gateway_error(verify(&zarinpal).await.unwrap_err());
        assert_eq!(e.code, GatewayCode::Zarinpal(code), "{n}");
        assert_eq!(e.operation, Operation::Verify);
        assert_eq!(e.http_status, (status != 200).then_some(status));
        assert_eq!(e.message.as_deref(), Some("x"));
        let transient = matches!(
            code,
            ZarinpalCode::TooManyAttempts | ZarinpalCode::Unexpected
        );
        assert_eq!(GatewayCode::Zarinpal(code).is_transient(), transient, "{n}");
    }
    // A code the list does not hold is kept as a number.
    server.reset().await;
    mount_json(&server, VERIFY, 200, refusal(-99, "x")).await;
    let e = gateway_error(verify(&zarinpal).await.unwrap_err());
    assert_eq!(e.code, GatewayCode::Undocumented(-99));
}

#[tokio::test]
async fn the_documented_verify_refusals() {
    for (code, typed) in [
        (-50, ZarinpalCode::AmountMismatch),
        (-51, ZarinpalCode::NotPaid),
        (-53, ZarinpalCode::OtherMerchant),
        (-54, ZarinpalCode::InvalidAuthority),
        (-55, ZarinpalCode::NotFound),
    ] {
        let server = MockServer::start().await;
        mount_json(&server, VERIFY, 200, refusal(code, "m")).await;
        let err = verify(&adapter(&server)).await.unwrap_err();
        assert!(!err.is_transient(), "{code}");
        assert_eq!(gateway_error(err).code, GatewayCode::Zarinpal(typed));
    }
    // -52 asks to try later: the payment stays pending.
    let server = MockServer::start().await;
    mount_json(&server, VERIFY, 200, refusal(-52, "Oops!!")).await;
    assert!(verify(&adapter(&server)).await.unwrap_err().is_transient());
}

#[tokio::test]
async fn a_code_other_than_100_or_101_in_data_is_a_refusal() {
    let server = MockServer::start().await;
    let body = json!({"data": {"code": -51, "message": "failed"}, "errors": []});
    mount_json(&server, VERIFY, 200, body).await;

    let e = gateway_error(verify(&adapter(&server)).await.unwrap_err());

    assert_eq!(e.code, GatewayCode::Zarinpal(ZarinpalCode::NotPaid));
    assert_eq!(e.message.as_deref(), Some("failed"));
}

#[tokio::test]
async fn a_gateway_message_never_carries_the_merchant_id() {
    let server = MockServer::start().await;
    let body = refusal(-10, &format!("terminal {MERCHANT} is not valid"));
    mount_json(&server, VERIFY, 200, body).await;

    let err = verify(&adapter(&server)).await.unwrap_err();

    assert!(!err.to_string().contains(MERCHANT));
    let e = gateway_error(err);
    assert_eq!(
        e.message.as_deref(),
        Some("terminal [redacted] is not valid")
    );
}

#[tokio::test]
async fn verify_answers_outside_the_document_are_malformed() {
    let mut bad_amount = doc_verified(100);
    bad_amount["data"]["amount"] = json!("ten");
    let bodies = [
        bad_amount,
        json!({"data": {"message": "Paid"}, "errors": []}),
        json!({"data": {"code": "paid"}, "errors": []}),
        json!({"data": "ok", "errors": []}),
        json!({"errors": {"message": "no code"}}),
    ];
    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let mut answers: Vec<_> = json_answers(bodies).into_iter().collect();
    answers.push((doc_verified(100), json_answer(404, doc_verified(100))));
    assert_malformed(&server, GW, VERIFY, answers, || verify(&zarinpal)).await;
}

#[tokio::test]
async fn verify_500_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let (error, late) = (raw_json(500, "oops"), json_answer(200, doc_verified(100)));
    assert_500_then_timeout(&server, GW, VERIFY, error, late, || verify(&zarinpal)).await;
}

// ---------------------------------------------------------------- inquiry

fn inquiry_answer(status: &str) -> Value {
    json!({
        "data": { "status": status, "code": 100, "message": "Success" },
        "errors": []
    })
}

#[tokio::test]
async fn inquiry_sends_the_authority_and_only_verified_is_confirmed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(INQUIRY))
        .and(header("content-type", JSON))
        .and(body_json(
            json!({ "merchant_id": MERCHANT, "authority": AUTHORITY }),
        ))
        .respond_with(json_answer(200, inquiry_answer("VERIFIED")))
        .expect(2)
        .mount(&server)
        .await;
    let zarinpal = adapter(&server);

    let verified = zarinpal.inquiry(&state("A-1", 10_000)).await.unwrap();
    assert!(verified.already_verified);
    assert_eq!(verified.amount, None);
    // The pipeline asks through the same call.
    let confirmed = zarinpal.confirmed_status(&state("A-1", 10_000)).await;
    assert!(confirmed.unwrap().already_verified);
}

#[tokio::test]
async fn every_documented_inquiry_status_is_read() {
    for &status in ZarinpalStatus::ALL {
        let server = MockServer::start().await;
        mount_json(&server, INQUIRY, 200, inquiry_answer(status.as_str())).await;
        let zarinpal = adapter(&server);
        let st = state("A-1", 10_000);

        assert_eq!(zarinpal.status(&st).await.unwrap(), status);
        let inquiry = zarinpal.inquiry(&st).await;
        if status == ZarinpalStatus::Verified {
            assert!(inquiry.unwrap().already_verified);
        } else {
            // Not confirmed: a refusal with the answer's code and the status as sent.
            assert_eq!(
                gateway_error(inquiry.unwrap_err()),
                GatewayError {
                    gateway: GW,
                    operation: Operation::Inquiry,
                    code: GatewayCode::Zarinpal(ZarinpalCode::Success),
                    http_status: None,
                    message: Some(status.as_str().to_owned()),
                },
                "{status:?}"
            );
        }
        assert_eq!(ZarinpalStatus::from_name(status.as_str()), Some(status));
        assert!(!status.english().is_empty() && !status.persian().is_empty());
    }
    assert_eq!(ZarinpalStatus::from_name("paid"), None);
}

#[tokio::test]
async fn inquiry_refusals_and_unknown_statuses() {
    let server = MockServer::start().await;
    mount_json(&server, INQUIRY, 200, refusal(-54, "Invalid authority.")).await;
    let e = gateway_error(
        adapter(&server)
            .inquiry(&state("A-1", 10_000))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.code,
        GatewayCode::Zarinpal(ZarinpalCode::InvalidAuthority)
    );
    assert_eq!(e.operation, Operation::Inquiry);

    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let answers = json_answers([
        inquiry_answer("SOMETHING_ELSE"),
        json!({"data": {"code": 100, "message": "Success"}, "errors": []}),
    ]);
    let st = state("A-1", 10_000);
    assert_malformed(&server, GW, INQUIRY, answers, || zarinpal.inquiry(&st)).await;
}

// ---------------------------------------------------------------- reverse

#[tokio::test]
async fn reverse_posts_the_authority_and_reads_the_documented_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(REVERSE))
        .and(header("content-type", JSON))
        .and(body_json(
            json!({ "merchant_id": MERCHANT, "authority": AUTHORITY }),
        ))
        .respond_with(json_answer(
            200,
            json!({"data": {"code": 100, "message": "Reversed"}, "errors": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let reversed = adapter(&server)
        .reverse(&state("A-1", 10_000))
        .await
        .unwrap();

    assert_eq!(reversed, Verified::new());
}

#[tokio::test]
async fn reverse_refusals_are_refusals_of_reverse() {
    for (code, typed) in [
        (-60, ZarinpalCode::ReverseRefusedByBank),
        (-61, ZarinpalCode::NotSuccessful),
        (-62, ZarinpalCode::IpLimitNotActive),
        (-63, ZarinpalCode::ReverseWindowExpired),
    ] {
        let server = MockServer::start().await;
        let body = json!({
            "data": {},
            "errors": { "message": "can not be reversed with bank.", "code": code }
        });
        mount_json(&server, REVERSE, 200, body).await;
        let e = gateway_error(
            adapter(&server)
                .reverse(&state("A-1", 10_000))
                .await
                .unwrap_err(),
        );
        assert_eq!(e.operation, Operation::Reverse);
        assert_eq!(e.code, GatewayCode::Zarinpal(typed));
    }
}

#[tokio::test]
async fn reverse_500_is_a_transport_error_and_not_repeated() {
    let server = MockServer::start().await;
    mount_once(&server, REVERSE, raw_json(503, "")).await;

    let err = adapter(&server)
        .reverse(&state("A-1", 10_000))
        .await
        .unwrap_err();

    assert!(err.is_transient());
    assert_eq!(
        common::transport_kind(GW, err),
        payment_core::error::TransportErrorKind::Status(503)
    );
}

// ---------------------------------------------------------------- unverified

#[tokio::test]
async fn unverified_posts_the_merchant_id_and_lists_the_authorities() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(UNVERIFIED))
        .and(header("content-type", JSON))
        .and(body_json(json!({ "merchant_id": MERCHANT })))
        .respond_with(json_answer(
            200,
            json!({
                "data": {
                    "code": 100,
                    "message": "Success",
                    "authorities": [
                        {
                            "authority": AUTHORITY,
                            "amount": 50500,
                            "callback_url": "https://shop.example/pay/callback/zarinpal",
                            "referer": "https://shop.example/checkout",
                            "date": "2020-07-01 17:33:17"
                        },
                        {
                            "authority": "A0000000000000000000000000000yyOGYpd",
                            "amount": "10000",
                            "callback_url": "",
                            "referer": "",
                            "date": "2020-07-01 17:34:00"
                        }
                    ]
                },
                "errors": []
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let list = adapter(&server).unverified().await.unwrap();

    assert_eq!(list.len(), 2);
    let first: &UnverifiedPayment = &list[0];
    assert_eq!(first.authority, AUTHORITY);
    assert_eq!(first.amount, Rial::new(50_500));
    assert_eq!(
        first.callback_url.as_deref(),
        Some("https://shop.example/pay/callback/zarinpal")
    );
    assert_eq!(
        first.referer.as_deref(),
        Some("https://shop.example/checkout")
    );
    assert_eq!(first.date.as_deref(), Some("2020-07-01 17:33:17"));
    assert_eq!(list[1].amount, Rial::new(10_000));
    assert_eq!(list[1].referer, None);
    assert_eq!(list[1].callback_url, None);
}

#[tokio::test]
async fn an_empty_or_missing_list_is_no_payment_and_refusals_are_refusals() {
    for data in [
        json!({"code": 100, "message": "Success", "authorities": []}),
        json!({"code": 100, "message": "Success"}),
    ] {
        let server = MockServer::start().await;
        mount_json(
            &server,
            UNVERIFIED,
            200,
            json!({"data": data, "errors": []}),
        )
        .await;
        assert!(adapter(&server).unverified().await.unwrap().is_empty());
    }
    let server = MockServer::start().await;
    mount_json(&server, UNVERIFIED, 200, refusal(-11, "inactive")).await;
    let e = gateway_error(adapter(&server).unverified().await.unwrap_err());
    assert_eq!(
        e.code,
        GatewayCode::Zarinpal(ZarinpalCode::TerminalNotActive)
    );
    assert_eq!(e.operation, Operation::Inquiry);

    let server = MockServer::start().await;
    let zarinpal = adapter(&server);
    let answers = json_answers([
        json!({"data": {"code": 100, "authorities": {"authority": AUTHORITY}}, "errors": []}),
        json!({"data": {"code": 100, "authorities": [{"amount": 1}]}, "errors": []}),
        json!({"data": {"code": 100, "authorities": [{"authority": AUTHORITY}]}, "errors": []}),
        json!({"data": {"code": 100, "authorities": ["x"]}, "errors": []}),
    ]);
    assert_malformed(&server, GW, UNVERIFIED, answers, || zarinpal.unverified()).await;
}

// ---------------------------------------------------------------- callback

fn parse(query: &str) -> Result<CallbackData, Error> {
    Zarinpal::new(MERCHANT).parse_callback(&get(query))
}

#[test]
fn the_documented_paid_callback() {
    let data = parse(&format!("Authority={AUTHORITY}&Status=OK")).unwrap();

    let mut expected = paid_callback(GW);
    expected.reference = Some(AUTHORITY.into());
    assert_eq!(data, expected);
}

#[test]
fn a_failed_callback_has_no_code() {
    let data = parse(&format!("Authority={AUTHORITY}&Status=NOK")).unwrap();

    assert_eq!(
        data.status,
        CallbackStatus::Failed {
            code: None,
            raw_code: None,
        }
    );
    assert_eq!(data.reference.as_deref(), Some(AUTHORITY));
    assert_eq!(data.order_id, None);
}

#[test]
fn a_callback_posted_as_a_form_is_read_too() {
    let body = format!("Authority={AUTHORITY}&Status=OK");
    let req = CallbackRequest::from_post("", body.as_bytes()).unwrap();
    let data = Zarinpal::new(MERCHANT).parse_callback(&req).unwrap();
    assert_eq!(data.status, CallbackStatus::Paid);
}

#[test]
fn missing_and_malformed_callback_fields_are_refused() {
    use CallbackError::{MalformedField, MissingField};
    let cases = [
        ("Status=OK", MissingField("Authority")),
        ("Authority=&Status=OK", MissingField("Authority")),
        ("Authority=A1", MissingField("Status")),
        ("Authority=A1&Status=ok", MalformedField("Status")),
        ("Authority=A1&Status=1", MalformedField("Status")),
        // Field names are as documented: case matters.
        ("authority=A1&status=OK", MissingField("Authority")),
    ];
    assert_callbacks_refused(&Zarinpal::new(MERCHANT), get, &cases);
}

#[test]
fn debug_never_shows_the_merchant_id() {
    assert_debug_hides(
        &Zarinpal::new(MERCHANT),
        &[MERCHANT, "1344b5d4"],
        &["https://payment.zarinpal.com/"],
    );
}

#[test]
fn codes_have_both_meanings_and_base_urls_must_be_http() {
    for &code in ZarinpalCode::ALL {
        let code = GatewayCode::Zarinpal(code);
        assert!(!code.english().is_empty() && !code.persian().is_empty());
        assert_eq!(GatewayCode::lookup(GW, code.code()), code);
    }
    assert_eq!(
        GatewayCode::lookup(GW, 101),
        GatewayCode::Zarinpal(ZarinpalCode::Verified)
    );
    assert!(Zarinpal::new(MERCHANT).with_base_url("ftp://x").is_err());
    assert!(Zarinpal::new(MERCHANT).with_base_url("not a url").is_err());
}

// ---------------------------------------------------------------- through the pipeline

/// `Payments` with this adapter at `server`; order A-101 of 50,000 rial started, and the
/// buyer's paid return with its state cookie.
async fn started(server: &MockServer) -> (payment_core::Payments, CallbackRequest) {
    use payment_core::Payments;
    mount_json(server, REQUEST, 200, doc_created()).await;
    let payments = Payments::builder("https://shop.example", common::scripted::keys(9))
        .gateway(adapter(server))
        .build()
        .unwrap();
    let started = payments.start(GW, &order("A-101", 50_000)).await.unwrap();
    let request = get(&format!("Authority={AUTHORITY}&Status=OK"))
        .with_cookie(&started.cookie().name, &started.cookie().value);
    (payments, request)
}

#[tokio::test]
async fn a_paid_return_becomes_a_receipt_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(body_json(json!({
            "merchant_id": MERCHANT, "authority": AUTHORITY, "amount": 50000
        })))
        .respond_with(json_answer(200, doc_verified(100)))
        .expect(1)
        .mount(&server)
        .await;
    let (payments, request) = started(&server).await;

    let result = payments.handle_callback(GW, &request).await;

    let Ok(receipt) = result.outcome else {
        panic!("expected paid, got {:?}", result.outcome)
    };
    assert_eq!(receipt.order_id().as_str(), "A-101");
    assert_eq!(receipt.amount(), Rial::new(50_000));
    assert_eq!(receipt.gateway_ref(), AUTHORITY);
    assert_eq!(receipt.bank_reference(), Some("201"));
    let again = payments.handle_callback(GW, &request).await;
    assert!(
        matches!(
            again.outcome,
            Err(payment_core::NotPaid::Rejected(
                payment_core::Rejection::Replay
            ))
        ),
        "{:?}",
        again.outcome
    );
}

#[tokio::test]
async fn a_refused_verify_is_paid_only_when_inquiry_says_verified() {
    for (status, paid) in [("VERIFIED", true), ("PAID", false), ("FAILED", false)] {
        let server = MockServer::start().await;
        mount_json(&server, VERIFY, 200, refusal(-51, "not paid")).await;
        mount_once(&server, INQUIRY, json_answer(200, inquiry_answer(status))).await;
        let (payments, request) = started(&server).await;

        let result = payments.handle_callback(GW, &request).await;

        match result.outcome {
            Ok(receipt) => assert!(paid, "{status}: {receipt:?}"),
            Err(payment_core::NotPaid::Failed(failed)) => {
                assert!(!paid, "{status}");
                let payment_core::outcome::FailureReason::Declined(refusal) = failed.reason else {
                    panic!("expected the verify refusal, got {:?}", failed.reason)
                };
                assert_eq!(refusal.code, GatewayCode::Zarinpal(ZarinpalCode::NotPaid));
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}
