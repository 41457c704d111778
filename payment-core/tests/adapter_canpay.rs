//! The CanPay adapter against a mock server: the exact requests it sends, and every answer
//! in `canpay-api-fa.txt` (and the digest) decoded to the right typed result.

use std::time::Duration as StdDuration;

use payment_core::{
    CallbackData, CallbackError, CallbackRequest, CallbackStatus, CanPay, Created, Error, Gateway,
    GatewayCode, GatewayError, GatewayId, HttpClient, HttpConfig, InvalidOrder, Operation, Order,
    OrderProblem, OrderState, Redirect, Rial, TransportErrorKind, Verified,
    time::{Duration, OffsetDateTime},
    url::Url,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

const MERCHANT: &str = "xxx-xxx-xxx-xxx";
const TOKEN: &str = "SNHQA1TYFGSFARZUM5A03YXJWOAOHJ";

fn http() -> HttpClient {
    HttpClient::new(
        HttpConfig::default()
            .timeout(StdDuration::from_millis(500))
            .repeat_attempts(1),
    )
    .unwrap()
}

fn adapter(server: &MockServer) -> CanPay {
    CanPay::new(MERCHANT)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn order(id: &str, amount: u64) -> Order {
    Order::new(id.parse().unwrap(), Rial::new(amount))
}

fn callback_url() -> Url {
    Url::parse("https://site.com/verify").unwrap()
}

fn state(token: &str) -> OrderState {
    OrderState::new(
        GatewayId::CanPay,
        "47".parse().unwrap(),
        Rial::new(10_000),
        token,
        OffsetDateTime::now_utc(),
        Duration::minutes(30),
    )
}

fn paid_callback(token: &str) -> CallbackData {
    let body = format!("success=1&token={token}&amount=10000&invoice_id=47");
    let request = CallbackRequest::from_post("", body.as_bytes()).unwrap();
    CanPay::new(MERCHANT).parse_callback(&request).unwrap()
}

async fn mount(server: &MockServer, route: &str, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

fn gateway_error(err: Error) -> GatewayError {
    match err {
        Error::Gateway(g) => g,
        other => panic!("expected a gateway refusal, got {other:?}"),
    }
}

fn transport_kind(err: Error) -> TransportErrorKind {
    match err {
        Error::Transport(t) => {
            assert_eq!(t.gateway, GatewayId::CanPay);
            t.kind
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// create

#[tokio::test]
async fn create_sends_the_documents_example_request_and_reads_its_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/ipg/token"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "merchant": MERCHANT,
            "amount": 10000,
            "callback_url": "https://site.com/verify",
            "invoice_id": "47"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": true,
            "data": {
                "url": "https://canpay.ir/ipg/SNHQA1TYFGSFARZUM5A03YXJWOAOHJ",
                "token": TOKEN
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let created = adapter(&server)
        .create(&order("47", 10_000), &callback_url())
        .await
        .unwrap();
    assert_eq!(
        created,
        Created {
            gateway_ref: TOKEN.into(),
            redirect: Redirect::Get(
                Url::parse("https://canpay.ir/ipg/SNHQA1TYFGSFARZUM5A03YXJWOAOHJ").unwrap()
            ),
            payable_amount: None,
        }
    );
    // No header carries the merchant code; it travels in the body only.
    let requests = server.received_requests().await.unwrap();
    let request = requests.first().unwrap();
    assert!(request.headers.get("authorization").is_none());
}

#[tokio::test]
async fn create_sends_mobile_when_the_order_has_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/ipg/token"))
        .and(body_json(json!({
            "merchant": MERCHANT,
            "amount": 10000,
            "callback_url": "https://site.com/verify",
            "invoice_id": "47",
            "mobile": "09123456789"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": true, "data": {"url": "https://canpay.ir/ipg/T", "token": "T"}
        })))
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
        mount(&server, "/api/ipg/token", status, body).await;
        let err = canpay
            .create(&order("47", 10_000), &callback_url())
            .await
            .unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(
            gateway_error(err),
            GatewayError {
                gateway: GatewayId::CanPay,
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
        "/api/ipg/token",
        401,
        json!({"status": false, "code": 2, "message": format!("merchant {MERCHANT} is not valid")}),
    )
    .await;
    let err = adapter(&server)
        .create(&order("47", 10_000), &callback_url())
        .await
        .unwrap_err();
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
    for body in [
        json!({"status": true, "data": {"token": "T"}}),
        json!({"status": true, "data": {"url": "not a url", "token": "T"}}),
        json!({"status": true, "data": {"url": "javascript:alert(1)", "token": "T"}}),
        json!({"status": true, "data": []}),
        json!({"data": {"url": "https://canpay.ir/ipg/T", "token": "T"}}),
        json!([]),
    ] {
        server.reset().await;
        mount(&server, "/api/ipg/token", 200, body.clone()).await;
        let err = canpay
            .create(&order("47", 10_000), &callback_url())
            .await
            .unwrap_err();
        assert!(
            matches!(transport_kind(err), TransportErrorKind::Malformed(_)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn check_order_refuses_undocumented_orders_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
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
        let expected = InvalidOrder {
            gateway: GatewayId::CanPay,
            reason,
        };
        match canpay.check_order(&order) {
            Err(Error::InvalidOrder(e)) => assert_eq!(e, expected),
            other => panic!("expected InvalidOrder, got {other:?}"),
        }
        match canpay.create(&order, &callback_url()).await {
            Err(Error::InvalidOrder(e)) => assert_eq!(e, expected),
            other => panic!("expected InvalidOrder, got {other:?}"),
        }
    }
    assert!(canpay.check_order(&order("47", 1)).is_ok());
    assert!(canpay.check_order(&order("INV-47_a", u64::MAX)).is_ok());
    server.verify().await;
}

#[tokio::test]
async fn create_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    mount(&server, "/api/ipg/token", 500, json!({})).await;
    let err = adapter(&server)
        .create(&order("47", 10_000), &callback_url())
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Status(500));

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(StdDuration::from_secs(3))
                .set_body_json(json!({"status": true})),
        )
        .mount(&server)
        .await;
    let err = adapter(&server)
        .create(&order("47", 10_000), &callback_url())
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Timeout);
}

// ---------------------------------------------------------------------------------------
// verify

#[tokio::test]
async fn verify_sends_the_documents_example_request_and_reads_its_answer() {
    let token = "5S6GQO1PDNWHQSWPZRZRHZXUCAPECS";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/ipg/verify"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"merchant": MERCHANT, "token": token})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": true,
            "data": {"card": "5022-29**-****-7122", "reference": "141167552421"}
        })))
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
        .and(path("/api/ipg/verify"))
        .and(body_json(json!({"merchant": MERCHANT, "token": TOKEN})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
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
        .and(path("/api/ipg/verify"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": true, "data": {"card": "5022-29**-****-7122", "reference": "141167552421"}
        })))
        .expect(2)
        .mount(&server)
        .await;
    let canpay = adapter(&server);
    for _ in 0..2 {
        let verified = canpay
            .verify(&state(TOKEN), &paid_callback(TOKEN))
            .await
            .unwrap();
        assert!(!verified.already_verified);
    }
}

#[tokio::test]
async fn verify_refusal_and_malformed_answers() {
    let server = MockServer::start().await;
    let canpay = adapter(&server);
    mount(
        &server,
        "/api/ipg/verify",
        400,
        json!({"status": false, "error": "not_paid", "code": 4,
               "message": "Transaction is not paid.", "description": ""}),
    )
    .await;
    let refusal = gateway_error(
        canpay
            .verify(&state(TOKEN), &paid_callback(TOKEN))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        refusal,
        GatewayError {
            gateway: GatewayId::CanPay,
            operation: Operation::Verify,
            code: GatewayCode::Undocumented(4),
            http_status: Some(400),
            message: Some("Transaction is not paid.".into()),
        }
    );

    for body in [
        json!({"status": true}),
        json!({"status": "maybe", "data": {}}),
    ] {
        server.reset().await;
        mount(&server, "/api/ipg/verify", 200, body.clone()).await;
        let err = canpay
            .verify(&state(TOKEN), &paid_callback(TOKEN))
            .await
            .unwrap_err();
        assert!(err.is_transient(), "{body}");
        assert!(matches!(
            transport_kind(err),
            TransportErrorKind::Malformed(_)
        ));
    }
}

#[tokio::test]
async fn verify_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    mount(&server, "/api/ipg/verify", 500, json!({})).await;
    let err = adapter(&server)
        .verify(&state(TOKEN), &paid_callback(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Status(500));

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(StdDuration::from_secs(3))
                .set_body_json(json!({"status": true, "data": {}})),
        )
        .mount(&server)
        .await;
    let err = adapter(&server)
        .verify(&state(TOKEN), &paid_callback(TOKEN))
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Timeout);
}

// ---------------------------------------------------------------------------------------
// callback

#[test]
fn paid_callback_reads_the_four_documented_fields() {
    let data = paid_callback(TOKEN);
    assert_eq!(data.gateway, GatewayId::CanPay);
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
        let request = CallbackRequest::from_post("", body.as_bytes()).unwrap();
        let data = canpay.parse_callback(&request).unwrap();
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
    let canpay = CanPay::new(MERCHANT);
    let cases: [(&str, CallbackError); 4] = [
        (
            "token=T&amount=10000&invoice_id=47",
            CallbackError::MissingField("success"),
        ),
        (
            "success=1&amount=10000&invoice_id=47",
            CallbackError::MissingField("token"),
        ),
        (
            "success=1&token=&amount=10000&invoice_id=47",
            CallbackError::MissingField("token"),
        ),
        (
            "success=1&token=T&amount=10,000&invoice_id=47",
            CallbackError::MalformedField("amount"),
        ),
    ];
    for (body, expected) in cases {
        let request = CallbackRequest::from_post("", body.as_bytes()).unwrap();
        match canpay.parse_callback(&request) {
            Err(Error::Callback(e)) => assert_eq!(e, expected, "{body}"),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// configuration

#[test]
fn debug_never_shows_the_merchant_code() {
    let canpay = CanPay::new(MERCHANT);
    let debug = format!("{canpay:?}");
    assert!(!debug.contains(MERCHANT), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert!(debug.contains("https://canpay.ir/"));
}

#[tokio::test]
async fn the_documents_base_url_and_a_sandbox_path_both_work() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/canpay/api/ipg/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": true, "data": {"url": "https://canpay.ir/ipg/T", "token": "T"}
        })))
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
