//! Every documented (or README-documented) error the sandbox produces, with its exact body.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{client, sandbox, text};
use payment_sandbox::{
    CANPAY_MERCHANT, GardeshPayAmountUnit, IDPAY_API_KEY, INOPAL_GATEWAY_ID, NOVINPAL_API_KEY,
    Sandbox, SandboxConfig, SandboxGateway, ZARINPAL_MERCHANT_ID, ZIBAL_MERCHANT,
};
use serde_json::{Value, json};

const SHOP: &str = "http://localhost:3000/cb";

async fn idpay(base: &str, path: &str, key: Option<&str>, body: Value) -> (u16, String) {
    let mut req = client().post(format!("{base}{path}")).json(&body);
    if let Some(key) = key {
        req = req.header("X-API-KEY", key);
    }
    text(req.send().await.unwrap()).await
}

fn idpay_error(code: u32, message: &str) -> String {
    format!(r#"{{"error_code":{code},"error_message":"{message}"}}"#)
}

#[tokio::test]
async fn idpay_create_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::IdPay);
    let ok = json!({"order_id": "101", "amount": 10000, "callback": SHOP});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let key_error = (403, idpay_error(12, "API Key یافت نشد."));
    for path in ["/v1/payment", "/v1.1/payment"] {
        assert_eq!(idpay(&base, path, None, ok.clone()).await, key_error);
        assert_eq!(
            idpay(&base, path, Some("wrong"), ok.clone()).await,
            key_error
        );
    }
    let cases = [
        (
            without("order_id"),
            406,
            idpay_error(32, "شماره سفارش `order_id` نباید خالی باشد."),
        ),
        (
            with("order_id", json!("")),
            406,
            idpay_error(32, "شماره سفارش `order_id` نباید خالی باشد."),
        ),
        (
            without("amount"),
            406,
            idpay_error(33, "مبلغ `amount` نباید خالی باشد."),
        ),
        (
            with("amount", json!(9999)),
            406,
            idpay_error(34, "مبلغ `amount` باید بیشتر از 10,000 ریال باشد."),
        ),
        (
            with("amount", json!(500_000_001)),
            406,
            idpay_error(35, "مبلغ `amount` باید کمتر از 500,000,000 ریال باشد."),
        ),
        (
            without("callback"),
            406,
            idpay_error(37, "آدرس بازگشت `callback` نباید خالی باشد."),
        ),
        (
            with("order_id", json!("x".repeat(51))),
            405,
            idpay_error(51, "تراکنش ایجاد نشد."),
        ),
        (
            with("phone", json!("0938")),
            405,
            idpay_error(51, "تراکنش ایجاد نشد."),
        ),
        (
            with("desc", json!("d".repeat(256))),
            405,
            idpay_error(51, "تراکنش ایجاد نشد."),
        ),
    ];
    for (body, status, expected) in cases {
        assert_eq!(
            idpay(&base, "/v1.1/payment", Some(IDPAY_API_KEY), body.clone()).await,
            (status, expected),
            "{body}"
        );
    }
    // The limits themselves are accepted.
    for body in [
        with("amount", json!(500_000_000)),
        with("order_id", json!("x".repeat(50))),
    ] {
        assert_eq!(
            idpay(&base, "/v1/payment", Some(IDPAY_API_KEY), body)
                .await
                .0,
            201
        );
    }
    // IDPay takes JSON only: a form body carries no fields.
    let (status, body) = text(
        client()
            .post(format!("{base}/v1/payment"))
            .header("X-API-KEY", IDPAY_API_KEY)
            .form(&[("order_id", "1"), ("amount", "10000"), ("callback", SHOP)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            406,
            idpay_error(32, "شماره سفارش `order_id` نباید خالی باشد.")
        )
    );
}

#[tokio::test]
async fn idpay_verify_and_inquiry_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::IdPay);
    for path in [
        "/v1/payment/inquiry",
        "/v1.1/payment/inquiry",
        "/v1.1/payment/verify",
    ] {
        assert_eq!(
            idpay(
                &base,
                path,
                Some("nope"),
                json!({"id": "x", "order_id": "1"})
            )
            .await,
            (403, idpay_error(12, "API Key یافت نشد."))
        );
        assert_eq!(
            idpay(&base, path, Some(IDPAY_API_KEY), json!({"order_id": "1"})).await,
            (406, idpay_error(31, "کد تراکنش `id` نباید خالی باشد."))
        );
        assert_eq!(
            idpay(&base, path, Some(IDPAY_API_KEY), json!({"id": "x"})).await,
            (
                406,
                idpay_error(32, "شماره سفارش `order_id` نباید خالی باشد.")
            )
        );
        assert_eq!(
            idpay(
                &base,
                path,
                Some(IDPAY_API_KEY),
                json!({"id": "x", "order_id": "1"})
            )
            .await,
            (400, idpay_error(52, "استعلام نتیجه ای نداشت."))
        );
    }
}

#[tokio::test]
async fn idpay_verify_window_is_ten_minutes() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::IdPay);
    let mut ids = Vec::new();
    for order in ["w1", "w2"] {
        let (_, body) = idpay(
            &base,
            "/v1.1/payment",
            Some(IDPAY_API_KEY),
            json!({"order_id": order, "amount": 10000, "callback": SHOP}),
        )
        .await;
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        sb.handle
            .act(SandboxGateway::IdPay, &id, payment_sandbox::Action::Pay)
            .unwrap();
        ids.push((order, id));
    }
    sb.handle
        .advance_clock(std::time::Duration::from_secs(9 * 60));
    let (status, body) = idpay(
        &base,
        "/v1.1/payment/verify",
        Some(IDPAY_API_KEY),
        json!({"id": ids[0].1, "order_id": ids[0].0}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"status":"100","#));
    sb.handle
        .advance_clock(std::time::Duration::from_secs(2 * 60));
    assert_eq!(
        idpay(
            &base,
            "/v1.1/payment/verify",
            Some(IDPAY_API_KEY),
            json!({"id": ids[1].1, "order_id": ids[1].0}),
        )
        .await,
        (405, idpay_error(54, "مدت زمان تایید پرداخت سپری شده است."))
    );
    // The one verified in time still answers 101 afterwards.
    let (status, body) = idpay(
        &base,
        "/v1.1/payment/verify",
        Some(IDPAY_API_KEY),
        json!({"id": ids[0].1, "order_id": ids[0].0}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"status":"101","#));
}

fn novinpal_rejection(code: u32, description: &str) -> (u16, String) {
    (
        200,
        format!(r#"{{"status":0,"errorCode":{code},"errorDescription":"{description}"}}"#),
    )
}

#[tokio::test]
async fn novinpal_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::NovinPal);
    let request = |form: Vec<(&'static str, String)>| {
        let url = format!("{base}/invoice/request");
        async move { text(client().post(url).form(&form).send().await.unwrap()).await }
    };
    let good = || {
        vec![
            ("api_key", NOVINPAL_API_KEY.to_owned()),
            ("amount", "10000".to_owned()),
            ("return_url", SHOP.to_owned()),
            ("order_id", "o1".to_owned()),
        ]
    };
    let replace = |k: &str, v: &str| {
        good()
            .into_iter()
            .map(|(n, x)| if n == k { (n, v.to_owned()) } else { (n, x) })
            .collect::<Vec<_>>()
    };
    let remove = |k: &str| {
        good()
            .into_iter()
            .filter(|(n, _)| *n != k)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        request(replace("api_key", "bad")).await,
        novinpal_rejection(111, "api key is invalid")
    );
    assert_eq!(
        request(remove("api_key")).await,
        novinpal_rejection(111, "api key is invalid")
    );
    for amount in ["9999", "abc", ""] {
        assert_eq!(
            request(replace("amount", amount)).await,
            novinpal_rejection(110, "amount is invalid")
        );
    }
    assert_eq!(
        request(remove("amount")).await,
        novinpal_rejection(110, "amount is invalid")
    );
    assert_eq!(
        request(remove("return_url")).await,
        novinpal_rejection(103, "return url is invalid")
    );
    assert_eq!(
        request(replace("return_url", "not a url")).await,
        novinpal_rejection(103, "return url is invalid")
    );
    assert_eq!(
        request(remove("order_id")).await,
        novinpal_rejection(113, "order id is invalid")
    );
    // JSON is accepted as well as form data.
    let (status, body) = text(
        client()
            .post(format!("{base}/invoice/request"))
            .json(&json!({"api_key": NOVINPAL_API_KEY, "amount": 10000,
                          "return_url": SHOP, "order_id": "j1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.ends_with(r#"","status":1}"#), "{body}");

    for call in ["verify", "reverse"] {
        let call_with = |key: &str, ref_id: &str| {
            let url = format!("{base}/invoice/{call}");
            let form = [("api_key", key.to_owned()), ("ref_id", ref_id.to_owned())];
            async move { text(client().post(url).form(&form).send().await.unwrap()).await }
        };
        assert_eq!(
            call_with("bad", "1").await,
            novinpal_rejection(111, "api key is invalid")
        );
        assert_eq!(
            call_with(NOVINPAL_API_KEY, "123").await,
            novinpal_rejection(105, "transaction not found")
        );
    }
}

fn inopal_failure(status: i32, message: &str) -> (u16, String) {
    (
        200,
        format!(r#"{{"status":{status},"message":"{message}","data":[]}}"#),
    )
}

fn inopal_unauthenticated(action: &str) -> (u16, String) {
    (
        401,
        format!(
            r#"{{"status":"unauthenticated","action":"{action}","tag":"unauthenticated","message":"دسترسی نامعتبر","data":[],"api_version":"1.0.0"}}"#
        ),
    )
}

#[tokio::test]
async fn inopal_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Inopal);
    let create = |auth: Option<&'static str>, body: Value| {
        let url = format!("{base}/api/pardakht/create");
        async move {
            let mut req = client().post(url).json(&body);
            if let Some(auth) = auth {
                req = req.bearer_auth(auth);
            }
            text(req.send().await.unwrap()).await
        }
    };
    let ok = json!({"amount": 1000, "order_id": "A1", "callback": SHOP});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    assert_eq!(
        create(None, ok.clone()).await,
        inopal_unauthenticated("PardakhtCreate")
    );
    assert_eq!(
        create(Some("wrong"), ok.clone()).await,
        inopal_unauthenticated("PardakhtCreate")
    );
    let id = Some(INOPAL_GATEWAY_ID);
    let cases = [
        (without("amount"), -4, "requiredInputParametersNotSatisfied"),
        (
            without("order_id"),
            -4,
            "requiredInputParametersNotSatisfied",
        ),
        (
            without("callback"),
            -4,
            "requiredInputParametersNotSatisfied",
        ),
        (with("amount", json!("ten")), -6, "incorrectAmount"),
        (with("amount", json!(999)), -7, "lowAmount"),
        (with("amount", json!(500_000_001)), -8, "highAmount"),
        (with("order_id", json!("")), -9, "emptyOrderId"),
        (with("order_id", json!("a".repeat(129))), -11, "longOrderId"),
        (with("order_id", json!("A-1")), -13, "paymentDataNotValid"),
        (
            with("callback", json!("nope")),
            -23,
            "invalidCallbackAddress",
        ),
    ];
    for (body, status, message) in cases {
        assert_eq!(
            create(id, body.clone()).await,
            inopal_failure(status, message),
            "{body}"
        );
    }
    for body in [
        with("amount", json!(500_000_000)),
        with("order_id", json!("a".repeat(128))),
    ] {
        let (status, text) = create(id, body).await;
        assert_eq!(status, 200);
        assert!(text.starts_with(r#"{"status":1,"#));
    }

    let verify = |auth: &'static str, body: Value| {
        let url = format!("{base}/api/pardakht/verify");
        async move {
            text(
                client()
                    .post(url)
                    .bearer_auth(auth)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(
        verify("wrong", json!({"ref_num": "abc", "amount": 1000})).await,
        inopal_unauthenticated("PardakhtVerify")
    );
    assert_eq!(
        verify(INOPAL_GATEWAY_ID, json!({"ref_num": "abc"})).await,
        inopal_failure(-4, "requiredInputParametersNotSatisfied")
    );
    assert_eq!(
        verify(INOPAL_GATEWAY_ID, json!({"ref_num": "abc", "amount": 1000})).await,
        inopal_failure(-13, "paymentDataNotValid")
    );
}

fn canpay_error(http: u16, error: &str, code: u32, message: &str) -> (u16, String) {
    (
        http,
        format!(
            r#"{{"status":false,"error":"{error}","code":{code},"message":"{message}","description":"","sandbox_note":"invented code: the document gives none"}}"#
        ),
    )
}

#[tokio::test]
async fn canpay_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::CanPay);
    let post = |path: &'static str, body: Value| {
        let url = format!("{base}/api/ipg/{path}");
        async move { text(client().post(url).json(&body).send().await.unwrap()).await }
    };
    let ok = json!({"merchant": CANPAY_MERCHANT, "amount": 10000,
                    "callback_url": SHOP, "invoice_id": "1"});
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let mut wrong = ok.clone();
    wrong["merchant"] = json!("nope");
    assert_eq!(
        post("token", wrong).await,
        canpay_error(401, "invalid_merchant", 2, "Merchant is not valid.")
    );
    assert_eq!(
        post("token", without("merchant")).await,
        canpay_error(422, "validation", 1, "The merchant field is required.")
    );
    assert_eq!(
        post("token", without("amount")).await,
        canpay_error(422, "validation", 1, "The amount field is required.")
    );
    assert_eq!(
        post("token", without("callback_url")).await,
        canpay_error(422, "validation", 1, "The callback url field is required.")
    );
    assert_eq!(
        post("token", without("invoice_id")).await,
        canpay_error(422, "validation", 1, "The invoice id field is required.")
    );
    assert_eq!(
        post("verify", json!({"merchant": "nope", "token": "X"})).await,
        canpay_error(401, "invalid_merchant", 2, "Merchant is not valid.")
    );
    assert_eq!(
        post("verify", json!({"merchant": CANPAY_MERCHANT})).await,
        canpay_error(422, "validation", 1, "The token field is required.")
    );
    assert_eq!(
        post("verify", json!({"merchant": CANPAY_MERCHANT, "token": "X"})).await,
        canpay_error(404, "not_found", 3, "Transaction not found.")
    );
}

#[tokio::test]
async fn gardeshpay_errors() {
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().gardeshpay_token(Some("mt")))
        .await
        .unwrap();
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    let post = |path: &'static str, body: Value| {
        let url = format!("{base}/provider/payment/{path}");
        async move { text(client().post(url).json(&body).send().await.unwrap()).await }
    };
    let token_error = (
        401,
        r#"{"success":false,"code":2,"message":"توکن پذیرنده معتبر نیست.","errors":["token is invalid"],"sandbox_note":"invented code: the document gives none"}"#
            .to_owned(),
    );
    let good = json!({"amount": 1000, "invoiceNumber": "i1",
                      "invoiceDate": "2026-01-02T03:04:05", "callback": SHOP});
    assert_eq!(post("getToken", good.clone()).await, token_error);
    assert_eq!(
        post("verify", json!({"trackingNumber": "1"})).await,
        token_error
    );
    let mut with_token = good.clone();
    with_token["token"] = json!("mt");
    assert_eq!(post("getToken", with_token).await.0, 200);
    assert_eq!(
        post("getToken", json!({"token": "mt", "invoiceDate": "2026-01-02 03:04"})).await,
        (
            422,
            r#"{"success":false,"code":1,"message":"اطلاعات ارسالی معتبر نیست.","errors":["amount is required","invoiceNumber is required","invoiceDate must be in format YYYY-MM-DDTHH:mm:ss","callback is required"],"sandbox_note":"invented code: the document gives none"}"#
                .to_owned()
        )
    );
    assert_eq!(
        post("verify", json!({"token": "mt", "trackingNumber": "1"})).await,
        (
            404,
            r#"{"success":false,"code":3,"message":"تراکنش یافت نشد.","errors":[],"sandbox_note":"invented code: the document gives none"}"#.to_owned()
        )
    );
    assert_eq!(
        post("verify", json!({"token": "mt"})).await,
        (
            422,
            r#"{"success":false,"code":1,"message":"اطلاعات ارسالی معتبر نیست.","errors":["trackingNumber is required"],"sandbox_note":"invented code: the document gives none"}"#
                .to_owned()
        )
    );
}

#[tokio::test]
async fn gardeshpay_errors_in_form_data_and_with_a_bearer_header() {
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().gardeshpay_token(Some("mt")))
        .await
        .unwrap();
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    let url = |path: &str| format!("{base}/provider/payment/{path}");
    let token_error = (
        401,
        r#"{"success":false,"code":2,"message":"توکن پذیرنده معتبر نیست.","errors":["token is invalid"],"sandbox_note":"invented code: the document gives none"}"#
            .to_owned(),
    );
    let good = [
        ("amount", "1000"),
        ("invoiceNumber", "i1"),
        ("invoiceDate", "2026-01-02T03:04:05"),
        ("callback", SHOP),
    ];
    let send =
        |request: reqwest::RequestBuilder| async move { text(request.send().await.unwrap()).await };
    // Form data without a token, with a wrong bearer, with a scheme that is not Bearer.
    assert_eq!(
        send(client().post(url("getToken")).form(&good)).await,
        token_error
    );
    assert_eq!(
        send(
            client()
                .post(url("getToken"))
                .bearer_auth("nope")
                .form(&good)
        )
        .await,
        token_error
    );
    assert_eq!(
        send(
            client()
                .post(url("verify"))
                .header("Authorization", "Basic mt")
                .form(&[("trackingNumber", "1")])
        )
        .await,
        token_error
    );
    // A right token in one place and a wrong one in the other is refused too.
    let mut with_token = good.to_vec();
    with_token.push(("token", "mt"));
    assert_eq!(
        send(
            client()
                .post(url("getToken"))
                .bearer_auth("nope")
                .form(&with_token)
        )
        .await,
        token_error
    );
    assert_eq!(
        send(
            client()
                .post(url("getToken"))
                .bearer_auth("mt")
                .form(&with_token)
        )
        .await
        .0,
        200
    );
    assert_eq!(
        send(
            client()
                .post(url("getToken"))
                .header("authorization", "bearer  mt ")
                // A new invoice number: GardeshPay takes each one once.
                .form(&[
                    ("amount", "1000"),
                    ("invoiceNumber", "i2"),
                    ("invoiceDate", "2026-01-02T03:04:05"),
                    ("callback", SHOP),
                ])
        )
        .await
        .0,
        200
    );
    // Form data is validated as JSON is.
    assert_eq!(
        send(
            client()
                .post(url("getToken"))
                .bearer_auth("mt")
                .form(&[("amount", "ten"), ("invoiceDate", "2026-01-02 03:04")])
        )
        .await,
        (
            422,
            r#"{"success":false,"code":1,"message":"اطلاعات ارسالی معتبر نیست.","errors":["amount must be a positive integer","invoiceNumber is required","invoiceDate must be in format YYYY-MM-DDTHH:mm:ss","callback is required"],"sandbox_note":"invented code: the document gives none"}"#
                .to_owned()
        )
    );
    assert_eq!(
        send(
            client()
                .post(url("verify"))
                .bearer_auth("mt")
                .form(&[("trackingNumber", "1")])
        )
        .await,
        (
            404,
            r#"{"success":false,"code":3,"message":"تراکنش یافت نشد.","errors":[],"sandbox_note":"invented code: the document gives none"}"#.to_owned()
        )
    );
}

#[tokio::test]
async fn gardeshpay_in_toman_refuses_an_amount_too_large_for_rial() {
    let config = SandboxConfig::default().gardeshpay_amount_unit(GardeshPayAmountUnit::Toman);
    let sb = Sandbox::spawn_on_loopback(config).await.unwrap();
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    let body = json!({"amount": u64::MAX / 10 + 1, "invoiceNumber": "i1",
                      "invoiceDate": "2026-01-02T03:04:05", "callback": SHOP});
    let res = client()
        .post(format!("{base}/provider/payment/getToken"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        text(res).await,
        (
            422,
            r#"{"success":false,"code":1,"message":"اطلاعات ارسالی معتبر نیست.","errors":["amount is too large"],"sandbox_note":"invented code: the document gives none"}"#
                .to_owned()
        )
    );
}

fn zarinpal_error(code: i32, message: &str, validations: Value) -> (u16, String) {
    (
        422,
        json!({"data": [], "errors": {"code": code, "message": message,
                                      "validations": validations}})
        .to_string(),
    )
}

fn zarinpal_validation(validations: Value) -> (u16, String) {
    zarinpal_error(
        -9,
        "The input params invalid, validation error.",
        validations,
    )
}

#[tokio::test]
async fn zarinpal_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Zarinpal);
    let post = |call: &'static str, body: Value| {
        let url = format!("{base}/pg/v4/payment/{call}.json");
        async move { text(client().post(url).json(&body).send().await.unwrap()).await }
    };
    let ok = json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": 10000,
                    "description": "d", "callback_url": SHOP});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    // Every missing field at once, in one -9.
    assert_eq!(
        post("request", json!({})).await,
        zarinpal_validation(json!([
            {"merchant_id": "The merchant id field is required."},
            {"amount": "The amount field is required."},
            {"description": "The description field is required."},
            {"callback_url": "The callback url field is required."},
        ]))
    );
    let cases = [
        (
            with("merchant_id", json!("short")),
            json!([{"merchant_id": "The merchant id must be 36 characters."}]),
        ),
        (
            with("amount", json!(9999)),
            json!([{"amount": "The amount must be at least 10000."}]),
        ),
        (
            with("amount", json!("ten")),
            json!([{"amount": "The amount must be an integer."}]),
        ),
        (
            with("currency", json!("USD")),
            json!([{"currency": "The selected currency is invalid."}]),
        ),
        (
            with("description", json!("d".repeat(501))),
            json!([{"description": "The description may not be greater than 500 characters."}]),
        ),
        (
            with("callback_url", json!("ftp://shop.example/cb")),
            json!([{"callback_url": "The callback url format is invalid."}]),
        ),
        (
            with(
                "metadata",
                json!({"mobile": "0912", "email": "nope", "card_pan": "1234"}),
            ),
            json!([
                {"metadata.mobile": "The metadata.mobile format is invalid."},
                {"metadata.email": "The metadata.email must be a valid email address."},
                {"metadata.card_pan": "The metadata.card pan format is invalid."},
            ]),
        ),
    ];
    for (body, validations) in cases {
        assert_eq!(
            post("request", body.clone()).await,
            zarinpal_validation(validations),
            "{body}"
        );
    }
    // In toman the minimum is 1,000.
    let mut toman = with("currency", json!("IRT"));
    toman["amount"] = json!(999);
    assert_eq!(
        post("request", toman.clone()).await,
        zarinpal_validation(json!([{"amount": "The amount must be at least 1000."}]))
    );
    toman["amount"] = json!(1000);
    assert_eq!(post("request", toman.clone()).await.0, 200);
    // A well-formed merchant id that is not the sandbox's.
    let terminal = zarinpal_error(
        -10,
        "Terminal is not valid, please check merchant_id or ip address.",
        json!([]),
    );
    let other = "00000000-0000-0000-0000-000000000000";
    assert_eq!(
        post("request", with("merchant_id", json!(other))).await,
        terminal
    );
    // At most 100,000,000 toman.
    let too_much = zarinpal_error(-41, "Maximum amount is 100,000,000 tomans.", json!([]));
    assert_eq!(
        post("request", with("amount", json!(1_000_000_001u64))).await,
        too_much
    );
    toman["amount"] = json!(100_000_001);
    assert_eq!(post("request", toman).await, too_much);
    assert_eq!(
        post("request", with("amount", json!(1_000_000_000u64)))
            .await
            .0,
        200
    );

    // verify
    assert_eq!(
        post("verify", json!({})).await,
        zarinpal_validation(json!([
            {"merchant_id": "The merchant id field is required."},
            {"authority": "The authority field is required."},
            {"amount": "The amount field is required."},
        ]))
    );
    let unknown = "A000000000000000000000000000nope0000";
    assert_eq!(
        post(
            "verify",
            json!({"merchant_id": other, "authority": unknown, "amount": 10000})
        )
        .await,
        terminal
    );
    let invalid = zarinpal_error(-54, "Invalid authority.", json!([]));
    assert_eq!(
        post(
            "verify",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": unknown, "amount": 10000})
        )
        .await,
        invalid
    );
    // inquiry and reverse
    for call in ["inquiry", "reverse"] {
        assert_eq!(
            post(call, json!({"merchant_id": ZARINPAL_MERCHANT_ID})).await,
            zarinpal_validation(json!([{"authority": "The authority field is required."}]))
        );
        assert_eq!(
            post(call, json!({"merchant_id": other, "authority": unknown})).await,
            terminal
        );
        assert_eq!(
            post(
                call,
                json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": unknown})
            )
            .await,
            invalid
        );
    }
    // unVerified
    assert_eq!(
        post("unVerified", json!({})).await,
        zarinpal_validation(json!([{"merchant_id": "The merchant id field is required."}]))
    );
    assert_eq!(
        post("unVerified", json!({"merchant_id": other})).await,
        terminal
    );
    // Another configured merchant id is the only one accepted.
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().zarinpal_merchant_id(other))
        .await
        .unwrap();
    let (status, _) = text(
        client()
            .post(format!(
                "{}/pg/v4/payment/unVerified.json",
                sb.base_url_for(SandboxGateway::Zarinpal)
            ))
            .json(&json!({"merchant_id": other}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
}

fn zibal_answer(result: u32, message: &str) -> (u16, String) {
    (
        200,
        format!(r#"{{"result":{result},"message":"{message}"}}"#),
    )
}

#[tokio::test]
async fn zibal_errors() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Zibal);
    let post = |call: &'static str, body: Value| {
        let url = format!("{base}/v1/{call}");
        async move { text(client().post(url).json(&body).send().await.unwrap()).await }
    };
    let ok = json!({"merchant": ZIBAL_MERCHANT, "amount": 1000, "callbackUrl": SHOP});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let invalid_merchant = zibal_answer(104, "invalid merchant");
    let not_found = zibal_answer(102, "merchant not found");
    let low = zibal_answer(105, "amount must be at least 1,000 rials");
    let callback = zibal_answer(106, "invalid callbackUrl");
    let cases = [
        (without("merchant"), invalid_merchant.clone()),
        (with("merchant", json!("")), invalid_merchant.clone()),
        (with("merchant", json!("someone-else")), not_found.clone()),
        (without("amount"), low.clone()),
        (with("amount", json!(999)), low.clone()),
        (with("amount", json!("ten")), low.clone()),
        (
            with("amount", json!(500_000_001)),
            zibal_answer(113, "amount exceeds the transaction limit"),
        ),
        (without("callbackUrl"), callback.clone()),
        (
            with("callbackUrl", json!("shop.example/cb")),
            callback.clone(),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(post("request", body.clone()).await, expected, "{body}");
    }
    for body in [ok.clone(), with("amount", json!(500_000_000))] {
        let (status, text) = post("request", body).await;
        assert_eq!(status, 200);
        assert!(
            text.ends_with(r#","result":100,"message":"success"}"#),
            "{text}"
        );
    }
    let invalid_track = zibal_answer(203, "invalid trackId");
    for call in ["verify", "inquiry"] {
        assert_eq!(post(call, json!({"trackId": 1})).await, invalid_merchant);
        assert_eq!(
            post(call, json!({"merchant": "nope", "trackId": 1})).await,
            not_found
        );
        assert_eq!(
            post(call, json!({"merchant": ZIBAL_MERCHANT})).await,
            invalid_track
        );
        assert_eq!(
            post(
                call,
                json!({"merchant": ZIBAL_MERCHANT, "trackId": 1234567890})
            )
            .await,
            invalid_track
        );
    }
}

#[tokio::test]
async fn unknown_payment_pages_and_actions() {
    let sb = sandbox().await;
    let (status, _) = text(
        client()
            .get(format!("{}/canpay/ipg/NOPE", sb.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = common::act(&sb, SandboxGateway::CanPay, "NOPE", "pay").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "unknown_payment");
}

/// CanPay, NovinPal and GardeshPay require a new order id for every transaction; the
/// sandbox refuses one it has seen (the answers are the sandbox's: the documents name
/// none), and takes the same id at another gateway.
#[tokio::test]
async fn a_reused_order_id_is_refused_where_the_document_says_unique() {
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().gardeshpay_token(Some("mt")))
        .await
        .unwrap();
    let novinpal = || {
        let url = format!(
            "{}/invoice/request",
            sb.base_url_for(SandboxGateway::NovinPal)
        );
        async move {
            let form = [
                ("api_key", NOVINPAL_API_KEY),
                ("amount", "10000"),
                ("return_url", SHOP),
                ("order_id", "same-1"),
            ];
            text(client().post(url).form(&form).send().await.unwrap()).await
        }
    };
    assert_eq!(novinpal().await.0, 200);
    assert_eq!(
        novinpal().await,
        (
            200,
            r#"{"status":0,"errorCode":113,"errorDescription":"order id was used before: send a new one"}"#
                .to_owned()
        )
    );
    let canpay = || {
        let url = format!("{}/api/ipg/token", sb.base_url_for(SandboxGateway::CanPay));
        let body = json!({"merchant": CANPAY_MERCHANT, "amount": 10000,
                          "callback_url": SHOP, "invoice_id": "same-1"});
        async move { text(client().post(url).json(&body).send().await.unwrap()).await }
    };
    assert_eq!(
        canpay().await.0,
        200,
        "the id NovinPal saw is new to CanPay"
    );
    assert_eq!(
        canpay().await,
        canpay_error(
            422,
            "validation",
            1,
            "The invoice id has already been taken."
        )
    );
    let gardeshpay = || {
        let url = format!(
            "{}/provider/payment/getToken",
            sb.base_url_for(SandboxGateway::GardeshPay)
        );
        let body = json!({"token": "mt", "amount": 1000, "invoiceNumber": "same-1",
                          "invoiceDate": "2026-01-02T03:04:05", "callback": SHOP});
        async move { text(client().post(url).json(&body).send().await.unwrap()).await }
    };
    assert_eq!(gardeshpay().await.0, 200);
    assert_eq!(
        gardeshpay().await,
        (
            422,
            r#"{"success":false,"code":1,"message":"اطلاعات ارسالی معتبر نیست.","errors":["invoiceNumber has been used before"],"sandbox_note":"invented code: the document gives none"}"#
                .to_owned()
        )
    );
}
