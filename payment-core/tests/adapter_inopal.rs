//! The Inopal adapter against a mock server: the exact requests it sends, and every
//! answer in `inopal-api-fa.txt` (and the digest) decoded to the right typed result,
//! quirks included (`"status": "unauthenticated"` on 401, `"data": []` on failure).

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    assert_500_then_timeout, assert_callbacks_refused, assert_debug_hides, assert_malformed,
    assert_order_refused, callback_url, gateway_error, get, http, json_answer, json_answers,
    mount_json, order, post, silent_server,
};
use payment_core::{
    Error, GatewayId, Inopal, Rial,
    adapter::{CallbackData, CallbackMethod, CallbackStatus, Created, Gateway, Redirect, Verified},
    error::{CallbackError, GatewayCode, GatewayError, Operation, OrderProblem},
    gateways::inopal::InopalCode,
    state::OrderState,
    url::Url,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

const GATEWAY_ID: &str = "inopal-gateway-id-9f2c";
const TOKEN: &str = "YLOwTgb1H1GX9osKwCkhs6ZVff4D3odYqGUIyXH0HsZ280a89nCWJhvCLxp0";

const GW: GatewayId = GatewayId::Inopal;
const CREATE: &str = "/api/pardakht/create";
const VERIFY: &str = "/api/pardakht/verify";

fn adapter(server: &MockServer) -> Inopal {
    Inopal::new(GATEWAY_ID)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn state(amount: u64) -> OrderState {
    common::state(GW, "12356", amount, "eroxr")
}

/// The document's paid callback.
fn paid_callback() -> CallbackData {
    let request = post(
        "status=1&order_id=12356&ref_num=eroxr&card_number=610433******6047&tracking_code=141167552421",
    );
    adapter_without_server().parse_callback(&request).unwrap()
}

fn adapter_without_server() -> Inopal {
    Inopal::new(GATEWAY_ID)
}

/// Creates order 12356 of 50,000 rial.
async fn create(inopal: &Inopal) -> Result<Created, Error> {
    inopal
        .create(&order("12356", 50_000), &callback_url(GW))
        .await
}

/// Verifies the 50,000 rial payment after the document's paid callback.
async fn verify(inopal: &Inopal) -> Result<Verified, Error> {
    inopal.verify(&state(50_000), &paid_callback()).await
}

async fn mount_create(server: &MockServer, status: u16, body: Value) {
    mount_json(server, CREATE, status, body).await;
}

async fn mount_verify(server: &MockServer, status: u16, body: Value) {
    mount_json(server, VERIFY, status, body).await;
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
        .respond_with(json_answer(
            200,
            json!({
                "status": 1,
                "message": "Ok",
                "data": {
                    "token": TOKEN,
                    "ref_num": "eroxr",
                    "order_id": "12356",
                    "payment_amount": 50500
                }
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let created = create(&adapter(&server)).await.unwrap();

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
        .respond_with(json_answer(200, json!({
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
        .create(&order, &callback_url(GW))
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
    let created = create(&adapter(&server)).await.unwrap();
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
    let err = create(&adapter(&server)).await.unwrap_err();
    let refusal = gateway_error(err);
    assert_eq!(
        refusal,
        GatewayError {
            gateway: GW,
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
    let err = create(&adapter(&server)).await.unwrap_err();
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GW,
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
        let err = create(&inopal).await.unwrap_err();
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
    let html = "<html>oops</html>";
    let answers = cases
        .map(|(status, body)| (body.to_string(), json_answer(status, body)))
        .into_iter()
        .chain([(
            html.to_owned(),
            ResponseTemplate::new(200).set_body_string(html),
        )]);
    assert_malformed(&server, GW, CREATE, answers, || create(&inopal)).await;
}

#[tokio::test]
async fn check_order_refuses_undocumented_orders_before_any_request() {
    let server = silent_server().await;
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
        assert_order_refused(&inopal, &callback_url(GW), &order, reason).await;
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
    let inopal = adapter(&server);
    let late = json_answer(200, json!({"status": 1}));
    let error = json_answer(500, json!({}));
    assert_500_then_timeout(&server, GW, CREATE, error, late, || create(&inopal)).await;
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
        .respond_with(json_answer(
            200,
            json!({
                "status": 1, "message": "Ok", "data": {"ref_num": "eroxr", "price": 50_000}
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let verified = verify(&adapter(&server)).await.unwrap();

    let mut expected = Verified::new();
    expected.amount = Some(Rial::new(50_000));
    expected.bank_reference = Some("141167552421".into());
    expected.card_mask = Some("610433******6047".into());
    assert_eq!(verified, expected);
}

/// The document does not say whether `price` holds the buyer's fee: the amount, or the
/// amount with the fee create reported, confirm the payment (reported as the amount);
/// any other price is reported as it is, and the pipeline refuses it.
#[tokio::test]
async fn verify_accepts_a_price_with_the_buyers_fee_and_reports_any_other_as_it_is() {
    let with_fee = state(50_000).with_payable_amount(Rial::new(50_500));
    for (price, reported) in [
        (50_000, 50_000),
        (50_500, 50_000),
        (50_250, 50_250),
        (51_000, 51_000),
    ] {
        let server = MockServer::start().await;
        mount_verify(
            &server,
            200,
            json!({"status": 1, "message": "Ok", "data": {"ref_num": "eroxr", "price": price}}),
        )
        .await;
        let verified = adapter(&server)
            .verify(&with_fee, &paid_callback())
            .await
            .unwrap();
        assert_eq!(verified.amount, Some(Rial::new(reported)), "price {price}");
    }
    // Without a fee in the state, the amount with a fee is just another amount.
    let server = MockServer::start().await;
    mount_verify(
        &server,
        200,
        json!({"status": 1, "message": "Ok", "data": {"ref_num": "eroxr", "price": 50_500}}),
    )
    .await;
    let verified = verify(&adapter(&server)).await.unwrap();
    assert_eq!(verified.amount, Some(Rial::new(50_500)));
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
    let verified = verify(&adapter(&server)).await.unwrap();
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
        let err = verify(&inopal).await.unwrap_err();
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
    let refusal = gateway_error(verify(&inopal).await.unwrap_err());
    assert_eq!(refusal.code, GatewayCode::Undocumented(401));
    assert_eq!(refusal.http_status, Some(401));
    assert_eq!(refusal.operation, Operation::Verify);
}

#[tokio::test]
async fn verify_success_without_data_or_for_another_ref_num_is_malformed() {
    let server = MockServer::start().await;
    let inopal = adapter(&server);
    let bodies = [
        json!({"status": 1, "message": "Ok", "data": []}),
        json!({"status": 1, "message": "Ok", "data": {"ref_num": "other", "price": 50_000}}),
        json!({"status": 1, "message": "Ok", "data": {"ref_num": "eroxr", "price": "x"}}),
    ];
    let answers = json_answers(bodies);
    assert_malformed(&server, GW, VERIFY, answers, || verify(&inopal)).await;
}

#[tokio::test]
async fn verify_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let inopal = adapter(&server);
    let late = json_answer(200, json!({"status": 1}));
    let error = json_answer(500, json!({}));
    assert_500_then_timeout(&server, GW, VERIFY, error, late, || verify(&inopal)).await;
}

// ---------------------------------------------------------------------------------------
// callback

#[test]
fn paid_callback_by_post_or_get() {
    let inopal = adapter_without_server();
    let fields = "status=1&order_id=12356&ref_num=eroxr&card_number=610433******6047&tracking_code=141167552421";
    for request in [post(fields), get(fields)] {
        let data = inopal.parse_callback(&request).unwrap();
        assert_eq!(data.gateway, GW);
        assert_eq!(data.status, CallbackStatus::Paid);
        assert_eq!(data.order_id.as_deref(), Some("12356"));
        assert_eq!(data.reference.as_deref(), Some("eroxr"));
        assert_eq!(data.tracking_code.as_deref(), Some("141167552421"));
        assert_eq!(data.card_mask.as_deref(), Some("610433******6047"));
        assert_eq!(data.amount, None);
        assert_eq!(data.verify_reference, None);
    }
    assert_eq!(get(fields).method(), CallbackMethod::Get);
}

#[test]
fn failed_callback_carries_the_typed_code() {
    let request = post("status=-12&order_id=12356&ref_num=eroxr");
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
    let request = post("status=1&order_id=1&ref_num=eroxr&card_number=6104337712346047");
    let data = adapter_without_server().parse_callback(&request).unwrap();
    assert_eq!(data.card_mask.as_deref(), Some("610433******6047"));
}

#[test]
fn missing_or_garbage_callback_fields_are_refused() {
    use CallbackError::{MalformedField, MissingField};
    let cases = [
        ("order_id=1&ref_num=eroxr", MissingField("status")),
        ("status=1&order_id=1", MissingField("ref_num")),
        ("status=1&ref_num=eroxr", MissingField("order_id")),
        (
            "status=ok&order_id=1&ref_num=eroxr",
            MalformedField("status"),
        ),
        (
            "status=1.0&order_id=1&ref_num=eroxr",
            MalformedField("status"),
        ),
    ];
    assert_callbacks_refused(&adapter_without_server(), post, &cases);
}

// ---------------------------------------------------------------------------------------
// configuration

#[test]
fn debug_never_shows_the_gateway_id() {
    let inopal = Inopal::new(GATEWAY_ID);
    assert_debug_hides(&inopal, &[GATEWAY_ID], &["https://core.inopal.ir/"]);
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
        .respond_with(json_answer(
            200,
            json!({
                "status": 1, "message": "Ok",
                "data": {"token": "t", "ref_num": "eroxr", "order_id": "1", "payment_amount": 1000}
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let created = Inopal::new(GATEWAY_ID)
        .with_base_url(&format!("{}/inopal", server.uri()))
        .unwrap()
        .with_http(http())
        .create(&order("1", 1_000), &callback_url(GW))
        .await
        .unwrap();
    assert_eq!(
        created.redirect.url().as_str(),
        format!("{}/inopal/api/pardakht/payment", server.uri())
    );
}
