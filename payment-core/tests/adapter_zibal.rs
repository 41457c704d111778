//! The Zibal adapter against a mock of its API: every request pinned (method, path,
//! content type, JSON body), every answer of Zibal's IPG documentation decoded (every
//! result code and status included), the limits, the faults, the callback and inquiry.

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
    CallbackRequest, CardNumber, Error, GatewayId, Rial, Zibal,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Inquiry, Verified},
    error::{CallbackError, GatewayCode, GatewayError, Operation, OrderProblem},
    gateways::zibal::{SANDBOX_MERCHANT, ZibalCode, ZibalStatus},
    state::OrderState,
};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer,
    matchers::{body_json, header, method, path},
};

const MERCHANT: &str = "5f1d7a7a18f934262f2a1c3f";
/// The documentation's example trackId.
const TRACK_ID: u64 = 15_966_442_233_311;
const JSON: &str = "application/json";

const GW: GatewayId = GatewayId::Zibal;

const REQUEST: &str = "/v1/request";
const VERIFY: &str = "/v1/verify";
const INQUIRY: &str = "/v1/inquiry";

/// The documentation's request answer.
fn doc_created() -> Value {
    json!({ "trackId": TRACK_ID, "result": 100, "message": "success" })
}

/// The documentation's verify answer (201: verified before).
fn doc_verified(result: i64) -> Value {
    json!({
        "paidAt": "2018-03-25T23:43:01.053000",
        "amount": 1600,
        "result": result,
        "status": 1,
        "refNumber": 12312,
        "description": "Hello World!",
        "cardNumber": "62741****44",
        "orderId": "2211",
        "message": "success"
    })
}

/// The documentation's inquiry answer, with `status`.
fn doc_inquiry(status: i64) -> Value {
    json!({
        "message": "success",
        "result": 100,
        "refNumber": 12312,
        "paidAt": "2022-07-06T14:18:21.742000",
        "verifiedAt": "2022-07-06T14:18:21.742000",
        "status": status,
        "amount": 10000,
        "orderId": "231",
        "description": "Hello World !",
        "cardNumber": "62741****44",
        "multiplexingInfos": [],
        "wage": 0,
        "createdAt": "2022-07-06T14:17:52.918000"
    })
}

fn adapter(server: &MockServer) -> Zibal {
    Zibal::new(MERCHANT)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn state(order_id: &str, amount: u64) -> OrderState {
    common::state(GW, order_id, amount, &TRACK_ID.to_string())
}

/// Creates order A-1 of 1,600 rial.
async fn create(zibal: &Zibal) -> Result<Created, Error> {
    zibal.create(&order("A-1", 1_600), &callback_url(GW)).await
}

/// Verifies the documentation's payment: order 2211, 1,600 rial.
async fn verify(zibal: &Zibal) -> Result<Verified, Error> {
    zibal
        .verify(&state("2211", 1_600), &paid_callback(GW))
        .await
}

fn expected_verified(already_verified: bool) -> Verified {
    let mut v = Verified::new();
    v.order_id = Some("2211".into());
    v.amount = Some(Rial::new(1_600));
    v.bank_reference = Some("12312".into());
    v.card_mask = Some("62741****44".into());
    v.paid_at = Some("2018-03-25T23:43:01.053000".into());
    v.already_verified = already_verified;
    v
}

// ---------------------------------------------------------------- create

#[tokio::test]
async fn create_sends_every_documented_field_as_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(REQUEST))
        .and(header("content-type", JSON))
        .and(body_json(json!({
            "merchant": MERCHANT,
            "amount": 160000,
            "callbackUrl": "https://shop.example/pay/callback/zibal",
            "orderId": "ZBL-7799",
            "description": "Hello World!",
            "mobile": "09123456789",
            "allowedCards": ["6037991012345678"]
        })))
        .respond_with(json_answer(200, doc_created()))
        .expect(1)
        .mount(&server)
        .await;
    let order = order("ZBL-7799", 160_000)
        .with_description("Hello World!")
        .with_mobile("09123456789")
        .with_card_number(CardNumber::new("6037 9910 1234 5678").unwrap())
        // Zibal takes neither: they are not sent.
        .with_email("buyer@example.com")
        .with_payer_name("Buyer");

    let created = adapter(&server)
        .create(&order, &callback_url(GW))
        .await
        .unwrap();

    let start = format!("{}/start/{TRACK_ID}", server.uri());
    assert_eq!(created, created_get(&TRACK_ID.to_string(), &start));
}

#[tokio::test]
async fn create_without_optional_fields_sends_only_the_required_ones() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(REQUEST))
        .and(body_json(json!({
            "merchant": MERCHANT,
            "amount": 1600,
            "callbackUrl": "https://shop.example/pay/callback/zibal",
            "orderId": "A-1"
        })))
        // A trackId sent as a string is read too.
        .respond_with(json_answer(
            200,
            json!({"trackId": "9900", "result": "100", "message": "success"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let created = create(&adapter(&server)).await.unwrap();

    assert_eq!(created.gateway_ref, "9900");
}

#[tokio::test]
async fn the_sandbox_merchant_and_a_base_url_with_a_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/zibal{REQUEST}")))
        .and(body_json(json!({
            "merchant": "zibal",
            "amount": 1600,
            "callbackUrl": "https://shop.example/pay/callback/zibal",
            "orderId": "A-1"
        })))
        .respond_with(json_answer(200, doc_created()))
        .expect(1)
        .mount(&server)
        .await;
    let zibal = Zibal::sandbox()
        .with_base_url(&format!("{}/zibal", server.uri()))
        .unwrap()
        .with_http(http());

    let created = create(&zibal).await.unwrap();

    assert_eq!(SANDBOX_MERCHANT, "zibal");
    assert_eq!(
        created.redirect.url().as_str(),
        format!("{}/zibal/start/{TRACK_ID}", server.uri())
    );
}

#[tokio::test]
async fn every_documented_request_refusal_maps_to_its_typed_code() {
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    let codes = ZibalCode::ALL
        .iter()
        .copied()
        .filter(|c| (102..=116).contains(&GatewayCode::Zibal(*c).code()));
    let mut seen = 0;
    for code in codes {
        let n = GatewayCode::Zibal(code).code();
        server.reset().await;
        let body = json!({"result": n, "message": "authentication error"});
        mount_json(&server, REQUEST, 200, body).await;
        let err = create(&zibal).await.unwrap_err();
        assert!(!err.is_transient(), "{n}");
        assert_eq!(
            gateway_error(err),
            GatewayError {
                gateway: GW,
                operation: Operation::Create,
                code: GatewayCode::Zibal(code),
                http_status: None,
                message: Some("authentication error".into()),
            }
        );
        seen += 1;
    }
    assert_eq!(seen, 15);
    // A code the documentation does not list is kept as a number.
    server.reset().await;
    mount_json(&server, REQUEST, 200, json!({"result": 199})).await;
    let e = gateway_error(create(&zibal).await.unwrap_err());
    assert_eq!(e.code, GatewayCode::Undocumented(199));
    assert_eq!(e.message, None);
}

#[tokio::test]
async fn create_answers_outside_the_document_are_malformed() {
    let bodies = [
        json!({"result": 100, "message": "success"}), // no trackId
        json!({"result": 100, "trackId": ""}),
        json!({"result": 100, "trackId": "../x?y"}), // not a trackId: it would change the redirect
        json!({"result": 100, "trackId": -5}),
        json!({"trackId": TRACK_ID}), // no result
        json!({"result": "ok", "trackId": TRACK_ID}),
        json!([]),
    ];
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    let mut answers: Vec<_> = json_answers(bodies).into_iter().collect();
    answers.push((doc_created(), json_answer(404, doc_created())));
    answers.push((json!("html"), raw_json(200, "<html>bad gateway</html>")));
    assert_malformed(&server, GW, REQUEST, answers, || create(&zibal)).await;
}

#[tokio::test]
async fn check_order_refuses_amounts_below_the_minimum_before_any_request() {
    let server = silent_server().await;
    let zibal = adapter(&server);
    let too_low = order("A-1", 999);
    let reason = OrderProblem::AmountTooLow {
        amount: 999,
        min: 1_000,
    };
    assert_order_refused(&zibal, &callback_url(GW), &too_low, reason).await;
    assert!(zibal.check_order(&order("A-1", 1_000)).is_ok());
    // No maximum is documented.
    assert!(zibal.check_order(&order("A-1", u64::MAX)).is_ok());
}

#[tokio::test]
async fn create_500_and_timeout_are_transport_errors_and_not_repeated() {
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    let (error, late) = (raw_json(500, "oops"), json_answer(200, doc_created()));
    assert_500_then_timeout(&server, GW, REQUEST, error, late, || create(&zibal)).await;
}

// ---------------------------------------------------------------- verify

#[tokio::test]
async fn verify_sends_the_states_track_id_as_a_number_and_reads_the_documented_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .and(header("content-type", JSON))
        .and(body_json(
            json!({ "merchant": MERCHANT, "trackId": TRACK_ID }),
        ))
        .respond_with(json_answer(200, doc_verified(100)))
        .expect(1)
        .mount(&server)
        .await;
    // The callback's values are never used.
    let mut callback = paid_callback(GW);
    callback.reference = Some("1".into());
    callback.amount = Some(Rial::new(1));

    let verified = adapter(&server)
        .verify(&state("2211", 1_600), &callback)
        .await
        .unwrap();

    assert_eq!(verified, expected_verified(false));
}

#[tokio::test]
async fn result_201_is_already_verified_with_or_without_the_payment() {
    let server = MockServer::start().await;
    mount_json(&server, VERIFY, 200, doc_verified(201)).await;
    let verified = verify(&adapter(&server)).await.unwrap();
    assert_eq!(verified, expected_verified(true));

    // A repeat may carry nothing but its result.
    let server = MockServer::start().await;
    let body = json!({"result": 201, "message": "already verified"});
    mount_json(&server, VERIFY, 200, body).await;
    let verified = verify(&adapter(&server)).await.unwrap();
    assert!(verified.already_verified);
    assert_eq!(verified.amount, None);
}

#[tokio::test]
async fn the_paid_amount_is_reported_so_the_pipeline_can_compare_it() {
    let server = MockServer::start().await;
    let mut body = doc_verified(100);
    body["amount"] = json!("1000");
    body["orderId"] = json!("other");
    mount_json(&server, VERIFY, 200, body).await;

    let verified = verify(&adapter(&server)).await.unwrap();

    assert_eq!(verified.amount, Some(Rial::new(1_000)));
    assert_eq!(verified.order_id.as_deref(), Some("other"));
}

#[tokio::test]
async fn every_documented_verify_refusal_maps_to_its_typed_code() {
    for (result, code) in [
        (102, ZibalCode::MerchantNotFound),
        (103, ZibalCode::MerchantInactive),
        (104, ZibalCode::MerchantInvalid),
        (202, ZibalCode::NotPaid),
        (203, ZibalCode::TrackIdInvalid),
    ] {
        let server = MockServer::start().await;
        let body = json!({"result": result, "message": "m"});
        mount_json(&server, VERIFY, 200, body).await;
        let err = verify(&adapter(&server)).await.unwrap_err();
        assert!(!err.is_transient(), "{result}");
        let e = gateway_error(err);
        assert_eq!(e.code, GatewayCode::Zibal(code), "{result}");
        assert_eq!(e.operation, Operation::Verify);
        assert_eq!(e.message.as_deref(), Some("m"));
    }
}

#[tokio::test]
async fn a_payment_not_made_carries_its_status() {
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    for &status in ZibalStatus::ALL {
        let n = GatewayCode::ZibalStatus(status).code();
        server.reset().await;
        let body = json!({"result": 202, "status": n, "message": "not paid"});
        mount_json(&server, VERIFY, 200, body).await;
        let err = verify(&zibal).await.unwrap_err();
        let expected = match status {
            // A "paid" status beside "not paid" says nothing more: the result stands.
            ZibalStatus::PaidVerified | ZibalStatus::PaidNotVerified => {
                GatewayCode::Zibal(ZibalCode::NotPaid)
            }
            other => GatewayCode::ZibalStatus(other),
        };
        let transient = matches!(
            status,
            ZibalStatus::AwaitingPayment | ZibalStatus::InternalError
        );
        assert_eq!(err.is_transient(), transient, "{n}");
        assert_eq!(gateway_error(err).code, expected, "{n}");
    }
    // An undocumented status keeps the result's code.
    server.reset().await;
    mount_json(&server, VERIFY, 200, json!({"result": 202, "status": 99})).await;
    let e = gateway_error(verify(&zibal).await.unwrap_err());
    assert_eq!(e.code, GatewayCode::Zibal(ZibalCode::NotPaid));
}

#[tokio::test]
async fn a_gateway_message_never_carries_the_merchant() {
    let server = MockServer::start().await;
    let body = json!({"result": 102, "message": format!("merchant {MERCHANT} not found")});
    mount_json(&server, VERIFY, 200, body).await;

    let err = verify(&adapter(&server)).await.unwrap_err();

    assert!(!err.to_string().contains(MERCHANT));
    assert_eq!(
        gateway_error(err).message.as_deref(),
        Some("merchant [redacted] not found")
    );
}

#[tokio::test]
async fn verify_answers_outside_the_document_are_malformed() {
    let mut no_amount = doc_verified(100);
    no_amount.as_object_mut().unwrap().remove("amount");
    let mut bad_amount = doc_verified(100);
    bad_amount["amount"] = json!("ten");
    let mut negative = doc_verified(201);
    negative["amount"] = json!(-1);
    let mut no_result = doc_verified(100);
    no_result.as_object_mut().unwrap().remove("result");
    let bodies = [
        no_amount,
        bad_amount,
        negative,
        no_result,
        json!({"result": 202, "status": "x"}),
        json!("success"),
    ];
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    let mut answers: Vec<_> = json_answers(bodies).into_iter().collect();
    answers.push((doc_verified(100), json_answer(404, doc_verified(100))));
    assert_malformed(&server, GW, VERIFY, answers, || verify(&zibal)).await;
}

#[tokio::test]
async fn verify_500_and_timeout_are_transport_errors() {
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    let (error, late) = (raw_json(502, ""), json_answer(200, doc_verified(100)));
    // 502 is repeated (verify is repeatable) and then reported as the status.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(VERIFY))
        .respond_with(error)
        .expect(2)
        .mount(&server)
        .await;
    let err = verify(&zibal).await.unwrap_err();
    assert!(err.is_transient());
    server.verify().await;
    let error = raw_json(500, "");
    assert_500_then_timeout(&server, GW, VERIFY, error, late, || verify(&zibal)).await;
}

// ---------------------------------------------------------------- inquiry

#[tokio::test]
async fn inquiry_sends_the_track_id_and_only_paid_and_verified_is_confirmed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(INQUIRY))
        .and(header("content-type", JSON))
        .and(body_json(
            json!({ "merchant": MERCHANT, "trackId": TRACK_ID }),
        ))
        .respond_with(json_answer(200, doc_inquiry(1)))
        .expect(2)
        .mount(&server)
        .await;
    let zibal = adapter(&server);
    let st = state("231", 10_000);

    let verified = zibal.inquiry(&st).await.unwrap();

    let mut expected = Verified::new();
    expected.order_id = Some("231".into());
    expected.amount = Some(Rial::new(10_000));
    expected.bank_reference = Some("12312".into());
    expected.card_mask = Some("62741****44".into());
    expected.paid_at = Some("2022-07-06T14:18:21.742000".into());
    expected.already_verified = true;
    assert_eq!(verified, expected);
    // The pipeline asks through the same call.
    assert_eq!(zibal.confirmed_status(&st).await.unwrap(), expected);
}

#[tokio::test]
async fn every_other_inquiry_status_is_a_refusal_with_it() {
    let server = MockServer::start().await;
    let zibal = adapter(&server);
    let st = state("231", 10_000);
    for &status in ZibalStatus::ALL {
        if status == ZibalStatus::PaidVerified {
            continue;
        }
        let n = GatewayCode::ZibalStatus(status).code();
        server.reset().await;
        mount_json(&server, INQUIRY, 200, doc_inquiry(n)).await;
        let e = gateway_error(zibal.inquiry(&st).await.unwrap_err());
        assert_eq!(e.code, GatewayCode::ZibalStatus(status), "{n}");
        assert_eq!(e.operation, Operation::Inquiry);
    }
    for (result, code) in [
        (102, ZibalCode::MerchantNotFound),
        (203, ZibalCode::TrackIdInvalid),
    ] {
        server.reset().await;
        mount_json(&server, INQUIRY, 200, json!({"result": result})).await;
        let e = gateway_error(zibal.inquiry(&st).await.unwrap_err());
        assert_eq!(e.code, GatewayCode::Zibal(code));
    }
    let mut no_status = doc_inquiry(1);
    no_status.as_object_mut().unwrap().remove("status");
    let mut no_amount = doc_inquiry(1);
    no_amount.as_object_mut().unwrap().remove("amount");
    let answers = json_answers([no_status, no_amount]);
    assert_malformed(&server, GW, INQUIRY, answers, || zibal.inquiry(&st)).await;
}

// ---------------------------------------------------------------- callback

fn parse(query: &str) -> Result<CallbackData, Error> {
    Zibal::new(MERCHANT).parse_callback(&get(query))
}

#[test]
fn the_documented_paid_callback() {
    let data = parse("trackId=9900&success=1&status=2&orderId=1").unwrap();

    let mut expected = paid_callback(GW);
    expected.reference = Some("9900".into());
    expected.order_id = Some("1".into());
    assert_eq!(data, expected);
}

#[test]
fn a_failed_callback_carries_its_status() {
    for &status in ZibalStatus::ALL {
        let n = GatewayCode::ZibalStatus(status).code();
        let data = parse(&format!("trackId=9900&success=0&status={n}&orderId=1")).unwrap();
        assert_eq!(
            data.status,
            CallbackStatus::Failed {
                code: Some(GatewayCode::ZibalStatus(status)),
                raw_code: Some(n),
            }
        );
    }
    // Without a status, or with one the documentation does not list.
    let data = parse("trackId=9900&success=0").unwrap();
    assert_eq!(data.status, CallbackStatus::failed(GW, None));
    let data = parse("trackId=9900&success=0&status=99").unwrap();
    assert_eq!(
        data.status,
        CallbackStatus::Failed {
            code: Some(GatewayCode::Undocumented(99)),
            raw_code: Some(99),
        }
    );
}

#[test]
fn a_callback_posted_as_a_form_is_read_too() {
    let req = CallbackRequest::from_post("", b"trackId=9900&success=1&status=").unwrap();
    let data = Zibal::new(MERCHANT).parse_callback(&req).unwrap();
    assert_eq!(data.status, CallbackStatus::Paid);
    assert_eq!(data.order_id, None);
}

#[test]
fn missing_and_malformed_callback_fields_are_refused() {
    use CallbackError::{MalformedField, MissingField};
    let cases = [
        ("success=1&status=2", MissingField("trackId")),
        ("trackId=&success=1", MissingField("trackId")),
        ("trackId=9900&status=2", MissingField("success")),
        ("trackId=9900&success=true", MalformedField("success")),
        ("trackId=9900&success=0&status=x", MalformedField("status")),
        (
            "trackId=9900&success=1&status=1.5",
            MalformedField("status"),
        ),
    ];
    assert_callbacks_refused(&Zibal::new(MERCHANT), get, &cases);
}

#[test]
fn debug_never_shows_the_merchant() {
    assert_debug_hides(
        &Zibal::new(MERCHANT),
        &[MERCHANT],
        &["https://gateway.zibal.ir/"],
    );
}

#[test]
fn codes_have_both_meanings_and_the_two_tables_do_not_overlap() {
    for &code in ZibalCode::ALL {
        let code = GatewayCode::Zibal(code);
        assert!(!code.english().is_empty() && !code.persian().is_empty());
        assert_eq!(GatewayCode::lookup(GW, code.code()), code);
    }
    for &status in ZibalStatus::ALL {
        let code = GatewayCode::ZibalStatus(status);
        assert!(!code.english().is_empty() && !code.persian().is_empty());
        assert_eq!(GatewayCode::lookup(GW, code.code()), code);
        assert_eq!(ZibalCode::from_code(code.code()), None);
    }
    assert!(Zibal::new(MERCHANT).with_base_url("ftp://x").is_err());
    assert!(Zibal::new(MERCHANT).with_base_url("not a url").is_err());
}

// ---------------------------------------------------------------- through the pipeline

/// `Payments` with this adapter at `server`; order 2211 of 1,600 rial started, and the
/// buyer's paid return with its state cookie.
async fn started(server: &MockServer) -> (payment_core::Payments, CallbackRequest) {
    use payment_core::Payments;
    mount_json(server, REQUEST, 200, doc_created()).await;
    let payments = Payments::builder("https://shop.example", common::scripted::keys(9))
        .gateway(adapter(server))
        .build()
        .unwrap();
    let started = payments.start(GW, &order("2211", 1_600)).await.unwrap();
    let request = get(&format!(
        "trackId={TRACK_ID}&success=1&status=2&orderId=2211"
    ))
    .with_cookie(&started.cookie().name, &started.cookie().value);
    (payments, request)
}

#[tokio::test]
async fn a_paid_return_becomes_a_receipt() {
    let server = MockServer::start().await;
    mount_once(&server, VERIFY, json_answer(200, doc_verified(100))).await;
    let (payments, request) = started(&server).await;

    let result = payments.handle_callback(GW, &request).await;

    let Ok(receipt) = result.outcome else {
        panic!("expected paid, got {:?}", result.outcome)
    };
    assert_eq!(receipt.order_id().as_str(), "2211");
    assert_eq!(receipt.amount(), Rial::new(1_600));
    assert_eq!(receipt.gateway_ref(), TRACK_ID.to_string());
    assert_eq!(receipt.bank_reference(), Some("12312"));
}

#[tokio::test]
async fn a_verify_that_reports_another_amount_or_order_is_refused() {
    for (field, value, rejection) in [
        (
            "amount",
            json!(1_000),
            payment_core::Rejection::AmountMismatch,
        ),
        (
            "orderId",
            json!("9999"),
            payment_core::Rejection::VerifiedOrderMismatch,
        ),
    ] {
        let server = MockServer::start().await;
        let mut body = doc_verified(100);
        body[field] = value;
        mount_once(&server, VERIFY, json_answer(200, body)).await;
        let (payments, request) = started(&server).await;

        let result = payments.handle_callback(GW, &request).await;

        match result.outcome {
            Err(payment_core::NotPaid::Rejected(r)) => assert_eq!(r, rejection, "{field}"),
            other => panic!("{field}: {other:?}"),
        }
    }
}
