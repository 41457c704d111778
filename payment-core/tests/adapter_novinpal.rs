//! The NovinPal adapter against a mock of its API: every request pinned (method, path,
//! content type, form body), every answer of `novinpal-api-fa.txt` decoded, the limits,
//! the faults and the callback.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    assert_500_then_timeout, assert_callbacks_refused, assert_debug_hides, assert_malformed,
    assert_order_refused, callback_url, created_get, gateway_error, get, http, mount, mount_once,
    order, paid_callback, raw_json, silent_server, transport_kind,
};
use payment_core::{
    CallbackRequest, CardNumber, Error, GatewayId, NovinPal, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Reverse, Verified},
    error::{
        CallbackError, GatewayCode, GatewayError, Operation, OrderProblem, TransportErrorKind,
    },
    gateways::novinpal::NovinPalCode,
    state::OrderState,
    url::Url,
};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_string, header, method, path},
};

const KEY: &str = "sandbox-novinpal-key-0123456789";
const FORM: &str = "application/x-www-form-urlencoded";

/// The document's create success, verbatim (trailing comma included).
const DOC_CREATE_OK: &str = r#"{
"refId": "447515262",
"status": 1,
}"#;

/// The document's create rejection, verbatim.
const DOC_CREATE_REJECTED: &str = r#"{
"status": 0,
"errorCode": 103,
"errorDescription" : "return url is invalid"
}"#;

/// The document's verify (and reverse) success, verbatim (trailing comma included).
const DOC_VERIFY_OK: &str = r#"{
"paidAt": "2022-12-07 19:59:45",
"cardNumber": "6104-33**-****-6047",
"status": 1,
"amount": 10000,
"refNumber": "638060399619297999",
"refId": "509744199",
"description": "Sample description",
"orderId": "9999999",
"verifiedBefore": false,
}"#;

/// The document's verify (and reverse) rejection, verbatim.
const DOC_VERIFY_REJECTED: &str = r#"{
"status": 0,
"errorCode": 101,
"errorDescription" : "access denied"
}"#;

const GW: GatewayId = GatewayId::NovinPal;

fn adapter(server: &MockServer) -> NovinPal {
    NovinPal::new(KEY)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

/// The document's `return_url`.
fn return_url() -> Url {
    Url::parse("http://yourapiurl.com/callback.php").unwrap()
}

fn state(order_id: &str, amount: u64, ref_id: &str) -> OrderState {
    common::state(GW, order_id, amount, ref_id)
}

/// Creates order A-1 of 10,000 rial.
async fn create(novinpal: &NovinPal) -> Result<Created, Error> {
    novinpal.create(&order("A-1", 10_000), &return_url()).await
}

/// Verifies the document's payment: refId 509744199 for order 9999999, 10,000 rial.
async fn verify(novinpal: &NovinPal) -> Result<Verified, Error> {
    verify_order(novinpal, "9999999").await
}

/// Verifies refId 509744199 of 10,000 rial, started for order `order_id`.
async fn verify_order(novinpal: &NovinPal, order_id: &str) -> Result<Verified, Error> {
    let state = state(order_id, 10_000, "509744199");
    novinpal.verify(&state, &paid_callback(GW)).await
}

/// A 200 answer with `body` sent as it is.
fn json_body(body: &str) -> ResponseTemplate {
    raw_json(200, body)
}

// ---------------------------------------------------------------- create

#[tokio::test]
async fn create_sends_every_documented_field_as_form_data() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invoice/request"))
        .and(header("content-type", FORM))
        .and(body_string(format!(
            "api_key={KEY}&amount=10000&return_url=http%3A%2F%2Fyourapiurl.com%2Fcallback.php\
             &order_id=NP-88999&description=Sample+description&mobile=09129999999\
             &card_number=6104337712342024"
        )))
        .respond_with(json_body(DOC_CREATE_OK))
        .expect(1)
        .mount(&server)
        .await;
    let order = order("NP-88999", 10_000)
        .with_description("Sample description")
        .with_mobile("09129999999")
        .with_card_number(CardNumber::new("6104-3377-1234-2024").unwrap());

    let created = adapter(&server)
        .create(&order, &return_url())
        .await
        .unwrap();

    let start = format!("{}/invoice/start/447515262", server.uri());
    assert_eq!(created, created_get("447515262", &start));
}

#[tokio::test]
async fn create_without_optional_fields_sends_only_the_required_ones() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invoice/request"))
        .and(header("content-type", FORM))
        .and(body_string(format!(
            "api_key={KEY}&amount=120000&return_url=https%3A%2F%2Fshop.example%2Fpay%2Fcallback%2Fnovinpal\
             &order_id=A-1001"
        )))
        // The digest's spelling of the success, without the trailing comma.
        .respond_with(json_body(r#"{"refId":"447515262","status":1}"#))
        .expect(1)
        .mount(&server)
        .await;

    let created = adapter(&server)
        .create(&order("A-1001", 120_000), &callback_url(GW))
        .await
        .unwrap();

    assert_eq!(created.gateway_ref, "447515262");
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it_for_calls_and_the_redirect() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        "/novinpal/invoice/request",
        json_body(DOC_CREATE_OK),
    )
    .await;
    let novinpal = NovinPal::new(KEY)
        .with_base_url(&format!("{}/novinpal", server.uri()))
        .unwrap()
        .with_http(http());

    let created = create(&novinpal).await.unwrap();

    assert_eq!(
        created.redirect.url().as_str(),
        format!("{}/novinpal/invoice/start/447515262", server.uri())
    );
}

#[tokio::test]
async fn create_rejection_is_a_refusal_with_the_documented_code() {
    let server = MockServer::start().await;
    mount(&server, "/invoice/request", json_body(DOC_CREATE_REJECTED)).await;

    let err = adapter(&server)
        .create(&order("NP-88999", 10_000), &return_url())
        .await
        .unwrap_err();

    assert!(!err.is_transient());
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GW,
            operation: Operation::Create,
            code: GatewayCode::NovinPal(NovinPalCode::ReturnUrlNotMerchants),
            http_status: None,
            message: Some("return url is invalid".into()),
        }
    );
}

#[tokio::test]
async fn create_reads_numbers_sent_as_strings_and_strings_sent_as_numbers() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/invoice/request",
        json_body(r#"{"refId":447515262,"status":"1"}"#),
    )
    .await;

    let created = create(&adapter(&server)).await.unwrap();

    assert_eq!(created.gateway_ref, "447515262");
}

#[tokio::test]
async fn create_reads_an_answer_sent_as_form_data() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/invoice/request",
        ResponseTemplate::new(200).set_body_raw(b"refId=447515262&status=1".to_vec(), FORM),
    )
    .await;

    let created = create(&adapter(&server)).await.unwrap();

    assert_eq!(created.gateway_ref, "447515262");
}

#[tokio::test]
async fn create_answers_outside_the_document_are_malformed() {
    let bodies = [
        r#"{"status":1}"#,                    // no refId
        r#"{"status":1,"refId":""}"#,         // empty refId
        r#"{"status":1,"refId":"../x?y#z"}"#, // not a reference: it would change the redirect
        r#"{"status":2,"refId":"1"}"#,        // undocumented status
        r#"{"status":0}"#,                    // a refusal without its code
        r#"{"status":0,"errorCode":"x"}"#,    // a code that is not a number
        r#"[]"#,
        "<html>bad gateway</html>",
        "",
    ];
    let server = MockServer::start().await;
    let novinpal = adapter(&server);
    let answers = bodies.map(|body| (body, json_body(body)));
    let at = "/invoice/request";
    assert_malformed(&server, GW, at, answers, || create(&novinpal)).await;
}

#[tokio::test]
async fn check_order_refuses_amounts_below_the_minimum_before_any_request() {
    let server = silent_server().await;
    let novinpal = adapter(&server);
    let too_low = order("A-1", 9_999);
    let reason = OrderProblem::AmountTooLow {
        amount: 9_999,
        min: 10_000,
    };
    assert_order_refused(&novinpal, &return_url(), &too_low, reason).await;
    assert!(novinpal.check_order(&order("A-1", 10_000)).is_ok());
    // No maximum is documented.
    assert!(novinpal.check_order(&order("A-1", u64::MAX)).is_ok());
}

#[tokio::test]
async fn create_500_and_timeout_are_transport_errors_and_not_repeated() {
    let server = MockServer::start().await;
    let novinpal = adapter(&server);
    let error = ResponseTemplate::new(500).set_body_string("<html>oops</html>");
    let late = json_body(DOC_CREATE_OK);
    let at = "/invoice/request";
    assert_500_then_timeout(&server, GW, at, error, late, || create(&novinpal)).await;
}

// ---------------------------------------------------------------- verify

#[tokio::test]
async fn verify_sends_the_states_reference_and_reads_the_documented_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invoice/verify"))
        .and(header("content-type", FORM))
        .and(body_string(format!("api_key={KEY}&ref_id=509744199")))
        .respond_with(json_body(DOC_VERIFY_OK))
        .expect(1)
        .mount(&server)
        .await;

    let verified = verify(&adapter(&server)).await.unwrap();

    let mut expected = Verified::new();
    expected.order_id = Some("9999999".into());
    expected.amount = Some(Rial::new(10_000));
    expected.bank_reference = Some("638060399619297999".into());
    expected.card_mask = Some("6104-33**-****-6047".into());
    expected.paid_at = Some("2022-12-07 19:59:45".into());
    expected.already_verified = false;
    assert_eq!(verified, expected);
}

#[tokio::test]
async fn verify_uses_the_state_and_never_the_callback() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invoice/verify"))
        .and(body_string(format!("api_key={KEY}&ref_id=509744199")))
        .respond_with(json_body(DOC_VERIFY_OK))
        .expect(1)
        .mount(&server)
        .await;
    let mut callback = paid_callback(GW);
    callback.reference = Some("111111111".into());
    callback.amount = Some(Rial::new(1));

    adapter(&server)
        .verify(&state("9999999", 10_000, "509744199"), &callback)
        .await
        .unwrap();
}

#[tokio::test]
async fn verified_before_is_already_verified() {
    let server = MockServer::start().await;
    let body = DOC_VERIFY_OK.replace(r#""verifiedBefore": false"#, r#""verifiedBefore": true"#);
    mount(&server, "/invoice/verify", json_body(&body)).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert!(verified.already_verified);
    assert_eq!(verified.amount, Some(Rial::new(10_000)));
}

#[tokio::test]
async fn verify_rejection_is_a_refusal_with_the_error_code() {
    let server = MockServer::start().await;
    mount(&server, "/invoice/verify", json_body(DOC_VERIFY_REJECTED)).await;

    let err = verify(&adapter(&server)).await.unwrap_err();

    assert!(!err.is_transient());
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GW,
            operation: Operation::Verify,
            code: GatewayCode::NovinPal(NovinPalCode::IpNotAllowed),
            http_status: None,
            message: Some("access denied".into()),
        }
    );
}

#[tokio::test]
async fn status_zero_without_error_code_is_awaiting_payment_and_transient() {
    // The document's status table (0 = awaiting payment), bare and in the shape the
    // sandbox sends for a payment not made yet.
    for body in [
        r#"{"status":0}"#,
        r#"{"status":0,"refId":"509744199","amount":10000,"verifiedBefore":false}"#,
    ] {
        let server = MockServer::start().await;
        mount(&server, "/invoice/verify", json_body(body)).await;
        let err = verify(&adapter(&server)).await.unwrap_err();
        assert!(err.is_transient(), "{body}");
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::NovinPal(NovinPalCode::AwaitingPayment));
        assert_eq!(e.operation, Operation::Verify);
    }
}

#[tokio::test]
async fn status_minus_one_fails_and_minus_two_is_transient() {
    let cases = [
        (-1, NovinPalCode::Failed, false),
        (-2, NovinPalCode::ServerErrorStatus, true),
    ];
    for (status, code, transient) in cases {
        let server = MockServer::start().await;
        let body = format!(r#"{{"status":{status},"refId":"509744199","amount":10000}}"#);
        mount(&server, "/invoice/verify", json_body(&body)).await;
        let err = verify(&adapter(&server)).await.unwrap_err();
        assert_eq!(err.is_transient(), transient, "{status}");
        assert_eq!(gateway_error(err).code, GatewayCode::NovinPal(code));
    }
}

#[tokio::test]
async fn every_documented_error_code_maps_to_its_typed_code() {
    let server = MockServer::start().await;
    let novinpal = adapter(&server);
    let codes = NovinPalCode::ALL
        .iter()
        .copied()
        .filter(|c| GatewayCode::NovinPal(*c).code() >= 100);
    for code in codes {
        let n = GatewayCode::NovinPal(code).code();
        server.reset().await;
        let body = format!(r#"{{"status":0,"errorCode":{n},"errorDescription":"x"}}"#);
        mount(&server, "/invoice/verify", json_body(&body)).await;
        let err = verify_order(&novinpal, "1").await.unwrap_err();
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::NovinPal(code));
        assert_eq!(e.message.as_deref(), Some("x"));
    }
    // A code the document does not list is kept as a number.
    server.reset().await;
    mount(
        &server,
        "/invoice/verify",
        json_body(r#"{"status":0,"errorCode":"199"}"#),
    )
    .await;
    let err = verify_order(&novinpal, "1").await.unwrap_err();
    assert_eq!(gateway_error(err).code, GatewayCode::Undocumented(199));
}

#[tokio::test]
async fn card_mismatch_is_refused_with_123() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/invoice/verify",
        json_body(r#"{"status":0,"errorCode":123,"errorDescription":"card mismatch"}"#),
    )
    .await;

    let err = verify_order(&adapter(&server), "1").await.unwrap_err();

    assert_eq!(
        gateway_error(err).code,
        GatewayCode::NovinPal(NovinPalCode::CardMismatch)
    );
}

#[tokio::test]
async fn a_gateway_message_never_carries_the_api_key() {
    let server = MockServer::start().await;
    let body = format!(
        r#"{{"status":0,"errorCode":111,"errorDescription":"api key {KEY} is invalid {}"}}"#,
        "x".repeat(1000)
    );
    mount(&server, "/invoice/verify", json_body(&body)).await;

    let err = verify_order(&adapter(&server), "1").await.unwrap_err();

    assert!(!format!("{err:?} {err}").contains(KEY));
    let message = gateway_error(err).message.unwrap();
    assert!(message.starts_with("api key [redacted] is invalid"));
    assert_eq!(message.chars().count(), 300);
}

#[tokio::test]
async fn verify_answers_outside_the_document_are_malformed() {
    let other_payment = DOC_VERIFY_OK.replace("509744199", "123456789");
    let bad_amount = DOC_VERIFY_OK.replace("10000", "\"ten thousand\"");
    let no_amount = DOC_VERIFY_OK.replace("\"amount\": 10000,", "");
    let no_order_id = DOC_VERIFY_OK.replace("\"orderId\": \"9999999\",", "");
    let bodies = [
        other_payment.as_str(),
        bad_amount.as_str(),
        no_amount.as_str(),
        no_order_id.as_str(),
        r#"{"status":3}"#,
        r#"{"status":"paid"}"#,
        r#"{"refId":"509744199"}"#,
        r#"{"status":1,"verifiedBefore":"maybe"}"#,
        "not json",
    ];
    let server = MockServer::start().await;
    let novinpal = adapter(&server);
    let answers = bodies.map(|body| (body, json_body(body)));
    let at = "/invoice/verify";
    assert_malformed(&server, GW, at, answers, || verify(&novinpal)).await;
}

#[tokio::test]
async fn verify_500_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let novinpal = adapter(&server);
    let (error, late) = (ResponseTemplate::new(500), json_body(DOC_VERIFY_OK));
    let at = "/invoice/verify";
    assert_500_then_timeout(&server, GW, at, error, late, || verify(&novinpal)).await;
}

// ---------------------------------------------------------------- reverse

#[tokio::test]
async fn reverse_posts_the_reference_and_reads_verifys_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invoice/reverse"))
        .and(header("content-type", FORM))
        .and(body_string(format!("api_key={KEY}&ref_id=509744199")))
        .respond_with(json_body(DOC_VERIFY_OK))
        .expect(1)
        .mount(&server)
        .await;

    let reversed = adapter(&server)
        .reverse(&state("9999999", 10_000, "509744199"))
        .await
        .unwrap();

    assert_eq!(reversed.order_id.as_deref(), Some("9999999"));
    assert_eq!(reversed.amount, Some(Rial::new(10_000)));
}

#[tokio::test]
async fn reverse_rejections_are_refusals_of_reverse() {
    for body in [
        DOC_VERIFY_REJECTED,
        r#"{"status":0,"errorCode":109,"errorDescription":"reverse window has passed"}"#,
        // The payment sandbox's answer, with the field that labels its invented use of 109.
        r#"{"status":0,"errorCode":109,"errorDescription":"reverse window has passed","sandbox_note":"invented code: the document gives none for a refused reverse; 109 (transaction failed) is borrowed from its table"}"#,
    ] {
        let server = MockServer::start().await;
        mount(&server, "/invoice/reverse", json_body(body)).await;
        let err = adapter(&server)
            .reverse(&state("9999999", 10_000, "509744199"))
            .await
            .unwrap_err();
        let e = gateway_error(err);
        assert_eq!(e.operation, Operation::Reverse);
        assert!(matches!(
            e.code,
            GatewayCode::NovinPal(NovinPalCode::IpNotAllowed | NovinPalCode::TransactionFailed)
        ));
    }
}

#[tokio::test]
async fn reverse_500_is_a_transport_error_and_not_repeated() {
    let server = MockServer::start().await;
    mount_once(&server, "/invoice/reverse", ResponseTemplate::new(503)).await;

    let err = adapter(&server)
        .reverse(&state("1", 10_000, "509744199"))
        .await
        .unwrap_err();

    assert_eq!(transport_kind(GW, err), TransportErrorKind::Status(503));
}

// ---------------------------------------------------------------- callback

fn parse(query: &str) -> Result<CallbackData, Error> {
    NovinPal::new(KEY).parse_callback(&get(query))
}

#[test]
fn the_documented_paid_callback() {
    let data = parse("refId=999999&success=1&code=100&invoiceNumber=888888&amount=10000").unwrap();

    let mut expected = paid_callback(GW);
    expected.reference = Some("999999".into());
    expected.order_id = Some("888888".into());
    expected.amount = Some(Rial::new(10_000));
    assert_eq!(data, expected);
}

#[test]
fn a_failed_callback_carries_its_code() {
    let data = parse("refId=999999&success=0&code=109&invoiceNumber=888888&amount=10000").unwrap();

    assert_eq!(
        data.status,
        CallbackStatus::Failed {
            code: Some(GatewayCode::NovinPal(NovinPalCode::TransactionFailed)),
            raw_code: Some(109),
        }
    );
    assert_eq!(data.reference.as_deref(), Some("999999"));
}

#[test]
fn a_callback_posted_as_a_form_is_read_too() {
    let req = CallbackRequest::from_post("", b"refId=1&success=0&code=123").unwrap();
    let data = NovinPal::new(KEY).parse_callback(&req).unwrap();
    assert_eq!(
        data.status,
        CallbackStatus::Failed {
            code: Some(GatewayCode::NovinPal(NovinPalCode::CardMismatch)),
            raw_code: Some(123),
        }
    );
    assert_eq!(data.order_id, None);
    assert_eq!(data.amount, None);
}

#[test]
fn missing_and_malformed_callback_fields_are_refused() {
    use CallbackError::{MalformedField, MissingField};
    let cases = [
        (
            "success=1&code=100&invoiceNumber=8&amount=10000",
            MissingField("refId"),
        ),
        ("refId=&success=1", MissingField("refId")),
        (
            "refId=9&code=100&invoiceNumber=8&amount=10000",
            MissingField("success"),
        ),
        (
            "refId=9&success=1&code=100&invoiceNumber=8&amount=10%2C000",
            MalformedField("amount"),
        ),
        ("refId=9&success=1&amount=-5", MalformedField("amount")),
        ("refId=9&success=yes", MalformedField("success")),
        (
            "refId=9&success=0&code=%F0%9F%92%A5",
            MalformedField("code"),
        ),
    ];
    assert_callbacks_refused(&NovinPal::new(KEY), get, &cases);
}

#[test]
fn debug_never_shows_the_api_key() {
    assert_debug_hides(&NovinPal::new(KEY), &[KEY], &["https://api.novinpal.ir/"]);
}

#[test]
fn base_urls_must_be_http() {
    assert!(NovinPal::new(KEY).with_base_url("ftp://x").is_err());
    assert!(NovinPal::new(KEY).with_base_url("not a url").is_err());
}
