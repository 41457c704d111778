//! The CanPay adapter against a mock server: the exact requests it sends, and every answer
//! in `canpay-api-fa.txt` (and the digest) decoded to the right typed result.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    assert_500_then_timeout, assert_callbacks_refused, assert_debug_hides, assert_malformed,
    assert_order_refused, created_get, gateway_error, http, json_answer, json_answers, mount_json,
    order, post, silent_server,
};
use payment_core::{
    CanPay, Error, GatewayId, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Verified},
    error::{CallbackError, GatewayCode, GatewayError, Operation, OrderProblem},
    state::OrderState,
    url::Url,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer,
    matchers::{body_json, header, method, path},
};

const MERCHANT: &str = "xxx-xxx-xxx-xxx";
const TOKEN: &str = "SNHQA1TYFGSFARZUM5A03YXJWOAOHJ";

const GW: GatewayId = GatewayId::CanPay;
const TOKEN_PATH: &str = "/api/ipg/token";
const VERIFY_PATH: &str = "/api/ipg/verify";

fn adapter(server: &MockServer) -> CanPay {
    CanPay::new(MERCHANT)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

/// The document's example callback URL.
fn callback_url() -> Url {
    Url::parse("https://site.com/verify").unwrap()
}

fn state(token: &str) -> OrderState {
    common::state(GW, "47", 10_000, token)
}

fn paid_callback(token: &str) -> CallbackData {
    let body = format!("success=1&token={token}&amount=10000&invoice_id=47");
    CanPay::new(MERCHANT).parse_callback(&post(&body)).unwrap()
}

/// Creates the document's order 47 of 10,000 rial.
async fn create(canpay: &CanPay) -> Result<Created, Error> {
    canpay.create(&order("47", 10_000), &callback_url()).await
}

/// Verifies the payment of [`TOKEN`] after its paid callback.
async fn verify(canpay: &CanPay) -> Result<Verified, Error> {
    canpay.verify(&state(TOKEN), &paid_callback(TOKEN)).await
}

async fn mount(server: &MockServer, route: &str, status: u16, body: Value) {
    mount_json(server, route, status, body).await;
}

// ---------------------------------------------------------------------------------------
// create

#[tokio::test]
async fn create_sends_the_documents_example_request_and_reads_its_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "merchant": MERCHANT,
            "amount": 10000,
            "callback_url": "https://site.com/verify",
            "invoice_id": "47"
        })))
        .respond_with(json_answer(
            200,
            json!({
                "status": true,
                "data": {
                    "url": "https://canpay.ir/ipg/SNHQA1TYFGSFARZUM5A03YXJWOAOHJ",
                    "token": TOKEN
                }
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let created = create(&adapter(&server)).await.unwrap();
    let redirect = "https://canpay.ir/ipg/SNHQA1TYFGSFARZUM5A03YXJWOAOHJ";
    assert_eq!(created, created_get(TOKEN, redirect));
    // No header carries the merchant code; it travels in the body only.
    let requests = server.received_requests().await.unwrap();
    let request = requests.first().unwrap();
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn create_sends_mobile_when_the_order_has_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_json(json!({
            "merchant": MERCHANT,
            "amount": 10000,
            "callback_url": "https://site.com/verify",
            "invoice_id": "47",
            "mobile": "09123456789"
        })))
        .respond_with(json_answer(
            200,
            json!({
                "status": true, "data": {"url": "https://canpay.ir/ipg/T", "token": "T"}
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let order = order("47", 10_000)
        .with_mobile("09123456789")
        .with_description("not sent: CanPay takes no description");
    let created = adapter(&server)
        .create(&order, &callback_url())
        .await
        .unwrap();
    assert_eq!(created.gateway_ref, "T");
}

#[tokio::test]
async fn the_documented_error_shape_is_an_undocumented_code_refusal() {
    let server = MockServer::start().await;
    let canpay = adapter(&server);
    // The document's shape, with `error` filled in (its example leaves it unquoted).
    let cases = [
        (
            200,
            json!({"status": false, "error": "error", "code": 12,
                   "message": "Error description", "description": ""}),
            12,
            None,
            Some("Error description"),
        ),
        (
            422,
            json!({"status": false, "error": "validation", "code": 1,
                   "message": "The amount field is required.", "description": ""}),
            1,
            Some(422),
            Some("The amount field is required."),
        ),
        (
            401,
            json!({"status": false, "error": "invalid_merchant", "code": "2",
                   "message": "Merchant is not valid.", "description": ""}),
            2,
            Some(401),
            Some("Merchant is not valid."),
        ),
        // No code at all: the HTTP status stands in; `error` stands in for `message`.
        (
            403,
            json!({"status": false, "error": "ip not allowed"}),
            403,
            Some(403),
            Some("ip not allowed"),
        ),
    ];
    for (status, body, code, http_status, message) in cases {
        server.reset().await;
        mount(&server, TOKEN_PATH, status, body).await;
        let err = create(&canpay).await.unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(
            gateway_error(err),
            GatewayError {
                gateway: GW,
                operation: Operation::Create,
                code: GatewayCode::Undocumented(code),
                http_status,
                message: message.map(str::to_owned),
            }
        );
    }
}

#[tokio::test]
async fn an_echoed_merchant_code_is_cut_from_the_message() {
    let server = MockServer::start().await;
    mount(
        &server,
        TOKEN_PATH,
        401,
        json!({"status": false, "code": 2, "message": format!("merchant {MERCHANT} is not valid")}),
    )
    .await;
    let err = create(&adapter(&server)).await.unwrap_err();
    assert!(!err.to_string().contains(MERCHANT));
    let refusal = gateway_error(err);
    assert_eq!(
        refusal.message.as_deref(),
        Some("merchant [redacted] is not valid")
    );
}

#[tokio::test]
async fn create_answers_outside_the_documented_shapes_are_malformed() {
    let server = MockServer::start().await;
    let canpay = adapter(&server);
    let bodies = [
        json!({"status": true, "data": {"token": "T"}}),
        json!({"status": true, "data": {"url": "not a url", "token": "T"}}),
        json!({"status": true, "data": {"url": "javascript:alert(1)", "token": "T"}}),
        json!({"status": true, "data": []}),
        json!({"data": {"url": "https://canpay.ir/ipg/T", "token": "T"}}),
        json!([]),
    ];
    let answers = json_answers(bodies);
    assert_malformed(&server, GW, TOKEN_PATH, answers, || create(&canpay)).await;
}

#[tokio::test]
async fn check_order_refuses_undocumented_orders_before_any_request() {
    let server = silent_server().await;
    let canpay = adapter(&server);
    let cases = [
        (
            order("47", 0),
            OrderProblem::AmountTooLow { amount: 0, min: 1 },
        ),
        (
            order("47", 10_000).with_mobile("9123456789"),
            OrderProblem::Field {
                field: "mobile",
                rule: "11 digits starting with 09 (09123456789)",
            },
        ),
        (
            order("47", 10_000).with_mobile("+989123456789"),
            OrderProblem::Field {
                field: "mobile",
                rule: "11 digits starting with 09 (09123456789)",
            },
        ),
        (
            order("47", 10_000).with_mobile("0912345678x"),
            OrderProblem::Field {
                field: "mobile",
                rule: "11 digits starting with 09 (09123456789)",
            },
        ),
    ];
    for (order, reason) in cases {
        assert_order_refused(&canpay, &callback_url(), &order, reason).await;
    }
    assert!(canpay.check_order(&order("47", 1)).is_ok());
    assert!(canpay.check_order(&order("INV-47_a", u64::MAX)).is_ok());
    server.verify().await;
}

#[tokio::test]
async fn create_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let canpay = adapter(&server);
    let late = json_answer(200, json!({"status": true}));
    let error = json_answer(500, json!({}));
    assert_500_then_timeout(&server, GW, TOKEN_PATH, error, late, || create(&canpay)).await;
}

// ---------------------------------------------------------------------------------------
// verify

#[tokio::test]
async fn verify_sends_the_documents_example_request_and_reads_its_answer() {
    let token = "5S6GQO1PDNWHQSWPZRZRHZXUCAPECS";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY_PATH))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"merchant": MERCHANT, "token": token})))
        .respond_with(json_answer(
            200,
            json!({
                "status": true,
                "data": {"card": "5022-29**-****-7122", "reference": "141167552421"}
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let verified = adapter(&server)
        .verify(&state(token), &paid_callback(token))
        .await
        .unwrap();
    let mut expected = Verified::new();
    expected.bank_reference = Some("141167552421".into());
    expected.card_mask = Some("5022-29**-****-7122".into());
    assert_eq!(verified, expected);
}

#[tokio::test]
async fn verify_uses_the_states_token_not_the_callbacks() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY_PATH))
        .and(body_json(json!({"merchant": MERCHANT, "token": TOKEN})))
        .respond_with(json_answer(200, json!({
            "status": true, "data": {"card": "5022-29**-****-7122", "reference": 141167552421_u64}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let verified = adapter(&server)
        .verify(&state(TOKEN), &paid_callback("SOMEONE-ELSES-TOKEN"))
        .await
        .unwrap();
    assert_eq!(verified.bank_reference.as_deref(), Some("141167552421"));
}

#[tokio::test]
async fn repeated_verifies_all_say_success_and_never_already_verified() {
    // The document: «در هربار ارسال اطلاعات درگاه پاسخ موفق و شماره رهگیری را ارسال می کند».
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY_PATH))
        .respond_with(json_answer(
            200,
            json!({
                "status": true, "data": {"card": "5022-29**-****-7122", "reference": "141167552421"}
            }),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let canpay = adapter(&server);
    for _ in 0..2 {
        let verified = verify(&canpay).await.unwrap();
        assert!(!verified.already_verified);
    }
}

#[tokio::test]
async fn verify_refusal_and_malformed_answers() {
    let server = MockServer::start().await;
    let canpay = adapter(&server);
    // The payment sandbox's answer, with the field that labels its invented code: a field
    // the adapter does not know is ignored.
    mount(
        &server,
        VERIFY_PATH,
        400,
        json!({"status": false, "error": "not_paid", "code": 4,
               "message": "Transaction is not paid.", "description": "",
               "sandbox_note": "invented code: the document gives none"}),
    )
    .await;
    let refusal = gateway_error(verify(&canpay).await.unwrap_err());
    assert_eq!(
        refusal,
        GatewayError {
            gateway: GW,
            operation: Operation::Verify,
            code: GatewayCode::Undocumented(4),
            http_status: Some(400),
            message: Some("Transaction is not paid.".into()),
        }
    );

    let bodies = [
        json!({"status": true}),
        json!({"status": "maybe", "data": {}}),
    ];
    let answers = json_answers(bodies);
    assert_malformed(&server, GW, VERIFY_PATH, answers, || verify(&canpay)).await;
}

#[tokio::test]
async fn verify_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let canpay = adapter(&server);
    let late = json_answer(200, json!({"status": true, "data": {}}));
    let error = json_answer(500, json!({}));
    assert_500_then_timeout(&server, GW, VERIFY_PATH, error, late, || verify(&canpay)).await;
}

// ---------------------------------------------------------------------------------------
// callback

#[test]
fn paid_callback_reads_the_four_documented_fields() {
    let data = paid_callback(TOKEN);
    assert_eq!(data.gateway, GW);
    assert_eq!(data.status, CallbackStatus::Paid);
    assert_eq!(data.reference.as_deref(), Some(TOKEN));
    assert_eq!(data.order_id.as_deref(), Some("47"));
    assert_eq!(data.amount, Some(Rial::new(10_000)));
    assert_eq!(data.verify_reference, None);
}

#[test]
fn any_success_other_than_1_is_a_failure() {
    let canpay = CanPay::new(MERCHANT);
    for success in ["0", "2", "false", "-1"] {
        let body = format!("success={success}&token={TOKEN}&amount=10000&invoice_id=47");
        let data = canpay.parse_callback(&post(&body)).unwrap();
        assert_eq!(
            data.status,
            CallbackStatus::Failed {
                code: None,
                raw_code: None
            },
            "{success}"
        );
    }
}

#[test]
fn missing_or_garbage_callback_fields_are_refused() {
    use CallbackError::{MalformedField, MissingField};
    let cases = [
        (
            "token=T&amount=10000&invoice_id=47",
            MissingField("success"),
        ),
        (
            "success=1&amount=10000&invoice_id=47",
            MissingField("token"),
        ),
        (
            "success=1&token=&amount=10000&invoice_id=47",
            MissingField("token"),
        ),
        (
            "success=1&token=T&amount=10,000&invoice_id=47",
            MalformedField("amount"),
        ),
    ];
    assert_callbacks_refused(&CanPay::new(MERCHANT), post, &cases);
}

// ---------------------------------------------------------------------------------------
// configuration

#[test]
fn debug_never_shows_the_merchant_code() {
    assert_debug_hides(&CanPay::new(MERCHANT), &[MERCHANT], &["https://canpay.ir/"]);
}

#[tokio::test]
async fn the_documents_base_url_and_a_sandbox_path_both_work() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/canpay/api/ipg/token"))
        .respond_with(json_answer(
            200,
            json!({
                "status": true, "data": {"url": "https://canpay.ir/ipg/T", "token": "T"}
            }),
        ))
        .expect(2)
        .mount(&server)
        .await;
    for base in [
        format!("{}/canpay", server.uri()),
        format!("{}/canpay/api/ipg/", server.uri()),
    ] {
        let created = CanPay::new(MERCHANT)
            .with_base_url(&base)
            .unwrap()
            .with_http(http())
            .create(&order("47", 10_000), &callback_url())
            .await
            .unwrap();
        assert_eq!(created.gateway_ref, "T");
    }
    assert!(CanPay::new("x").with_base_url("ftp://canpay.ir").is_err());
}
