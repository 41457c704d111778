//! The Inopal adapter against a mock server: the exact requests it sends, and every
//! answer in `inopal-api-fa.txt` (and the digest) decoded to the right typed result,
//! quirks included (`"status": "unauthenticated"` on 401, `"data": []` on failure).

use std::time::Duration as StdDuration;

use payment_core::{
    CallbackError, CallbackMethod, CallbackRequest, CallbackStatus, Created, Error, Gateway,
    GatewayCode, GatewayError, GatewayId, HttpClient, HttpConfig, Inopal, InopalCode, InvalidOrder,
    Operation, Order, OrderProblem, OrderState, Redirect, Rial, TransportErrorKind, Verified,
    time::{Duration, OffsetDateTime},
    url::Url,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

const GATEWAY_ID: &str = "inopal-gateway-id-9f2c";
const TOKEN: &str = "YLOwTgb1H1GX9osKwCkhs6ZVff4D3odYqGUIyXH0HsZ280a89nCWJhvCLxp0";

fn http() -> HttpClient {
    HttpClient::new(
        HttpConfig::default()
            .timeout(StdDuration::from_millis(500))
            .repeat_attempts(1),
    )
    .unwrap()
}

fn adapter(server: &MockServer) -> Inopal {
    Inopal::new(GATEWAY_ID)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn order(id: &str, amount: u64) -> Order {
    Order::new(id.parse().unwrap(), Rial::new(amount))
}

fn callback_url() -> Url {
    Url::parse("https://shop.example/pay/callback/inopal").unwrap()
}

fn state(amount: u64) -> OrderState {
    OrderState::new(
        GatewayId::Inopal,
        "12356".parse().unwrap(),
        Rial::new(amount),
        "eroxr",
        OffsetDateTime::now_utc(),
        Duration::minutes(30),
    )
}

fn paid_callback() -> payment_core::CallbackData {
    let request = CallbackRequest::from_post(
        "",
        b"status=1&order_id=12356&ref_num=eroxr&card_number=610433******6047&tracking_code=141167552421",
    )
    .unwrap();
    adapter_without_server().parse_callback(&request).unwrap()
}

fn adapter_without_server() -> Inopal {
    Inopal::new(GATEWAY_ID)
}

async fn mount_create(server: &MockServer, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path("/api/pardakht/create"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

async fn mount_verify(server: &MockServer, status: u16, body: Value) {
    Mock::given(method("POST"))
        .and(path("/api/pardakht/verify"))
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
            assert_eq!(t.gateway, GatewayId::Inopal);
            t.kind
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// create

#[tokio::test]
async fn create_sends_the_documented_request_and_reads_the_documented_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/pardakht/create"))
        .and(header(
            "authorization",
            format!("Bearer {GATEWAY_ID}").as_str(),
        ))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "amount": 50_000,
            "order_id": "12356",
            "callback": "https://shop.example/pay/callback/inopal",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 1,
            "message": "Ok",
            "data": {
                "token": TOKEN,
                "ref_num": "eroxr",
                "order_id": "12356",
                "payment_amount": 50500
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let created = adapter(&server)
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap();

    assert_eq!(
        created,
        Created {
            gateway_ref: "eroxr".into(),
            redirect: Redirect::PostForm {
                action: Url::parse(&format!("{}/api/pardakht/payment", server.uri())).unwrap(),
                fields: vec![("token".into(), TOKEN.into())],
            },
            payable_amount: Some(Rial::new(50_500)),
        }
    );
}

#[tokio::test]
async fn create_sends_the_optional_fields_when_the_order_has_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/pardakht/create"))
        .and(body_json(json!({
            "amount": 1_000,
            "order_id": "A1",
            "callback": "https://shop.example/pay/callback/inopal",
            "name": "Sara Ahmadi",
            "phone": "09121234567",
            "mail": "sara@example.com",
            "description": "دو دفترچه",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 1, "message": "Ok",
            "data": {"token": "t", "ref_num": "abcdefgh", "order_id": "A1", "payment_amount": 1000}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let order = order("A1", 1_000)
        .with_payer_name("Sara Ahmadi")
        .with_mobile("09121234567")
        .with_email("sara@example.com")
        .with_description("دو دفترچه");
    let created = adapter(&server)
        .create(&order, &callback_url())
        .await
        .unwrap();
    assert_eq!(created.gateway_ref, "abcdefgh");
}

#[tokio::test]
async fn create_accepts_numbers_sent_as_strings() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        200,
        json!({"status": "1", "message": "Ok",
               "data": {"token": "t", "ref_num": "eroxr", "order_id": "12356", "payment_amount": "50500"}}),
    )
    .await;
    let created = adapter(&server)
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap();
    assert_eq!(created.payable_amount, Some(Rial::new(50_500)));
}

#[tokio::test]
async fn create_401_unauthenticated_with_a_string_status_is_a_refusal() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        401,
        json!({
            "status": "unauthenticated",
            "action": "PardakhtCreate",
            "tag": "unauthenticated",
            "message": "دسترسی نامعتبر",
            "data": [],
            "api_version": "1.0.0"
        }),
    )
    .await;
    let err = adapter(&server)
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap_err();
    let refusal = gateway_error(err);
    assert_eq!(
        refusal,
        GatewayError {
            gateway: GatewayId::Inopal,
            operation: Operation::Create,
            code: GatewayCode::Undocumented(401),
            http_status: Some(401),
            message: Some("دسترسی نامعتبر".into()),
        }
    );
    assert!(!refusal.code.is_transient());
}

#[tokio::test]
async fn create_failure_with_empty_data_array_is_a_typed_refusal() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        200,
        json!({"status": -10, "message": "shortOrderId", "data": []}),
    )
    .await;
    let err = adapter(&server)
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap_err();
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GatewayId::Inopal,
            operation: Operation::Create,
            code: GatewayCode::Inopal(InopalCode::ShortOrderId),
            http_status: None,
            message: Some("shortOrderId".into()),
        }
    );
}

#[tokio::test]
async fn every_documented_failure_code_decodes_to_its_table_entry() {
    let server = MockServer::start().await;
    let inopal = adapter(&server);
    for &code in InopalCode::ALL {
        use payment_core::CodeInfo;
        if code == InopalCode::Ok {
            continue;
        }
        server.reset().await;
        mount_create(
            &server,
            200,
            json!({"status": code.code(), "message": code.english(), "data": []}),
        )
        .await;
        let err = inopal
            .create(&order("12356", 50_000), &callback_url())
            .await
            .unwrap_err();
        assert_eq!(err.is_transient(), code == InopalCode::Error, "{code:?}");
        let refusal = gateway_error(err);
        assert_eq!(refusal.code, GatewayCode::Inopal(code));
        assert_eq!(refusal.message.as_deref(), Some(code.english()));
    }
}

#[tokio::test]
async fn create_answers_outside_the_documented_shapes_are_malformed() {
    let server = MockServer::start().await;
    let inopal = adapter(&server);
    let cases = [
        (200, json!({"status": 1, "message": "Ok", "data": []})),
        (
            200,
            json!({"status": 1, "message": "Ok", "data": {"token": "t"}}),
        ),
        (200, json!({"message": "Ok"})),
        (200, json!({"status": "unauthenticated", "data": []})),
        (403, json!("forbidden")),
    ];
    for (status, body) in cases {
        server.reset().await;
        mount_create(&server, status, body.clone()).await;
        let err = inopal
            .create(&order("12356", 50_000), &callback_url())
            .await
            .unwrap_err();
        assert!(
            matches!(transport_kind(err), TransportErrorKind::Malformed(_)),
            "{body}"
        );
    }
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let err = inopal
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap_err();
    assert!(matches!(
        transport_kind(err),
        TransportErrorKind::Malformed(_)
    ));
}

#[tokio::test]
async fn check_order_refuses_undocumented_orders_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let inopal = adapter(&server);
    let cases = [
        (
            order("A1", 999),
            OrderProblem::AmountTooLow {
                amount: 999,
                min: 1_000,
            },
        ),
        (
            order("A1", 500_000_001),
            OrderProblem::AmountTooHigh {
                amount: 500_000_001,
                max: 500_000_000,
            },
        ),
        (
            order("A-1", 10_000),
            OrderProblem::OrderIdCharacters {
                allowed: "ASCII letters and digits",
            },
        ),
        (
            order("A_1", 10_000),
            OrderProblem::OrderIdCharacters {
                allowed: "ASCII letters and digits",
            },
        ),
    ];
    for (order, reason) in cases {
        let expected = InvalidOrder {
            gateway: GatewayId::Inopal,
            reason,
        };
        match inopal.check_order(&order) {
            Err(Error::InvalidOrder(e)) => assert_eq!(e, expected),
            other => panic!("expected InvalidOrder, got {other:?}"),
        }
        match inopal.create(&order, &callback_url()).await {
            Err(Error::InvalidOrder(e)) => assert_eq!(e, expected),
            other => panic!("expected InvalidOrder, got {other:?}"),
        }
    }
    // The limits themselves are inside the range.
    assert!(inopal.check_order(&order("A1", 1_000)).is_ok());
    assert!(inopal.check_order(&order("A1", 500_000_000)).is_ok());
    assert!(inopal.check_order(&order(&"x".repeat(128), 1_000)).is_ok());
    server.verify().await;
}

#[tokio::test]
async fn create_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    mount_create(&server, 500, json!({})).await;
    let err = adapter(&server)
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Status(500));

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(StdDuration::from_secs(3))
                .set_body_json(json!({"status": 1})),
        )
        .mount(&server)
        .await;
    let err = adapter(&server)
        .create(&order("12356", 50_000), &callback_url())
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(transport_kind(err), TransportErrorKind::Timeout);
}

// ---------------------------------------------------------------------------------------
// verify

#[tokio::test]
async fn verify_sends_ref_num_and_the_states_original_amount() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/pardakht/verify"))
        .and(header(
            "authorization",
            format!("Bearer {GATEWAY_ID}").as_str(),
        ))
        .and(header("content-type", "application/json"))
        // 50,000 from the state, not the 50,500 the buyer paid with the fee.
        .and(body_json(json!({"ref_num": "eroxr", "amount": 50_000})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 1, "message": "Ok", "data": {"ref_num": "eroxr", "price": 50_000}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let verified = adapter(&server)
        .verify(&state(50_000), &paid_callback())
        .await
        .unwrap();

    let mut expected = Verified::new();
    expected.amount = Some(Rial::new(50_000));
    expected.bank_reference = Some("141167552421".into());
    expected.card_mask = Some("610433******6047".into());
    assert_eq!(verified, expected);
}

#[tokio::test]
async fn verify_retry_verification_minus_16_is_already_verified() {
    let server = MockServer::start().await;
    mount_verify(
        &server,
        200,
        json!({"status": -16, "message": "retryVerification", "data": []}),
    )
    .await;
    let verified = adapter(&server)
        .verify(&state(50_000), &paid_callback())
        .await
        .unwrap();
    assert!(verified.already_verified);
    assert_eq!(verified.amount, None);
    assert_eq!(verified.bank_reference.as_deref(), Some("141167552421"));
}

#[tokio::test]
async fn verify_refusals_are_typed() {
    let server = MockServer::start().await;
    let inopal = adapter(&server);
    let cases = [
        (-12, InopalCode::PaymentFailed, false),
        (-13, InopalCode::PaymentDataNotValid, false),
        (-6, InopalCode::IncorrectAmount, false),
        (-99, InopalCode::Error, true),
    ];
    for (status, code, transient) in cases {
        server.reset().await;
        mount_verify(
            &server,
            200,
            json!({"status": status, "message": "x", "data": []}),
        )
        .await;
        let err = inopal
            .verify(&state(50_000), &paid_callback())
            .await
            .unwrap_err();
        assert_eq!(err.is_transient(), transient);
        let refusal = gateway_error(err);
        assert_eq!(refusal.operation, Operation::Verify);
        assert_eq!(refusal.code, GatewayCode::Inopal(code));
    }

    server.reset().await;
    mount_verify(
        &server,
        401,
        json!({"status": "unauthenticated", "action": "PardakhtVerify", "tag": "unauthenticated",
               "message": "دسترسی نامعتبر", "data": [], "api_version": "1.0.0"}),
    )
    .await;
    let refusal = gateway_error(
        inopal
            .verify(&state(50_000), &paid_callback())
            .await
            .unwrap_err(),
    );
    assert_eq!(refusal.code, GatewayCode::Undocumented(401));
    assert_eq!(refusal.http_status, Some(401));
    assert_eq!(refusal.operation, Operation::Verify);
}

#[tokio::test]
async fn verify_success_without_data_or_for_another_ref_num_is_malformed() {
    let server = MockServer::start().await;
    let inopal = adapter(&server);
    for body in [
        json!({"status": 1, "message": "Ok", "data": []}),
        json!({"status": 1, "message": "Ok", "data": {"ref_num": "other", "price": 50_000}}),
        json!({"status": 1, "message": "Ok", "data": {"ref_num": "eroxr", "price": "x"}}),
    ] {
        server.reset().await;
        mount_verify(&server, 200, body.clone()).await;
        let err = inopal
            .verify(&state(50_000), &paid_callback())
            .await
            .unwrap_err();
        assert!(
            matches!(transport_kind(err), TransportErrorKind::Malformed(_)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn verify_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    mount_verify(&server, 500, json!({})).await;
    let err = adapter(&server)
        .verify(&state(50_000), &paid_callback())
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Status(500));

    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(StdDuration::from_secs(3))
                .set_body_json(json!({"status": 1})),
        )
        .mount(&server)
        .await;
    let err = adapter(&server)
        .verify(&state(50_000), &paid_callback())
        .await
        .unwrap_err();
    assert_eq!(transport_kind(err), TransportErrorKind::Timeout);
}

// ---------------------------------------------------------------------------------------
// callback

#[test]
fn paid_callback_by_post_or_get() {
    let inopal = adapter_without_server();
    let fields = "status=1&order_id=12356&ref_num=eroxr&card_number=610433******6047&tracking_code=141167552421";
    for request in [
        CallbackRequest::from_post("", fields.as_bytes()).unwrap(),
        CallbackRequest::from_get(fields).unwrap(),
    ] {
        let data = inopal.parse_callback(&request).unwrap();
        assert_eq!(data.gateway, GatewayId::Inopal);
        assert_eq!(data.status, CallbackStatus::Paid);
        assert_eq!(data.order_id.as_deref(), Some("12356"));
        assert_eq!(data.reference.as_deref(), Some("eroxr"));
        assert_eq!(data.tracking_code.as_deref(), Some("141167552421"));
        assert_eq!(data.card_mask.as_deref(), Some("610433******6047"));
        assert_eq!(data.amount, None);
        assert_eq!(data.verify_reference, None);
    }
    assert_eq!(
        CallbackRequest::from_get(fields).unwrap().method(),
        CallbackMethod::Get
    );
}

#[test]
fn failed_callback_carries_the_typed_code() {
    let request =
        CallbackRequest::from_post("", b"status=-12&order_id=12356&ref_num=eroxr").unwrap();
    let data = adapter_without_server().parse_callback(&request).unwrap();
    assert_eq!(
        data.status,
        CallbackStatus::Failed {
            code: Some(GatewayCode::Inopal(InopalCode::PaymentFailed)),
            raw_code: Some(-12),
        }
    );
    assert_eq!(data.reference.as_deref(), Some("eroxr"));
    assert_eq!(data.tracking_code, None);
}

#[test]
fn a_full_card_number_in_the_callback_is_masked() {
    let request = CallbackRequest::from_post(
        "",
        b"status=1&order_id=1&ref_num=eroxr&card_number=6104337712346047",
    )
    .unwrap();
    let data = adapter_without_server().parse_callback(&request).unwrap();
    assert_eq!(data.card_mask.as_deref(), Some("610433******6047"));
}

#[test]
fn missing_or_garbage_callback_fields_are_refused() {
    let inopal = adapter_without_server();
    let cases: [(&[u8], CallbackError); 5] = [
        (
            b"order_id=1&ref_num=eroxr",
            CallbackError::MissingField("status"),
        ),
        (
            b"status=1&order_id=1",
            CallbackError::MissingField("ref_num"),
        ),
        (
            b"status=1&ref_num=eroxr",
            CallbackError::MissingField("order_id"),
        ),
        (
            b"status=ok&order_id=1&ref_num=eroxr",
            CallbackError::MalformedField("status"),
        ),
        (
            b"status=1.0&order_id=1&ref_num=eroxr",
            CallbackError::MalformedField("status"),
        ),
    ];
    for (body, expected) in cases {
        let request = CallbackRequest::from_post("", body).unwrap();
        match inopal.parse_callback(&request) {
            Err(Error::Callback(e)) => assert_eq!(e, expected),
            other => panic!("expected {expected:?}, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// configuration

#[test]
fn debug_never_shows_the_gateway_id() {
    let inopal = Inopal::new(GATEWAY_ID);
    let debug = format!("{inopal:?}");
    assert!(!debug.contains(GATEWAY_ID), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert!(debug.contains("https://core.inopal.ir/"));
}

#[test]
fn base_urls_are_checked() {
    assert!(
        Inopal::new("x")
            .with_base_url("ftp://core.inopal.ir")
            .is_err()
    );
    assert!(Inopal::new("x").with_base_url("not a url").is_err());
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/inopal/api/pardakht/create"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": 1, "message": "Ok",
            "data": {"token": "t", "ref_num": "eroxr", "order_id": "1", "payment_amount": 1000}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let created = Inopal::new(GATEWAY_ID)
        .with_base_url(&format!("{}/inopal", server.uri()))
        .unwrap()
        .with_http(http())
        .create(&order("1", 1_000), &callback_url())
        .await
        .unwrap();
    assert_eq!(
        created.redirect.url().as_str(),
        format!("{}/inopal/api/pardakht/payment", server.uri())
    );
}
