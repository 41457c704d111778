//! The GardeshPay adapter against mock servers: the exact requests it sends (two origins,
//! an optional path prefix and merchant token, `invoiceDate` from an injected clock, JSON
//! or form bodies, the token in the body or a header, amounts in rial or toman), and
//! every answer shape in `gardeshpay-api-fa.txt` decoded to the right typed result.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    assert_500_then_timeout, assert_callbacks_refused, assert_debug_hides, assert_malformed,
    assert_order_refused, callback_error, callback_url, created_get, gateway_error, get, http,
    json_answer, json_answers, mount_json, order, silent_server,
};
use payment_core::{
    Error, GardeshPay, GardeshPayAmountUnit, GardeshPayEncoding, GardeshPayTokenPlacement,
    GatewayId, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Verified},
    clock::ManualClock,
    error::{CallbackError, GatewayCode, GatewayError, Operation, OrderProblem},
    state::OrderState,
    time::{Duration, macros::datetime},
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer,
    matchers::{body_json, body_string, header, method, path},
};

const MERCHANT_TOKEN: &str = "gp-provider-token-51e7";
const TOKEN: &str = "3f2a9c41d0b84e6f9a7c12de34b5f6a7";
const TRACKING: &str = "402918374655";

/// 2024-03-20 20:45:00 UTC is 2024-03-21 00:15:00 in Tehran (UTC+03:30).
fn clock() -> ManualClock {
    ManualClock::at(datetime!(2024-03-20 20:45:00 UTC))
}

fn adapter(server: &MockServer) -> GardeshPay {
    GardeshPay::new()
        .with_base_url(&server.uri())
        .unwrap()
        .with_clock(clock())
        .with_http(http())
}

const GW: GatewayId = GatewayId::GardeshPay;
const GET_TOKEN: &str = "/provider/payment/getToken";
const VERIFY: &str = "/provider/payment/verify";

fn state() -> OrderState {
    common::state(GW, "INV-1001", 120_000, TOKEN)
}

fn callback() -> CallbackData {
    let request = get(&format!("trackingNumber={TRACKING}&invoiceNumber=INV-1001"));
    GardeshPay::new().parse_callback(&request).unwrap()
}

/// Creates order INV-1001 of 120,000 rial.
async fn create(gardeshpay: &GardeshPay) -> Result<Created, Error> {
    gardeshpay
        .create(&order("INV-1001", 120_000), &callback_url(GW))
        .await
}

/// Creates order A1 of 1 rial, the smallest amount.
async fn create_a1(gardeshpay: &GardeshPay) -> Result<Created, Error> {
    gardeshpay.create(&order("A1", 1), &callback_url(GW)).await
}

/// Verifies the state's payment after the callback.
async fn verify(gardeshpay: &GardeshPay) -> Result<Verified, Error> {
    gardeshpay.verify(&state(), &callback()).await
}

fn verify_success(verified_before: bool) -> Value {
    json!({
        "success": true,
        "data": {
            "cardNumber": "610433******6047",
            "refNumber": "738495012345",
            "message": "پرداخت با موفقیت انجام شد.",
            "invoiceNumber": "INV-1001",
            "invoiceDate": "2024-03-21T00:15:00"
        },
        "amount": 120000,
        "verifiedBefore": verified_before,
        "message": "عملیات با موفقیت انجام شد."
    })
}

// ---------------------------------------------------------------------------------------
// create

#[tokio::test]
async fn create_sends_the_documented_request_and_redirects_to_url_slash_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GET_TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "amount": 120000,
            "invoiceNumber": "INV-1001",
            "invoiceDate": "2024-03-21T00:15:00",
            "callback": "https://shop.example/pay/callback/gardeshpay"
        })))
        .respond_with(json_answer(200, json!({
            "success": true,
            "data": {"url": "https://ipg.gardeshpay.ir/provider/payment/redirect", "token": TOKEN},
            "message": "عملیات با موفقیت انجام شد."
        })))
        .expect(1)
        .mount(&server)
        .await;

    let created = create(&adapter(&server)).await.unwrap();
    let redirect = format!("https://ipg.gardeshpay.ir/provider/payment/redirect/{TOKEN}");
    assert_eq!(created, created_get(TOKEN, &redirect));
}

#[tokio::test]
async fn create_with_prefix_merchant_token_mobile_and_email() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/provider/payment/getToken"))
        .and(body_json(json!({
            "amount": 120000,
            "invoiceNumber": "INV-1001",
            "invoiceDate": "2024-03-21T00:15:00",
            "mobile": "09121234567",
            "email": "buyer@example.com",
            "callback": "https://shop.example/pay/callback/gardeshpay",
            "token": MERCHANT_TOKEN
        })))
        .respond_with(json_answer(200, json!({
            // A trailing slash on `url` does not double the slash.
            "success": true,
            "data": {"url": "https://ipg.gardeshpay.ir/v1/provider/payment/redirect/", "token": TOKEN},
            "message": "ok"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let order = order("INV-1001", 120_000)
        .with_mobile("09121234567")
        .with_email("buyer@example.com");
    let created = adapter(&server)
        .with_path_prefix("/v1/")
        .unwrap()
        .with_merchant_token(MERCHANT_TOKEN)
        .create(&order, &callback_url(GW))
        .await
        .unwrap();
    assert_eq!(
        created.redirect.url().as_str(),
        format!("https://ipg.gardeshpay.ir/v1/provider/payment/redirect/{TOKEN}")
    );
}

#[tokio::test]
async fn invoice_date_is_tehran_time_from_the_clock() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        GET_TOKEN,
        200,
        json!({"success": true, "data": {"url": "https://x.example/r", "token": "t"}}),
    )
    .await;
    let clock = clock();
    let gardeshpay = adapter(&server).with_clock(clock.clone());
    create_a1(&gardeshpay).await.unwrap();
    clock.advance(Duration::days(300) + Duration::seconds(7));
    create_a1(&gardeshpay).await.unwrap();
    let dates: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["invoiceDate"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(dates, ["2024-03-21T00:15:00", "2025-01-15T00:15:07"]);
}

#[tokio::test]
async fn the_documented_error_shape_is_an_undocumented_code_refusal() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        GET_TOKEN,
        422,
        json!({
            "success": false,
            "code": 1,
            "message": "اطلاعات ارسالی معتبر نیست.",
            "errors": ["amount is required", "invoiceDate must be in format YYYY-MM-DDTHH:mm:ss"]
        }),
    )
    .await;
    let err = create(&adapter(&server)).await.unwrap_err();
    assert!(!err.is_transient());
    assert_eq!(
        gateway_error(err),
        GatewayError {
            gateway: GW,
            operation: Operation::Create,
            code: GatewayCode::Undocumented(1),
            http_status: Some(422),
            message: Some(
                "اطلاعات ارسالی معتبر نیست. (amount is required; invoiceDate must be in format YYYY-MM-DDTHH:mm:ss)"
                    .into()
            ),
        }
    );

    server.reset().await;
    mount_json(
        &server,
        GET_TOKEN,
        200,
        json!({"success": false, "code": "2", "message": "توکن پذیرنده معتبر نیست.", "errors": []}),
    )
    .await;
    let refusal = gateway_error(create(&adapter(&server)).await.unwrap_err());
    assert_eq!(refusal.code, GatewayCode::Undocumented(2));
    assert_eq!(refusal.http_status, None);
    assert_eq!(refusal.message.as_deref(), Some("توکن پذیرنده معتبر نیست."));
}

#[tokio::test]
async fn create_answers_outside_the_documented_shapes_are_malformed() {
    let server = MockServer::start().await;
    let gardeshpay = adapter(&server);
    let bodies = [
        json!({"success": true, "data": {"token": "t"}}),
        json!({"success": true, "data": {"url": "https://x.example/r"}}),
        json!({"success": true, "data": {"url": "relative/path", "token": "t"}}),
        json!({"success": true, "data": {"url": "mailto:a@b.c", "token": "t"}}),
        json!({"data": {"url": "https://x.example/r", "token": "t"}}),
    ];
    let answers = json_answers(bodies);
    assert_malformed(&server, GW, GET_TOKEN, answers, || create_a1(&gardeshpay)).await;
}

#[tokio::test]
async fn check_order_refuses_a_zero_amount_before_any_request() {
    let server = silent_server().await;
    let gardeshpay = adapter(&server);
    let reason = OrderProblem::AmountTooLow { amount: 0, min: 1 };
    assert_order_refused(&gardeshpay, &callback_url(GW), &order("A1", 0), reason).await;
    assert!(gardeshpay.check_order(&order("INV-1_x", 1)).is_ok());
    server.verify().await;
}

#[tokio::test]
async fn create_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let gardeshpay = adapter(&server);
    let late = json_answer(200, json!({"success": true}));
    let error = json_answer(500, json!({}));
    let call = || create_a1(&gardeshpay);
    assert_500_then_timeout(&server, GW, GET_TOKEN, error, late, call).await;
}

// ---------------------------------------------------------------------------------------
// verify

#[tokio::test]
async fn create_and_verify_go_to_their_own_origins() {
    let create_server = MockServer::start().await;
    let verify_server = MockServer::start().await;
    mount_json(
        &create_server,
        GET_TOKEN,
        200,
        json!({"success": true, "data": {"url": "https://x.example/r", "token": TOKEN}}),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"trackingNumber": TRACKING})))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&verify_server)
        .await;
    let gardeshpay = GardeshPay::new()
        .with_base_urls(&create_server.uri(), &verify_server.uri())
        .unwrap()
        .with_clock(clock())
        .with_http(http());
    create(&gardeshpay).await.unwrap();
    let verified = verify(&gardeshpay).await.unwrap();

    let mut expected = Verified::new();
    expected.order_id = Some("INV-1001".into());
    expected.amount = Some(Rial::new(120_000));
    expected.bank_reference = Some("738495012345".into());
    expected.card_mask = Some("610433******6047".into());
    assert_eq!(verified, expected);
    assert_eq!(create_server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn verify_sends_the_merchant_token_and_prefix_when_configured() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/provider/payment/verify"))
        .and(body_json(
            json!({"trackingNumber": TRACKING, "token": MERCHANT_TOKEN}),
        ))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;
    let verified = verify(
        &adapter(&server)
            .with_path_prefix("v1")
            .unwrap()
            .with_merchant_token(MERCHANT_TOKEN),
    )
    .await
    .unwrap();
    assert!(!verified.already_verified);
}

#[tokio::test]
async fn verified_before_true_is_already_verified() {
    let server = MockServer::start().await;
    mount_json(&server, VERIFY, 200, verify_success(true)).await;
    let verified = verify(&adapter(&server)).await.unwrap();
    assert!(verified.already_verified);
    assert_eq!(verified.amount, Some(Rial::new(120_000)));
}

#[tokio::test]
async fn amount_and_verified_before_are_also_read_inside_data_and_as_strings() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        VERIFY,
        200,
        json!({
            "success": "true",
            "data": {"cardNumber": "610433******6047", "refNumber": 738495012345_u64,
                     "invoiceNumber": "INV-1001", "amount": "120000", "verifiedBefore": "1"},
            "message": "ok"
        }),
    )
    .await;
    let verified = verify(&adapter(&server)).await.unwrap();
    assert_eq!(verified.amount, Some(Rial::new(120_000)));
    assert!(verified.already_verified);
    assert_eq!(verified.bank_reference.as_deref(), Some("738495012345"));
}

#[tokio::test]
async fn verify_without_amount_or_invoice_number_is_malformed() {
    // Verify takes no amount: without the answer's amount and invoice number nothing
    // could be compared with the order state, so such an answer is not a confirmation.
    let server = MockServer::start().await;
    let gardeshpay = adapter(&server);
    let mut no_amount = verify_success(false);
    no_amount.as_object_mut().unwrap().remove("amount");
    let mut no_invoice = verify_success(false);
    no_invoice["data"]
        .as_object_mut()
        .unwrap()
        .remove("invoiceNumber");
    let mut bad_flag = verify_success(false);
    bad_flag["verifiedBefore"] = json!("perhaps");
    let bodies = [
        no_amount,
        no_invoice,
        bad_flag,
        json!({"success": true, "data": []}),
    ];
    let answers = json_answers(bodies);
    assert_malformed(&server, GW, VERIFY, answers, || verify(&gardeshpay)).await;
}

#[tokio::test]
async fn verify_refusals_are_typed() {
    let server = MockServer::start().await;
    // The payment sandbox's answer, with the field that labels its invented code: a field
    // the adapter does not know is ignored.
    mount_json(
        &server,
        VERIFY,
        400,
        json!({"success": false, "code": 4, "message": "پرداخت ناموفق بوده است.", "errors": [],
               "sandbox_note": "invented code: the document gives none"}),
    )
    .await;
    let refusal = gateway_error(verify(&adapter(&server)).await.unwrap_err());
    assert_eq!(
        refusal,
        GatewayError {
            gateway: GW,
            operation: Operation::Verify,
            code: GatewayCode::Undocumented(4),
            http_status: Some(400),
            message: Some("پرداخت ناموفق بوده است.".into()),
        }
    );
}

#[tokio::test]
async fn verify_needs_the_tracking_number_from_the_callback() {
    let server = silent_server().await;
    let mut callback = callback();
    callback.verify_reference = None;
    assert_eq!(
        callback_error(adapter(&server).verify(&state(), &callback).await),
        CallbackError::MissingField("trackingNumber")
    );
    server.verify().await;
}

#[tokio::test]
async fn verify_5xx_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let gardeshpay = adapter(&server);
    let late = json_answer(200, verify_success(false));
    let error = json_answer(500, json!({}));
    assert_500_then_timeout(&server, GW, VERIFY, error, late, || verify(&gardeshpay)).await;
}

// ---------------------------------------------------------------------------------------
// the guessed parts of the request: encoding, token placement, amount unit

const FORM: &str = "application/x-www-form-urlencoded";

/// A getToken answer with a token and a payment page.
fn token_answer() -> Value {
    json!({"success": true, "data": {"url": "https://ipg.gardeshpay.ir/r", "token": TOKEN}})
}

/// Whether any request `server` received carries an `Authorization` header.
async fn any_authorization(server: &MockServer) -> bool {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.headers.contains_key("authorization"))
}

#[tokio::test]
async fn form_encoding_sends_every_field_as_form_data_in_the_documents_order() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GET_TOKEN))
        .and(header("content-type", FORM))
        .and(body_string(
            "amount=120000&invoiceNumber=INV-1001&invoiceDate=2024-03-21T00%3A15%3A00\
             &mobile=09121234567&email=buyer%40example.com\
             &callback=https%3A%2F%2Fshop.example%2Fpay%2Fcallback%2Fgardeshpay",
        ))
        .respond_with(json_answer(200, token_answer()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", FORM))
        .and(body_string(format!("trackingNumber={TRACKING}")))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;

    let gardeshpay = adapter(&server).with_encoding(GardeshPayEncoding::Form);
    let order = order("INV-1001", 120_000)
        .with_mobile("09121234567")
        .with_email("buyer@example.com");
    let created = gardeshpay.create(&order, &callback_url(GW)).await.unwrap();
    assert_eq!(created.gateway_ref, TOKEN);
    let verified = verify(&gardeshpay).await.unwrap();
    assert_eq!(verified.amount, Some(Rial::new(120_000)));
    assert!(!any_authorization(&server).await);
}

#[tokio::test]
async fn form_encoding_puts_the_merchant_token_last_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GET_TOKEN))
        .and(header("content-type", FORM))
        .and(body_string(format!(
            "amount=1&invoiceNumber=A1&invoiceDate=2024-03-21T00%3A15%3A00\
             &callback=https%3A%2F%2Fshop.example%2Fpay%2Fcallback%2Fgardeshpay\
             &token={MERCHANT_TOKEN}"
        )))
        .respond_with(json_answer(200, token_answer()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", FORM))
        .and(body_string(format!(
            "trackingNumber={TRACKING}&token={MERCHANT_TOKEN}"
        )))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;

    let gardeshpay = adapter(&server)
        .with_encoding(GardeshPayEncoding::Form)
        .with_merchant_token(MERCHANT_TOKEN);
    create_a1(&gardeshpay).await.unwrap();
    verify(&gardeshpay).await.unwrap();
    assert!(!any_authorization(&server).await);
}

#[tokio::test]
async fn the_token_in_the_body_is_the_default_and_sends_no_authorization_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"trackingNumber": TRACKING, "token": MERCHANT_TOKEN}),
        ))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;
    let gardeshpay = adapter(&server)
        .with_merchant_token(MERCHANT_TOKEN)
        .with_token_placement(GardeshPayTokenPlacement::Body);
    verify(&gardeshpay).await.unwrap();
    assert!(!any_authorization(&server).await);
}

#[tokio::test]
async fn header_placement_sends_a_bearer_header_and_only_the_documented_fields() {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {MERCHANT_TOKEN}");
    Mock::given(method("POST"))
        .and(path(GET_TOKEN))
        .and(header("content-type", "application/json"))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({
            "amount": 120000,
            "invoiceNumber": "INV-1001",
            "invoiceDate": "2024-03-21T00:15:00",
            "callback": "https://shop.example/pay/callback/gardeshpay"
        })))
        .respond_with(json_answer(200, token_answer()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", "application/json"))
        .and(header("authorization", bearer.as_str()))
        .and(body_json(json!({"trackingNumber": TRACKING})))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;

    let gardeshpay = adapter(&server)
        .with_token_placement(GardeshPayTokenPlacement::Header)
        .with_merchant_token(MERCHANT_TOKEN);
    create(&gardeshpay).await.unwrap();
    verify(&gardeshpay).await.unwrap();
}

#[tokio::test]
async fn header_placement_with_form_data_and_without_a_token() {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {MERCHANT_TOKEN}");
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", FORM))
        .and(header("authorization", bearer.as_str()))
        .and(body_string(format!("trackingNumber={TRACKING}")))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;
    let gardeshpay = adapter(&server)
        .with_encoding(GardeshPayEncoding::Form)
        .with_token_placement(GardeshPayTokenPlacement::Header);
    verify(&gardeshpay.clone().with_merchant_token(MERCHANT_TOKEN))
        .await
        .unwrap();

    // Without a merchant token there is no header to send, in either placement.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", FORM))
        .and(body_string(format!("trackingNumber={TRACKING}")))
        .respond_with(json_answer(200, verify_success(false)))
        .expect(1)
        .mount(&server)
        .await;
    verify(&gardeshpay).await.unwrap();
    assert!(!any_authorization(&server).await);
}

#[tokio::test]
async fn toman_sends_a_tenth_of_the_amount_and_reads_verifys_amount_as_toman() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GET_TOKEN))
        .and(body_json(json!({
            "amount": 12000,
            "invoiceNumber": "INV-1001",
            "invoiceDate": "2024-03-21T00:15:00",
            "callback": "https://shop.example/pay/callback/gardeshpay"
        })))
        .respond_with(json_answer(200, token_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let mut in_toman = verify_success(false);
    in_toman["amount"] = json!(12000);
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(body_json(json!({"trackingNumber": TRACKING})))
        .respond_with(json_answer(200, in_toman))
        .expect(1)
        .mount(&server)
        .await;

    let gardeshpay = adapter(&server).with_amount_unit(GardeshPayAmountUnit::Toman);
    create(&gardeshpay).await.unwrap();
    let verified = verify(&gardeshpay).await.unwrap();
    // 12,000 toman is the order's 120,000 rial, which the pipeline compares with the state.
    assert_eq!(verified.amount, Some(Rial::new(120_000)));
}

#[tokio::test]
async fn toman_as_form_data_sends_the_toman_amount_as_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GET_TOKEN))
        .and(header("content-type", FORM))
        .and(body_string(
            "amount=12000&invoiceNumber=INV-1001&invoiceDate=2024-03-21T00%3A15%3A00\
             &callback=https%3A%2F%2Fshop.example%2Fpay%2Fcallback%2Fgardeshpay",
        ))
        .respond_with(json_answer(200, token_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let gardeshpay = adapter(&server)
        .with_encoding(GardeshPayEncoding::Form)
        .with_amount_unit(GardeshPayAmountUnit::Toman);
    create(&gardeshpay).await.unwrap();
}

#[tokio::test]
async fn the_rial_default_reads_verifys_amount_as_rial() {
    let server = MockServer::start().await;
    mount_json(&server, VERIFY, 200, verify_success(false)).await;
    let rial = adapter(&server).with_amount_unit(GardeshPayAmountUnit::Rial);
    assert_eq!(
        verify(&rial).await.unwrap().amount,
        Some(Rial::new(120_000))
    );
    // The same answer read as toman is ten times as much, which the pipeline would refuse
    // as not the state's amount.
    let toman = adapter(&server).with_amount_unit(GardeshPayAmountUnit::Toman);
    assert_eq!(
        verify(&toman).await.unwrap().amount,
        Some(Rial::new(1_200_000))
    );
}

#[tokio::test]
async fn toman_refuses_an_amount_that_is_no_whole_number_of_toman_before_any_request() {
    let server = silent_server().await;
    let gardeshpay = adapter(&server).with_amount_unit(GardeshPayAmountUnit::Toman);
    for amount in [120_005, 1, 9, 11] {
        let reason = OrderProblem::AmountNotWholeToman { amount };
        assert_order_refused(&gardeshpay, &callback_url(GW), &order("A1", amount), reason).await;
    }
    // Zero is below the minimum, whatever the unit.
    let reason = OrderProblem::AmountTooLow { amount: 0, min: 1 };
    assert_order_refused(&gardeshpay, &callback_url(GW), &order("A1", 0), reason).await;
    assert!(gardeshpay.check_order(&order("A1", 10)).is_ok());
    assert!(gardeshpay.check_order(&order("A1", 120_000)).is_ok());
    // In rial, the default, any positive amount goes.
    assert!(adapter(&server).check_order(&order("A1", 120_005)).is_ok());
    server.verify().await;

    let err = gardeshpay.check_order(&order("A1", 120_005)).unwrap_err();
    assert!(
        err.to_string()
            .contains("amount 120005 rial is not a whole number of toman"),
        "{err}"
    );
}

#[tokio::test]
async fn a_toman_amount_too_large_for_rial_is_malformed() {
    let server = MockServer::start().await;
    let gardeshpay = adapter(&server).with_amount_unit(GardeshPayAmountUnit::Toman);
    let mut huge = verify_success(false);
    huge["amount"] = json!(u64::MAX / 10 + 1);
    let answers = json_answers([huge]);
    assert_malformed(&server, GW, VERIFY, answers, || verify(&gardeshpay)).await;
}

// ---------------------------------------------------------------------------------------
// callback

#[test]
fn the_callback_says_nothing_about_the_outcome() {
    let data = callback();
    assert_eq!(data.gateway, GW);
    assert_eq!(data.status, CallbackStatus::Unknown);
    assert_eq!(data.verify_reference.as_deref(), Some(TRACKING));
    assert_eq!(data.order_id.as_deref(), Some("INV-1001"));
    assert_eq!(data.reference, None);
    assert_eq!(data.amount, None);
}

#[test]
fn missing_callback_fields_are_refused() {
    // GardeshPay's callback has no amount, so there is no amount to be garbage.
    use CallbackError::MissingField;
    let cases = [
        ("invoiceNumber=INV-1001", MissingField("trackingNumber")),
        (
            "trackingNumber=&invoiceNumber=INV-1001",
            MissingField("trackingNumber"),
        ),
        ("trackingNumber=402918374655", MissingField("invoiceNumber")),
    ];
    assert_callbacks_refused(&GardeshPay::new(), get, &cases);
}

// ---------------------------------------------------------------------------------------
// configuration

#[test]
fn debug_never_shows_the_merchant_token() {
    let gardeshpay = GardeshPay::new().with_merchant_token(MERCHANT_TOKEN);
    assert_debug_hides(
        &gardeshpay,
        &[MERCHANT_TOKEN],
        &["https://ipg.gardeshpay.ir/", "https://ipg.gardeshpay.com/"],
    );
}

#[test]
fn debug_never_shows_the_merchant_token_in_any_placement_or_encoding() {
    for placement in [
        GardeshPayTokenPlacement::Body,
        GardeshPayTokenPlacement::Header,
    ] {
        for encoding in [GardeshPayEncoding::Json, GardeshPayEncoding::Form] {
            let gardeshpay = GardeshPay::new()
                .with_merchant_token(MERCHANT_TOKEN)
                .with_token_placement(placement)
                .with_encoding(encoding)
                .with_amount_unit(GardeshPayAmountUnit::Toman);
            assert_debug_hides(
                &gardeshpay,
                &[MERCHANT_TOKEN],
                &[&format!("{placement:?}"), &format!("{encoding:?}"), "Toman"],
            );
        }
    }
}

#[test]
fn the_defaults_are_json_the_token_in_the_body_and_rial() {
    assert_eq!(GardeshPayEncoding::default(), GardeshPayEncoding::Json);
    assert_eq!(
        GardeshPayTokenPlacement::default(),
        GardeshPayTokenPlacement::Body
    );
    assert_eq!(GardeshPayAmountUnit::default(), GardeshPayAmountUnit::Rial);
    let debug = format!("{:?}", GardeshPay::new());
    for part in [
        "encoding: Json",
        "token_placement: Body",
        "amount_unit: Rial",
    ] {
        assert!(debug.contains(part), "{part} not in {debug}");
    }
}

#[test]
fn path_prefixes_and_base_urls_are_checked() {
    for good in ["", "/", "v1", "/v1/", "api/v1.2", "x_y-z"] {
        assert!(GardeshPay::new().with_path_prefix(good).is_ok(), "{good}");
    }
    for bad in ["v1?x=1", "v 1", "a//b", "..", "v1/../..", "#"] {
        assert!(GardeshPay::new().with_path_prefix(bad).is_err(), "{bad}");
    }
    assert!(
        GardeshPay::new()
            .with_base_urls("https://ipg.gardeshpay.ir", "not a url")
            .is_err()
    );
    assert!(GardeshPay::new().with_base_url("ftp://x").is_err());
}
