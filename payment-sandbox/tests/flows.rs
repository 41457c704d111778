//! Whole payment flows over real HTTP, one per gateway, with the documented bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{act, client, counts, field, field_names, sandbox, text};
use payment_sandbox::{
    CANPAY_MERCHANT, GardeshPayAmountUnit, IDPAY_API_KEY, INOPAL_GATEWAY_ID, IdPayApi,
    NOVINPAL_API_KEY, Sandbox, SandboxConfig, SandboxGateway, ZARINPAL_MERCHANT_ID, ZIBAL_MERCHANT,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SHOP: &str = "http://localhost:3000/pay/callback";

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn idpay_whole_flow() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::IdPay);
    let http = client();

    let (status, body) = text(
        http.post(format!("{base}/v1.1/payment"))
            .header("X-API-KEY", IDPAY_API_KEY)
            .header("X-SANDBOX", "true")
            .json(
                &json!({"order_id": "101", "amount": 25000, "phone": "09382198592",
                          "desc": "خرید", "callback": SHOP}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    let link = format!("{}/idpay/p/ws-sandbox/{id}", sb.base_url);
    assert_eq!(body, format!(r#"{{"id":"{id}","link":"{link}"}}"#));
    assert!(
        sb.handle
            .transaction(SandboxGateway::IdPay, &id)
            .unwrap()
            .sandbox_header
    );

    let (status, page) = text(http.get(&link).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("dir=\"rtl\""));
    assert!(page.contains(">101<"), "{page}");
    assert!(page.contains("25000"), "{page}");
    assert!(page.contains("value=\"wrong_card\""));

    let before = sb.handle.now();
    let (status, cb) = act(&sb, SandboxGateway::IdPay, &id, "pay").await;
    assert_eq!(status, 200);
    assert_eq!(cb["method"], "POST");
    assert_eq!(cb["url"], SHOP);
    assert_eq!(
        field_names(&cb),
        names(&[
            "status", "track_id", "id", "order_id", "amount", "card_no", "date"
        ])
    );
    assert_eq!(field(&cb, "status"), "10");
    assert_eq!(field(&cb, "id"), id);
    assert_eq!(field(&cb, "order_id"), "101");
    assert_eq!(field(&cb, "amount"), "25000");
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let card = txn.card_number.clone().unwrap();
    let masked = format!("{}******{}", &card[..6], &card[12..]);
    assert_eq!(field(&cb, "card_no"), masked);
    let track_id = txn.reference.clone().unwrap();
    assert_eq!(field(&cb, "track_id"), track_id);
    let date: i64 = field(&cb, "date").parse().unwrap();
    assert!(date >= before && date <= sb.handle.now());

    let verify = || {
        http.post(format!("{base}/v1.1/payment/verify"))
            .header("X-API-KEY", IDPAY_API_KEY)
            .json(&json!({"id": id, "order_id": "101"}))
            .send()
    };
    let (status, body) = text(verify().await.unwrap()).await;
    assert_eq!(status, 200);
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let hashed: String = Sha256::digest(card.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let expected = |status: &str| {
        format!(
            r#"{{"status":"{status}","track_id":"{track_id}","id":"{id}","order_id":"101","amount":"25000","date":"{}","payment":{{"track_id":"{}","amount":"25000","card_no":"{masked}","hashed_card_no":"{hashed}","date":"{}"}},"verify":{{"date":"{}"}}}}"#,
            txn.created_at,
            txn.bank_reference.clone().unwrap(),
            txn.paid_at.unwrap(),
            txn.verified_at.unwrap(),
        )
    };
    assert_eq!(body, expected("100"));

    let (status, body) = text(verify().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, expected("101"));

    // v1.1 inquiry reports the verified payment; v1 inquiry says "100" with strings.
    let (status, body) = text(
        http.post(format!("{base}/v1.1/payment/inquiry"))
            .header("X-API-KEY", IDPAY_API_KEY)
            .json(&json!({"id": id, "order_id": "101"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, expected("100")));

    assert_eq!(counts(&sb, &id).await, (2, 1, 1, "verified".to_owned()));
}

#[tokio::test]
async fn idpay_v1_inquiry_confirms_and_counts() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::IdPay);
    let http = client();
    let created: Value = http
        .post(format!("{base}/v1/payment"))
        .header("X-API-KEY", IDPAY_API_KEY)
        .json(&json!({"order_id": 7, "amount": "10000", "callback": SHOP}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let inquiry = || {
        http.post(format!("{base}/v1/payment/inquiry"))
            .header("X-API-KEY", IDPAY_API_KEY)
            .json(&json!({"id": id, "order_id": "7"}))
            .send()
    };
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let track = txn.reference.clone().unwrap();
    let (status, body) = text(inquiry().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            r#"{{"status":"1","track_id":"{track}","id":"{id}","order_id":"7","amount":"10000","card_no":"","date":"{}"}}"#,
            txn.created_at
        )
    );
    act(&sb, SandboxGateway::IdPay, &id, "pay").await;
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let card = txn.card_number.unwrap();
    let (status, body) = text(inquiry().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            r#"{{"status":"100","track_id":"{track}","id":"{id}","order_id":"7","amount":"10000","card_no":"{}******{}","date":"{}"}}"#,
            &card[..6],
            &card[12..],
            txn.paid_at.unwrap()
        )
    );
    assert_eq!(counts(&sb, &id).await, (2, 1, 0, "verified".to_owned()));
}

#[tokio::test]
async fn idpay_cancel_never_verifies_and_html_callback_posts_a_form() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::IdPay);
    let http = client();
    let created: Value = http
        .post(format!("{base}/v1.1/payment"))
        .header("X-API-KEY", IDPAY_API_KEY)
        .json(&json!({"order_id": "c-1", "amount": 50000, "callback": SHOP}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // A browser (no JSON accept) gets an auto-submitting POST form.
    let (status, page) = text(
        http.post(format!("{base}/_sandbox/act/{id}"))
            .form(&[("action", "cancel")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("method=\"post\" action=\"{SHOP}\"")),
        "{page}"
    );
    assert!(page.contains("<input type=\"hidden\" name=\"status\" value=\"7\">"));
    assert!(page.contains(&format!(
        "<input type=\"hidden\" name=\"id\" value=\"{id}\">"
    )));
    assert!(page.contains("<input type=\"hidden\" name=\"card_no\" value=\"\">"));
    assert!(page.contains(".submit()"));
    assert!(page.contains("<button type=\"submit\""));

    // Acting twice is refused.
    let (status, err) = act(&sb, SandboxGateway::IdPay, &id, "pay").await;
    assert_eq!(status, 409);
    assert_eq!(err["error"], "already_acted");

    for _ in 0..2 {
        let (status, body) = text(
            http.post(format!("{base}/v1.1/payment/verify"))
                .header("X-API-KEY", IDPAY_API_KEY)
                .json(&json!({"id": id, "order_id": "c-1"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 405);
        assert_eq!(
            body,
            r#"{"error_code":53,"error_message":"تایید پرداخت امکان پذیر نیست."}"#
        );
    }
    assert_eq!(counts(&sb, &id).await, (2, 0, 0, "cancelled".to_owned()));
}

#[tokio::test]
async fn idpay_bank_failure_callback_status_2() {
    let sb = sandbox().await;
    let created: Value = client()
        .post(format!(
            "{}/v1/payment",
            sb.base_url_for(SandboxGateway::IdPay)
        ))
        .header("X-API-KEY", IDPAY_API_KEY)
        .json(&json!({"order_id": "f-1", "amount": 50000, "callback": SHOP}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let (_, cb) = act(&sb, SandboxGateway::IdPay, id, "bank_fail").await;
    assert_eq!(field(&cb, "status"), "2");
}

/// Creates an IDPay payment on `version`'s path (`"v1"` or `"v1.1"`) and returns its id.
async fn idpay_create(
    sb: &payment_sandbox::RunningSandbox,
    version: &str,
    order_id: &str,
) -> String {
    let created: Value = client()
        .post(format!(
            "{}/{version}/payment",
            sb.base_url_for(SandboxGateway::IdPay)
        ))
        .header("X-API-KEY", IDPAY_API_KEY)
        .json(&json!({"order_id": order_id, "amount": 20000, "callback": SHOP}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// Posts `{id, order_id}` to an IDPay path under `/idpay` and returns the status and body.
async fn idpay_ask(
    sb: &payment_sandbox::RunningSandbox,
    path: &str,
    id: &str,
    order_id: &str,
) -> (u16, Value) {
    let res = client()
        .post(format!("{}{path}", sb.base_url_for(SandboxGateway::IdPay)))
        .header("X-API-KEY", IDPAY_API_KEY)
        .json(&json!({"id": id, "order_id": order_id}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// The document's v1: the callback and the inquiry speak only its statuses (1 not paid,
/// 2 failed, 100 confirmed), never v1.1's (10, 7, 101).
#[tokio::test]
async fn idpay_v1_answers_with_the_documents_statuses() {
    let sb = sandbox().await;
    let inquiry = "/v1/payment/inquiry";

    // Paid: the callback says 100, and so does every inquiry (v1 has no "verified before").
    let id = idpay_create(&sb, "v1", "v1-paid").await;
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    assert_eq!(txn.idpay_version, Some(IdPayApi::V1));
    let (status, body) = idpay_ask(&sb, inquiry, &id, "v1-paid").await;
    assert_eq!((status, body["status"].clone()), (200, json!("1")));
    let (_, cb) = act(&sb, SandboxGateway::IdPay, &id, "pay").await;
    assert_eq!(cb["method"], "POST");
    assert_eq!(field(&cb, "status"), "100");
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let card = txn.card_number.clone().unwrap();
    let expected = json!({
        "status": "100",
        "track_id": txn.reference.clone().unwrap(),
        "id": id,
        "order_id": "v1-paid",
        "amount": "20000",
        "card_no": format!("{}******{}", &card[..6], &card[12..]),
        "date": txn.paid_at.unwrap().to_string(),
    });
    for _ in 0..2 {
        assert_eq!(
            idpay_ask(&sb, inquiry, &id, "v1-paid").await,
            (200, expected.clone())
        );
    }
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let seen: Vec<_> = txn
        .idpay_answers
        .iter()
        .map(|a| {
            (
                a.path.as_str(),
                a.http_status,
                a.status.as_deref(),
                a.error_code,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/idpay/v1/payment/inquiry", 200, Some("1"), None),
            ("/idpay/v1/payment/inquiry", 200, Some("100"), None),
            ("/idpay/v1/payment/inquiry", 200, Some("100"), None),
        ]
    );
    assert_eq!(counts(&sb, &id).await, (3, 2, 0, "verified".to_owned()));

    // Cancelled and failed at the bank: 2 in the callback and in the inquiry.
    for (order_id, action) in [("v1-cancel", "cancel"), ("v1-fail", "bank_fail")] {
        let id = idpay_create(&sb, "v1", order_id).await;
        let (_, cb) = act(&sb, SandboxGateway::IdPay, &id, action).await;
        assert_eq!(field(&cb, "status"), "2", "{action}");
        let (status, body) = idpay_ask(&sb, inquiry, &id, order_id).await;
        assert_eq!(
            (status, body["status"].clone()),
            (200, json!("2")),
            "{action}"
        );
        assert_eq!(counts(&sb, &id).await.1, 0, "{action}: never confirmed");
    }

    // v1's refusals are the document's codes; there is no v1 verify path.
    assert_eq!(
        idpay_ask(&sb, inquiry, "unknown", "v1-paid").await,
        (
            400,
            json!({"error_code": 52, "error_message": "استعلام نتیجه ای نداشت."})
        )
    );
    let (status, _) = text(
        client()
            .post(format!(
                "{}/v1/payment/verify",
                sb.base_url_for(SandboxGateway::IdPay)
            ))
            .header("X-API-KEY", IDPAY_API_KEY)
            .json(&json!({"id": id, "order_id": "v1-paid"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

/// v1.1: the callback says 10 (paid, awaiting verify) or 7 (cancelled), verify 100 then
/// 101, inquiry 1, 10, 7, 2 or 100; refusals 53 and 54.
#[tokio::test]
async fn idpay_v1_1_answers_with_its_own_statuses() {
    let sb = sandbox().await;
    let (verify, inquiry) = ("/v1.1/payment/verify", "/v1.1/payment/inquiry");
    let status_of = |answer: (u16, Value)| (answer.0, answer.1["status"].clone());

    let id = idpay_create(&sb, "v1.1", "v11-paid").await;
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    assert_eq!(txn.idpay_version, Some(IdPayApi::V1_1));
    assert_eq!(
        status_of(idpay_ask(&sb, inquiry, &id, "v11-paid").await),
        (200, json!("1"))
    );
    assert_eq!(
        idpay_ask(&sb, verify, &id, "v11-paid").await,
        (
            405,
            json!({"error_code": 53, "error_message": "تایید پرداخت امکان پذیر نیست."})
        )
    );
    let (_, cb) = act(&sb, SandboxGateway::IdPay, &id, "pay").await;
    assert_eq!(field(&cb, "status"), "10");
    assert_eq!(
        status_of(idpay_ask(&sb, inquiry, &id, "v11-paid").await),
        (200, json!("10"))
    );
    assert_eq!(
        status_of(idpay_ask(&sb, verify, &id, "v11-paid").await),
        (200, json!("100"))
    );
    assert_eq!(
        status_of(idpay_ask(&sb, verify, &id, "v11-paid").await),
        (200, json!("101"))
    );
    assert_eq!(
        status_of(idpay_ask(&sb, inquiry, &id, "v11-paid").await),
        (200, json!("100"))
    );
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    let seen: Vec<_> = txn
        .idpay_answers
        .iter()
        .map(|a| {
            (
                a.path.as_str(),
                a.http_status,
                a.status.as_deref(),
                a.error_code,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/idpay/v1.1/payment/inquiry", 200, Some("1"), None),
            ("/idpay/v1.1/payment/verify", 405, None, Some(53)),
            ("/idpay/v1.1/payment/inquiry", 200, Some("10"), None),
            ("/idpay/v1.1/payment/verify", 200, Some("100"), None),
            ("/idpay/v1.1/payment/verify", 200, Some("101"), None),
            ("/idpay/v1.1/payment/inquiry", 200, Some("100"), None),
        ]
    );

    for (order_id, action, status) in [
        ("v11-cancel", "cancel", "7"),
        ("v11-fail", "bank_fail", "2"),
    ] {
        let id = idpay_create(&sb, "v1.1", order_id).await;
        let (_, cb) = act(&sb, SandboxGateway::IdPay, &id, action).await;
        assert_eq!(field(&cb, "status"), status, "{action}");
        assert_eq!(
            status_of(idpay_ask(&sb, inquiry, &id, order_id).await),
            (200, json!(status)),
            "{action}"
        );
    }

    // Verified too late: 54, recorded like every answer.
    let id = idpay_create(&sb, "v1.1", "v11-late").await;
    act(&sb, SandboxGateway::IdPay, &id, "pay").await;
    sb.handle
        .advance_clock(std::time::Duration::from_secs(11 * 60));
    assert_eq!(
        idpay_ask(&sb, verify, &id, "v11-late").await,
        (
            405,
            json!({"error_code": 54, "error_message": "مدت زمان تایید پرداخت سپری شده است."})
        )
    );
    let txn = sb.handle.transaction(SandboxGateway::IdPay, &id).unwrap();
    assert_eq!(txn.idpay_answers.last().unwrap().error_code, Some(54));
}

async fn novinpal_create(sb: &payment_sandbox::RunningSandbox, form: &[(&str, &str)]) -> String {
    let created: Value = client()
        .post(format!(
            "{}/invoice/request",
            sb.base_url_for(SandboxGateway::NovinPal)
        ))
        .form(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["refId"].as_str().expect("refId").to_owned()
}

async fn novinpal_call(
    sb: &payment_sandbox::RunningSandbox,
    call: &str,
    ref_id: &str,
) -> (u16, String) {
    text(
        client()
            .post(format!(
                "{}/invoice/{call}",
                sb.base_url_for(SandboxGateway::NovinPal)
            ))
            .form(&[("api_key", NOVINPAL_API_KEY), ("ref_id", ref_id)])
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn novinpal_whole_flow() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::NovinPal);
    let http = client();
    let (status, body) = text(
        http.post(format!("{base}/invoice/request"))
            .form(&[
                ("api_key", NOVINPAL_API_KEY),
                ("amount", "120000"),
                ("return_url", SHOP),
                ("order_id", "NP-88999"),
                ("description", "Sample description"),
                ("card_number", "6104337812346047"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let ref_id = serde_json::from_str::<Value>(&body).unwrap()["refId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(ref_id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(body, format!(r#"{{"refId":"{ref_id}","status":1}}"#));

    let (status, page) = text(
        http.get(format!("{base}/invoice/start/{ref_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(">NP-88999<") && page.contains("120000"),
        "{page}"
    );

    // Awaiting payment: status 0 without errorCode.
    assert_eq!(
        novinpal_call(&sb, "verify", &ref_id).await,
        (
            200,
            format!(r#"{{"status":0,"refId":"{ref_id}","amount":120000,"verifiedBefore":false}}"#)
        )
    );

    // A browser gets a 303 to the callback.
    let res = http
        .post(format!("{base}/_sandbox/act/{ref_id}"))
        .form(&[("action", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let expected_url =
        format!("{SHOP}?refId={ref_id}&success=1&code=100&invoiceNumber=NP-88999&amount=120000");
    assert_eq!(res.headers()["location"].to_str().unwrap(), expected_url);
    let txn = sb
        .handle
        .transaction(SandboxGateway::NovinPal, &ref_id)
        .unwrap();
    assert_eq!(txn.card_number.as_deref(), Some("6104337812346047"));

    let paid_body = |before: bool| {
        format!(
            r#"{{"paidAt":"{}","cardNumber":"6104-33**-****-6047","status":1,"amount":120000,"refNumber":"{}","refId":"{ref_id}","description":"Sample description","orderId":"NP-88999","verifiedBefore":{before}}}"#,
            iran_time(txn.paid_at.unwrap()),
            txn.bank_reference.clone().unwrap()
        )
    };
    assert_eq!(
        novinpal_call(&sb, "verify", &ref_id).await,
        (200, paid_body(false))
    );
    assert_eq!(
        novinpal_call(&sb, "verify", &ref_id).await,
        (200, paid_body(true))
    );
    assert_eq!(counts(&sb, &ref_id).await, (3, 1, 1, "verified".to_owned()));

    // Reverse within 120 minutes: the verify body, then the payment is reversed.
    sb.handle
        .advance_clock(std::time::Duration::from_secs(119 * 60));
    assert_eq!(
        novinpal_call(&sb, "reverse", &ref_id).await,
        (200, paid_body(true))
    );
    assert_eq!(counts(&sb, &ref_id).await.3, "reversed");
    assert_eq!(
        novinpal_call(&sb, "reverse", &ref_id).await,
        (
            200,
            r#"{"status":0,"errorCode":109,"errorDescription":"transaction already reversed","sandbox_note":"invented code: the document gives none for a refused reverse; 109 (transaction failed) is borrowed from its table"}"#
                .to_owned()
        )
    );
}

/// `YYYY-MM-DD HH:MM:SS` at UTC+03:30, computed independently of the sandbox.
fn iran_time(unix: i64) -> String {
    let t = unix + 3 * 3600 + 1800;
    let (days, secs) = (t.div_euclid(86400), t.rem_euclid(86400));
    // Civil-from-days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[tokio::test]
async fn novinpal_cancel_bank_failure_and_wrong_card() {
    let sb = sandbox().await;
    let form = |order: &'static str| {
        [
            ("api_key", NOVINPAL_API_KEY),
            ("amount", "10000"),
            ("return_url", "http://localhost:3000/cb?x=1"),
            ("order_id", order),
        ]
    };
    for (order, action, code, verify) in [
        ("o-cancel", "cancel", "109", None),
        ("o-bank", "bank_fail", "104", None),
        (
            "o-card",
            "wrong_card",
            "123",
            Some(r#"{"status":0,"errorCode":123,"errorDescription":"card mismatch"}"#),
        ),
    ] {
        let ref_id = novinpal_create(&sb, &form(order)).await;
        let (status, cb) = act(&sb, SandboxGateway::NovinPal, &ref_id, action).await;
        assert_eq!(status, 200);
        assert_eq!(cb["method"], "GET");
        let url = format!(
            "http://localhost:3000/cb?x=1&refId={ref_id}&success=0&code={code}&invoiceNumber={order}&amount=10000"
        );
        assert_eq!(cb["url"], url.as_str());
        assert_eq!(
            common::fields(&cb),
            vec![
                ("refId".to_owned(), ref_id.clone()),
                ("success".to_owned(), "0".to_owned()),
                ("code".to_owned(), code.to_owned()),
                ("invoiceNumber".to_owned(), order.to_owned()),
                ("amount".to_owned(), "10000".to_owned()),
            ]
        );
        let expected = verify.map(str::to_owned).unwrap_or_else(|| {
            format!(r#"{{"status":-1,"refId":"{ref_id}","amount":10000,"verifiedBefore":false}}"#)
        });
        for _ in 0..2 {
            assert_eq!(
                novinpal_call(&sb, "verify", &ref_id).await,
                (200, expected.clone())
            );
        }
        assert_eq!(counts(&sb, &ref_id).await.1, 0);
        assert_eq!(
            novinpal_call(&sb, "reverse", &ref_id).await,
            (
                200,
                r#"{"status":0,"errorCode":109,"errorDescription":"transaction is not verified","sandbox_note":"invented code: the document gives none for a refused reverse; 109 (transaction failed) is borrowed from its table"}"#
                    .to_owned()
            )
        );
    }
}

#[tokio::test]
async fn novinpal_reverse_after_120_minutes_fails() {
    let sb = sandbox().await;
    let ref_id = novinpal_create(
        &sb,
        &[
            ("api_key", NOVINPAL_API_KEY),
            ("amount", "10000"),
            ("return_url", SHOP),
            ("order_id", "late"),
        ],
    )
    .await;
    act(&sb, SandboxGateway::NovinPal, &ref_id, "pay").await;
    assert_eq!(novinpal_call(&sb, "verify", &ref_id).await.0, 200);
    sb.handle
        .advance_clock(std::time::Duration::from_secs(121 * 60));
    assert_eq!(
        novinpal_call(&sb, "reverse", &ref_id).await,
        (
            200,
            r#"{"status":0,"errorCode":109,"errorDescription":"reverse window has passed","sandbox_note":"invented code: the document gives none for a refused reverse; 109 (transaction failed) is borrowed from its table"}"#
                .to_owned()
        )
    );
    assert_eq!(counts(&sb, &ref_id).await.3, "verified");
}

#[tokio::test]
async fn inopal_whole_flow_with_fee() {
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().inopal_fee(500))
        .await
        .unwrap();
    let base = sb.base_url_for(SandboxGateway::Inopal);
    let http = client();
    let (status, body) = text(
        http.post(format!("{base}/api/pardakht/create"))
            .bearer_auth(INOPAL_GATEWAY_ID)
            .json(&json!({"amount": 50000, "order_id": "12356", "callback": SHOP}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let data = serde_json::from_str::<Value>(&body).unwrap()["data"].clone();
    let token = data["token"].as_str().unwrap().to_owned();
    let ref_num = data["ref_num"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        format!(
            r#"{{"status":1,"message":"Ok","data":{{"token":"{token}","ref_num":"{ref_num}","order_id":"12356","payment_amount":50500}}}}"#
        )
    );

    // The payment page is reached by a POST form with `token`.
    let (status, page) = text(
        http.post(format!("{base}/api/pardakht/payment"))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains(">12356<") && page.contains("50500"), "{page}");

    let (_, cb) = act(&sb, SandboxGateway::Inopal, &token, "pay").await;
    assert_eq!(cb["method"], "POST");
    assert_eq!(cb["url"], SHOP);
    assert_eq!(
        field_names(&cb),
        names(&[
            "status",
            "order_id",
            "ref_num",
            "card_number",
            "tracking_code"
        ])
    );
    assert_eq!(field(&cb, "status"), "1");
    assert_eq!(field(&cb, "order_id"), "12356");
    assert_eq!(field(&cb, "ref_num"), ref_num);
    let txn = sb
        .handle
        .transaction(SandboxGateway::Inopal, &token)
        .unwrap();
    assert_eq!(field(&cb, "tracking_code"), txn.bank_reference.unwrap());

    let verify = |amount: u64| {
        http.post(format!("{base}/api/pardakht/verify"))
            .bearer_auth(INOPAL_GATEWAY_ID)
            .form(&[("ref_num", ref_num.clone()), ("amount", amount.to_string())])
            .send()
    };
    // The amount is the original one, not payment_amount.
    assert_eq!(
        text(verify(50500).await.unwrap()).await,
        (
            200,
            r#"{"status":-6,"message":"incorrectAmount","data":[]}"#.to_owned()
        )
    );
    assert_eq!(
        text(verify(50000).await.unwrap()).await,
        (
            200,
            format!(
                r#"{{"status":1,"message":"Ok","data":{{"ref_num":"{ref_num}","price":50000}}}}"#
            )
        )
    );
    assert_eq!(
        text(verify(50000).await.unwrap()).await,
        (
            200,
            r#"{"status":-16,"message":"retryVerification","data":[]}"#.to_owned()
        )
    );
    assert_eq!(counts(&sb, &token).await, (3, 1, 1, "verified".to_owned()));
}

#[tokio::test]
async fn inopal_cancel_never_verifies() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Inopal);
    let http = client();
    let created: Value = http
        .post(format!("{base}/api/pardakht/create"))
        .bearer_auth(INOPAL_GATEWAY_ID)
        .form(&[("amount", "5000"), ("order_id", "A1"), ("callback", SHOP)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["data"]["token"].as_str().unwrap().to_owned();
    let ref_num = created["data"]["ref_num"].as_str().unwrap().to_owned();
    let (_, cb) = act(&sb, SandboxGateway::Inopal, &token, "cancel").await;
    assert_eq!(
        common::fields(&cb),
        vec![
            ("status".to_owned(), "-12".to_owned()),
            ("order_id".to_owned(), "A1".to_owned()),
            ("ref_num".to_owned(), ref_num.clone()),
        ]
    );
    let (status, body) = text(
        http.post(format!("{base}/api/pardakht/verify"))
            .bearer_auth(INOPAL_GATEWAY_ID)
            .json(&json!({"ref_num": ref_num, "amount": 5000}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"status":-12,"message":"paymentFailed","data":[]}"#)
    );
}

async fn canpay_create(sb: &payment_sandbox::RunningSandbox, invoice: &str) -> (u16, String) {
    text(
        client()
            .post(format!(
                "{}/api/ipg/token",
                sb.base_url_for(SandboxGateway::CanPay)
            ))
            .json(&json!({"merchant": CANPAY_MERCHANT, "amount": 10000,
                          "callback_url": SHOP, "invoice_id": invoice}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn canpay_verify(sb: &payment_sandbox::RunningSandbox, token: &str) -> (u16, String) {
    text(
        client()
            .post(format!(
                "{}/api/ipg/verify",
                sb.base_url_for(SandboxGateway::CanPay)
            ))
            .json(&json!({"merchant": CANPAY_MERCHANT, "token": token}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn canpay_whole_flow_success_every_time() {
    let sb = sandbox().await;
    let (status, body) = canpay_create(&sb, "47").await;
    assert_eq!(status, 200);
    let token = serde_json::from_str::<Value>(&body).unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 30);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    );
    let url = format!("{}/canpay/ipg/{token}", sb.base_url);
    assert_eq!(
        body,
        format!(r#"{{"status":true,"data":{{"url":"{url}","token":"{token}"}}}}"#)
    );
    let (status, page) = text(client().get(&url).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains(">47<") && page.contains("10000"));

    let (_, cb) = act(&sb, SandboxGateway::CanPay, &token, "pay").await;
    assert_eq!(cb["method"], "POST");
    assert_eq!(
        common::fields(&cb),
        vec![
            ("success".to_owned(), "1".to_owned()),
            ("token".to_owned(), token.clone()),
            ("amount".to_owned(), "10000".to_owned()),
            ("invoice_id".to_owned(), "47".to_owned()),
        ]
    );
    let txn = sb
        .handle
        .transaction(SandboxGateway::CanPay, &token)
        .unwrap();
    let card = txn.card_number.unwrap();
    let expected = format!(
        r#"{{"status":true,"data":{{"card":"{}-{}**-****-{}","reference":"{}"}}}}"#,
        &card[..4],
        &card[4..6],
        &card[12..],
        txn.bank_reference.unwrap()
    );
    // The document's warning: success again on every repeat.
    for _ in 0..3 {
        assert_eq!(canpay_verify(&sb, &token).await, (200, expected.clone()));
    }
    assert_eq!(counts(&sb, &token).await, (3, 3, 0, "verified".to_owned()));
}

#[tokio::test]
async fn canpay_cancel_never_verifies() {
    let sb = sandbox().await;
    let (_, body) = canpay_create(&sb, "48").await;
    let token = serde_json::from_str::<Value>(&body).unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let not_paid = r#"{"status":false,"error":"not_paid","code":4,"message":"Transaction is not paid.","description":"","sandbox_note":"invented code: the document gives none"}"#;
    assert_eq!(canpay_verify(&sb, &token).await, (400, not_paid.to_owned()));
    let (_, cb) = act(&sb, SandboxGateway::CanPay, &token, "cancel").await;
    assert_eq!(field(&cb, "success"), "0");
    assert_eq!(canpay_verify(&sb, &token).await, (400, not_paid.to_owned()));
    assert_eq!(counts(&sb, &token).await, (2, 0, 0, "cancelled".to_owned()));
}

async fn gardeshpay_create(base: &str, invoice: &str) -> (u16, String) {
    text(
        client()
            .post(format!("{base}/provider/payment/getToken"))
            .json(&json!({"amount": 30000, "invoiceNumber": invoice,
                          "invoiceDate": "2026-11-23T10:20:30", "callback": SHOP}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn gardeshpay_whole_flow_both_prefixes() {
    let sb = sandbox().await;
    for (prefix, invoice) in [("/gardeshpay", "inv-1"), ("/gardeshpay/v1", "inv-2")] {
        let base = format!("{}{prefix}", sb.base_url);
        let (status, body) = gardeshpay_create(&base, invoice).await;
        assert_eq!(status, 200);
        let token = serde_json::from_str::<Value>(&body).unwrap()["data"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let redirect = format!("{base}/provider/payment/redirect");
        assert_eq!(
            body,
            format!(
                r#"{{"success":true,"data":{{"url":"{redirect}","token":"{token}"}},"message":"عملیات با موفقیت انجام شد."}}"#
            )
        );
        let (status, page) = text(
            client()
                .get(format!("{redirect}/{token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        assert!(page.contains(&format!(">{invoice}<")) && page.contains("30000"));

        let (_, cb) = act(&sb, SandboxGateway::GardeshPay, &token, "pay").await;
        assert_eq!(cb["method"], "GET");
        let tracking = field(&cb, "trackingNumber");
        assert_ne!(tracking, token);
        assert_eq!(
            cb["url"],
            format!("{SHOP}?trackingNumber={tracking}&invoiceNumber={invoice}").as_str()
        );
        assert_eq!(
            field_names(&cb),
            names(&["trackingNumber", "invoiceNumber"])
        );

        let txn = sb
            .handle
            .transaction(SandboxGateway::GardeshPay, &token)
            .unwrap();
        let card = txn.card_number.unwrap();
        let expected = |before: bool| {
            format!(
                r#"{{"success":true,"data":{{"cardNumber":"{}******{}","refNumber":"{}","message":"پرداخت با موفقیت انجام شد.","invoiceNumber":"{invoice}","invoiceDate":"2026-11-23T10:20:30"}},"amount":30000,"verifiedBefore":{before},"message":"عملیات با موفقیت انجام شد."}}"#,
                &card[..6],
                &card[12..],
                txn.bank_reference.clone().unwrap()
            )
        };
        for before in [false, true] {
            let (status, body) = text(
                client()
                    .post(format!("{base}/provider/payment/verify"))
                    .json(&json!({"trackingNumber": tracking}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!((status, body), (200, expected(before)));
        }
        assert_eq!(counts(&sb, &token).await, (2, 1, 1, "verified".to_owned()));
    }
}

/// How a GardeshPay request is sent: its body encoding (the document names none) and where
/// the merchant token goes (the document names no credential).
#[derive(Clone, Copy, Debug)]
struct GardeshPayForm {
    form: bool,
    token_in_header: bool,
}

impl GardeshPayForm {
    const ALL: [GardeshPayForm; 4] = [
        GardeshPayForm {
            form: false,
            token_in_header: false,
        },
        GardeshPayForm {
            form: true,
            token_in_header: false,
        },
        GardeshPayForm {
            form: false,
            token_in_header: true,
        },
        GardeshPayForm {
            form: true,
            token_in_header: true,
        },
    ];

    /// POSTs `fields` to `url`, with `token` where this form puts it.
    async fn post(self, url: String, fields: &[(&str, &str)], token: &str) -> (u16, String) {
        let mut fields = fields.to_vec();
        let mut request = client().post(url);
        if self.token_in_header {
            request = request.bearer_auth(token);
        } else {
            fields.push(("token", token));
        }
        request = if self.form {
            request.form(&fields)
        } else {
            let map: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(k, v)| {
                    let v = match *k {
                        "amount" => json!(v.parse::<u64>().unwrap()),
                        _ => json!(v),
                    };
                    ((*k).to_owned(), v)
                })
                .collect();
            request.json(&map)
        };
        text(request.send().await.unwrap()).await
    }
}

#[tokio::test]
async fn gardeshpay_takes_json_or_form_and_the_token_in_the_body_or_a_bearer_header() {
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().gardeshpay_token(Some("mt")))
        .await
        .unwrap();
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    for (i, how) in GardeshPayForm::ALL.into_iter().enumerate() {
        let invoice = format!("inv-f{i}");
        let (status, body) = how
            .post(
                format!("{base}/provider/payment/getToken"),
                &[
                    ("amount", "30000"),
                    ("invoiceNumber", &invoice),
                    ("invoiceDate", "2026-11-23T10:20:30"),
                    ("mobile", "09121234567"),
                    ("callback", SHOP),
                ],
                "mt",
            )
            .await;
        assert_eq!(status, 200, "{how:?}: {body}");
        let token = serde_json::from_str::<Value>(&body).unwrap()["data"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let txn = sb
            .handle
            .transaction(SandboxGateway::GardeshPay, &token)
            .unwrap();
        assert_eq!(txn.order_id, invoice, "{how:?}");
        assert_eq!((txn.amount, txn.payment_amount), (30000, 30000), "{how:?}");
        assert_eq!(txn.mobile.as_deref(), Some("09121234567"), "{how:?}");

        let (_, cb) = act(&sb, SandboxGateway::GardeshPay, &token, "pay").await;
        let tracking = field(&cb, "trackingNumber");
        let verify_url = format!("{base}/provider/payment/verify");
        let (status, body) = how
            .post(verify_url.clone(), &[("trackingNumber", &tracking)], "mt")
            .await;
        assert_eq!(status, 200, "{how:?}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["amount"], 30000, "{how:?}");
        assert_eq!(answer["verifiedBefore"], false, "{how:?}");
        assert_eq!(answer["data"]["invoiceNumber"], invoice.as_str(), "{how:?}");

        // The wrong token is refused wherever it is.
        let (status, _) = how
            .post(verify_url, &[("trackingNumber", &tracking)], "not-mt")
            .await;
        assert_eq!(status, 401, "{how:?}");
        // A refused call never reaches the payment.
        assert_eq!(counts(&sb, &token).await, (1, 1, 0, "verified".to_owned()));
    }
}

#[tokio::test]
async fn gardeshpay_in_toman_records_rial_and_answers_toman() {
    let config = SandboxConfig::default().gardeshpay_amount_unit(GardeshPayAmountUnit::Toman);
    let sb = Sandbox::spawn_on_loopback(config).await.unwrap();
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    // 30,000 toman, in either encoding.
    for (i, how) in GardeshPayForm::ALL.into_iter().enumerate() {
        let invoice = format!("inv-t{i}");
        let (status, body) = how
            .post(
                format!("{base}/provider/payment/getToken"),
                &[
                    ("amount", "30000"),
                    ("invoiceNumber", &invoice),
                    ("invoiceDate", "2026-11-23T10:20:30"),
                    ("callback", SHOP),
                ],
                "unchecked",
            )
            .await;
        assert_eq!(status, 200, "{how:?}: {body}");
        let token = serde_json::from_str::<Value>(&body).unwrap()["data"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let txn = sb
            .handle
            .transaction(SandboxGateway::GardeshPay, &token)
            .unwrap();
        assert_eq!((txn.amount, txn.payment_amount), (300_000, 300_000));
        let (_, page) = text(
            client()
                .get(format!("{base}/provider/payment/redirect/{token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(page.contains("data-rial=\"300000\""), "{page}");

        let (_, cb) = act(&sb, SandboxGateway::GardeshPay, &token, "pay").await;
        let tracking = field(&cb, "trackingNumber");
        let (status, body) = how
            .post(
                format!("{base}/provider/payment/verify"),
                &[("trackingNumber", &tracking)],
                "unchecked",
            )
            .await;
        assert_eq!(status, 200, "{how:?}: {body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["amount"],
            30000
        );
    }
}

#[test]
fn gardeshpay_amount_units_parse_by_name() {
    assert_eq!(GardeshPayAmountUnit::default(), GardeshPayAmountUnit::Rial);
    assert_eq!(
        SandboxConfig::default().gardeshpay_amount_unit,
        GardeshPayAmountUnit::Rial
    );
    for unit in [GardeshPayAmountUnit::Rial, GardeshPayAmountUnit::Toman] {
        assert_eq!(unit.to_string().parse(), Ok(unit));
    }
    assert_eq!("Toman".parse(), Ok(GardeshPayAmountUnit::Toman));
    assert!("dinar".parse::<GardeshPayAmountUnit>().is_err());
}

#[tokio::test]
async fn gardeshpay_cancel_sends_the_same_callback_and_never_verifies() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    let (_, body) = gardeshpay_create(&base, "inv-c").await;
    let token = serde_json::from_str::<Value>(&body).unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = client()
        .post(format!("{base}/_sandbox/act/{token}"))
        .form(&[("action", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let tracking = sb
        .handle
        .transaction(SandboxGateway::GardeshPay, &token)
        .unwrap()
        .reference
        .unwrap();
    assert_eq!(
        location,
        format!("{SHOP}?trackingNumber={tracking}&invoiceNumber=inv-c")
    );
    let (status, body) = text(
        client()
            .post(format!("{base}/provider/payment/verify"))
            .json(&json!({"trackingNumber": tracking}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        r#"{"success":false,"code":4,"message":"پرداخت ناموفق بوده است.","errors":[],"sandbox_note":"invented code: the document gives none"}"#
    );
}

#[tokio::test]
async fn in_process_act_matches_http_and_admin_html_lists_payments() {
    let sb = sandbox().await;
    let ref_id = novinpal_create(
        &sb,
        &[
            ("api_key", NOVINPAL_API_KEY),
            ("amount", "10000"),
            ("return_url", SHOP),
            ("order_id", "lib-1"),
        ],
    )
    .await;
    let cb = sb
        .handle
        .act(
            SandboxGateway::NovinPal,
            &ref_id,
            payment_sandbox::Action::Pay,
        )
        .unwrap();
    assert_eq!(cb.method, payment_sandbox::CallbackMethod::Get);
    assert_eq!(cb.field("success"), Some("1"));
    assert_eq!(
        sb.handle.act(
            SandboxGateway::NovinPal,
            &ref_id,
            payment_sandbox::Action::Pay
        ),
        Err(payment_sandbox::ActError::AlreadyActed(
            payment_sandbox::TxnState::Paid
        ))
    );
    let (status, html) = text(
        client()
            .get(format!("{}/_admin", sb.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains(&ref_id) && html.contains("lib-1") && html.contains("paid"));
}

async fn zarinpal_call(
    sb: &payment_sandbox::RunningSandbox,
    call: &str,
    body: Value,
) -> (u16, String) {
    text(
        client()
            .post(format!(
                "{}/pg/v4/payment/{call}.json",
                sb.base_url_for(SandboxGateway::Zarinpal)
            ))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Creates a Zarinpal payment and returns its authority.
async fn zarinpal_create(sb: &payment_sandbox::RunningSandbox, body: Value) -> String {
    let (status, body) = zarinpal_call(sb, "request", body).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["data"]["authority"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn zarinpal_error(code: i32, message: &str) -> (u16, String) {
    (
        422,
        format!(
            r#"{{"data":[],"errors":{{"code":{code},"message":"{message}","validations":[]}}}}"#
        ),
    )
}

async fn zarinpal_status(sb: &payment_sandbox::RunningSandbox, authority: &str) -> String {
    let (status, body) = zarinpal_call(
        sb,
        "inquiry",
        json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        format!(
            r#"{{"data":{{"code":100,"message":"Success","status":{}}},"errors":[]}}"#,
            answer["data"]["status"]
        )
    );
    answer["data"]["status"].as_str().unwrap().to_owned()
}

async fn zarinpal_unverified(sb: &payment_sandbox::RunningSandbox) -> Value {
    let (status, body) = zarinpal_call(
        sb,
        "unVerified",
        json!({"merchant_id": ZARINPAL_MERCHANT_ID}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["data"]["code"], 100);
    assert_eq!(answer["data"]["message"], "Success");
    assert_eq!(answer["errors"], json!([]));
    answer["data"]["authorities"].clone()
}

#[tokio::test]
async fn zarinpal_whole_flow() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Zarinpal);
    let http = client();
    let (status, body) = zarinpal_call(
        &sb,
        "request",
        json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": 25000, "currency": "IRR",
               "description": "خرید", "callback_url": SHOP,
               "metadata": {"mobile": "09121234567", "email": "buyer@example.com",
                            "order_id": "ZP-1"}}),
    )
    .await;
    assert_eq!(status, 200);
    let authority = serde_json::from_str::<Value>(&body).unwrap()["data"]["authority"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(authority.len(), 36);
    assert!(authority.starts_with(&format!("A{}", "0".repeat(27))));
    assert!(authority[1..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(
        body,
        format!(
            r#"{{"data":{{"code":100,"message":"Success","authority":"{authority}","fee_type":"Merchant","fee":0}},"errors":[]}}"#
        )
    );
    let txn = sb
        .handle
        .transaction(SandboxGateway::Zarinpal, &authority)
        .unwrap();
    assert_eq!(txn.order_id, "ZP-1");
    assert_eq!(txn.mobile.as_deref(), Some("09121234567"));
    assert_eq!(txn.email.as_deref(), Some("buyer@example.com"));
    assert_eq!(txn.currency.as_deref(), Some("IRR"));
    assert_eq!(txn.description.as_deref(), Some("خرید"));

    for path in [
        format!("{base}/pg/StartPay/{authority}"),
        format!("{base}/pg/StartPay/{authority}/ZarinGate"),
    ] {
        let (status, page) = text(http.get(path).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(page.contains(">ZP-1<") && page.contains("25000"), "{page}");
        assert!(page.contains("زرین‌پال"));
    }
    assert_eq!(zarinpal_status(&sb, &authority).await, "IN_BANK");
    let verify = |amount: u64| {
        zarinpal_call(
            &sb,
            "verify",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority, "amount": amount}),
        )
    };
    assert_eq!(
        verify(25000).await,
        zarinpal_error(-51, "Session is not valid, session is not active paid try.")
    );

    // A browser gets a 303 to the callback.
    let res = http
        .post(format!("{base}/_sandbox/act/{authority}"))
        .form(&[("action", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{SHOP}?Authority={authority}&Status=OK")
    );
    assert_eq!(zarinpal_status(&sb, &authority).await, "PAID");
    let txn = sb
        .handle
        .transaction(SandboxGateway::Zarinpal, &authority)
        .unwrap();
    assert_eq!(
        zarinpal_unverified(&sb).await,
        json!([{"authority": authority, "amount": 25000, "callback_url": SHOP,
                "referer": "", "date": iran_time(txn.created_at)}])
    );

    assert_eq!(
        verify(2500).await,
        zarinpal_error(-50, "Session is not valid, amounts values is not the same.")
    );
    let card = txn.card_number.clone().unwrap();
    let hash: String = Sha256::digest(card.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let expected = |code: u32, message: &str| {
        format!(
            r#"{{"data":{{"code":{code},"message":"{message}","card_hash":"{hash}","card_pan":"{}******{}","ref_id":{},"fee_type":"Merchant","fee":0}},"errors":[]}}"#,
            &card[..6],
            &card[12..],
            txn.bank_reference.clone().unwrap()
        )
    };
    assert_eq!(verify(25000).await, (200, expected(100, "Paid")));
    assert_eq!(verify(25000).await, (200, expected(101, "Verified")));
    // A repeat with the wrong amount is still refused.
    assert_eq!(
        verify(25001).await.1,
        zarinpal_error(-50, "Session is not valid, amounts values is not the same.").1
    );
    assert_eq!(zarinpal_status(&sb, &authority).await, "VERIFIED");
    assert_eq!(zarinpal_unverified(&sb).await, json!([]));
    assert_eq!(
        counts(&sb, &authority).await,
        (5, 1, 1, "verified".to_owned())
    );

    // Reverse within 30 minutes of the payment.
    sb.handle
        .advance_clock(std::time::Duration::from_secs(29 * 60));
    let reverse = || {
        zarinpal_call(
            &sb,
            "reverse",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority}),
        )
    };
    assert_eq!(
        reverse().await,
        (
            200,
            r#"{"data":{"code":100,"message":"Reversed"},"errors":[]}"#.to_owned()
        )
    );
    assert_eq!(zarinpal_status(&sb, &authority).await, "REVERSED");
    assert_eq!(
        reverse().await,
        zarinpal_error(-61, "Session is not in success status.")
    );
    assert_eq!(
        verify(25000).await,
        zarinpal_error(-51, "Session is not valid, session is not active paid try.")
    );
    let row = common::admin_row(&sb, &authority).await;
    assert_eq!(row["state"], "reversed");
    assert_eq!(row["reverse_calls"], 2);
    assert_eq!(row["inquiry_calls"], 4);
    assert_eq!(row["buyer_action"], "pay");
}

#[tokio::test]
async fn zarinpal_toman_amount_and_required_card() {
    let sb = sandbox().await;
    let authority = zarinpal_create(
        &sb,
        json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": 1000, "currency": "IRT",
               "description": "d", "callback_url": SHOP,
               "metadata": {"card_pan": "6037991234567890"}}),
    )
    .await;
    let txn = sb
        .handle
        .transaction(SandboxGateway::Zarinpal, &authority)
        .unwrap();
    // Recorded in rial; the page shows rial.
    assert_eq!((txn.amount, txn.payment_amount), (10000, 10000));
    assert_eq!(txn.order_id, "");
    let (_, page) = text(
        client()
            .get(format!(
                "{}/pg/StartPay/{authority}",
                sb.base_url_for(SandboxGateway::Zarinpal)
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.contains("10000") && page.contains("6037991234567890"),
        "{page}"
    );
    let (_, cb) = act(&sb, SandboxGateway::Zarinpal, &authority, "pay").await;
    assert_eq!(cb["method"], "GET");
    assert_eq!(field_names(&cb), names(&["Authority", "Status"]));
    assert_eq!(field(&cb, "Status"), "OK");
    // unVerified and verify speak the request's currency.
    assert_eq!(zarinpal_unverified(&sb).await[0]["amount"], 1000);
    let verify = |amount: u64| {
        zarinpal_call(
            &sb,
            "verify",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority, "amount": amount}),
        )
    };
    assert_eq!(
        verify(10000).await,
        zarinpal_error(-50, "Session is not valid, amounts values is not the same.")
    );
    let (status, body) = verify(1000).await;
    assert_eq!(status, 200);
    let data = serde_json::from_str::<Value>(&body).unwrap()["data"].clone();
    assert_eq!(data["code"], 100);
    assert_eq!(data["card_pan"], "603799******7890");
}

#[tokio::test]
async fn zarinpal_cancel_and_failures_never_verify() {
    let sb = sandbox().await;
    for action in ["cancel", "bank_fail", "wrong_card"] {
        let authority = zarinpal_create(
            &sb,
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": 10000,
                   "description": "d", "callback_url": "http://localhost:3000/cb?x=1"}),
        )
        .await;
        let (status, cb) = act(&sb, SandboxGateway::Zarinpal, &authority, action).await;
        assert_eq!(status, 200);
        assert_eq!(
            cb["url"],
            format!("http://localhost:3000/cb?x=1&Authority={authority}&Status=NOK").as_str()
        );
        for _ in 0..2 {
            assert_eq!(
                zarinpal_call(
                    &sb,
                    "verify",
                    json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority,
                           "amount": 10000}),
                )
                .await,
                zarinpal_error(-51, "Session is not valid, session is not active paid try.")
            );
        }
        assert_eq!(zarinpal_status(&sb, &authority).await, "FAILED");
        assert_eq!(
            zarinpal_call(
                &sb,
                "reverse",
                json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority}),
            )
            .await,
            zarinpal_error(-61, "Session is not in success status.")
        );
        let (calls, successes, repeats, _) = counts(&sb, &authority).await;
        assert_eq!((calls, successes, repeats), (2, 0, 0));
    }
    assert_eq!(zarinpal_unverified(&sb).await, json!([]));
}

#[tokio::test]
async fn zarinpal_unverified_lists_paid_payments_and_reverse_window_is_30_minutes() {
    let sb = sandbox().await;
    let mut authorities = Vec::new();
    for amount in [10000, 20000, 30000] {
        let authority = zarinpal_create(
            &sb,
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": amount,
                   "description": "d", "callback_url": SHOP}),
        )
        .await;
        authorities.push(authority);
    }
    // The first is paid, the second paid and verified, the third never paid.
    for authority in &authorities[..2] {
        sb.handle
            .act(
                SandboxGateway::Zarinpal,
                authority,
                payment_sandbox::Action::Pay,
            )
            .unwrap();
    }
    let (status, _) = zarinpal_call(
        &sb,
        "verify",
        json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authorities[1],
               "amount": 20000}),
    )
    .await;
    assert_eq!(status, 200);
    let listed = zarinpal_unverified(&sb).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["authority"], authorities[0].as_str());
    assert_eq!(listed[0]["amount"], 10000);

    // A paid payment that was never verified cannot be reversed.
    let reverse = |authority: &str| {
        zarinpal_call(
            &sb,
            "reverse",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority}),
        )
    };
    assert_eq!(
        reverse(&authorities[0]).await,
        zarinpal_error(-61, "Session is not in success status.")
    );
    sb.handle
        .advance_clock(std::time::Duration::from_secs(31 * 60));
    assert_eq!(
        reverse(&authorities[1]).await,
        zarinpal_error(-63, "Maximum time for reverse this session is expired.")
    );
    assert_eq!(counts(&sb, &authorities[1]).await.3, "verified");
}

async fn zibal_call(
    sb: &payment_sandbox::RunningSandbox,
    call: &str,
    body: Value,
) -> (u16, String) {
    text(
        client()
            .post(format!(
                "{}/v1/{call}",
                sb.base_url_for(SandboxGateway::Zibal)
            ))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Creates a Zibal payment and returns its trackId.
async fn zibal_create(sb: &payment_sandbox::RunningSandbox, body: Value) -> u64 {
    let (status, body) = zibal_call(sb, "request", body).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["result"], 100, "{body}");
    answer["trackId"].as_u64().unwrap()
}

/// Zibal's time shape: Iran time, `YYYY-MM-DDTHH:MM:SS.000000`.
fn zibal_time(unix: i64) -> String {
    format!("{}.000000", iran_time(unix).replace(' ', "T"))
}

#[tokio::test]
async fn zibal_whole_flow() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Zibal);
    let http = client();
    let (status, body) = zibal_call(
        &sb,
        "request",
        json!({"merchant": ZIBAL_MERCHANT, "amount": 15000, "callbackUrl": SHOP,
               "description": "Hello World!", "orderId": "ZB-1", "mobile": "09121234567",
               "nationalCode": "0012345678"}),
    )
    .await;
    assert_eq!(status, 200);
    let track_id = serde_json::from_str::<Value>(&body).unwrap()["trackId"]
        .as_u64()
        .unwrap();
    assert_eq!(track_id.to_string().len(), 10);
    assert_eq!(
        body,
        format!(r#"{{"trackId":{track_id},"result":100,"message":"success"}}"#)
    );
    let key = track_id.to_string();
    let txn = sb.handle.transaction(SandboxGateway::Zibal, &key).unwrap();
    assert_eq!(txn.order_id, "ZB-1");
    assert_eq!(txn.national_code.as_deref(), Some("0012345678"));
    assert_eq!(txn.mobile.as_deref(), Some("09121234567"));
    let created = zibal_time(txn.created_at);

    for path in [
        format!("{base}/start/{track_id}"),
        format!("{base}/start/{track_id}/direct"),
    ] {
        let (status, page) = text(http.get(path).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(page.contains(">ZB-1<") && page.contains("15000"), "{page}");
        assert!(page.contains("زیبال"));
    }
    let inquiry = || {
        zibal_call(
            &sb,
            "inquiry",
            json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}),
        )
    };
    assert_eq!(
        inquiry().await,
        (
            200,
            format!(
                r#"{{"message":"success","result":100,"refNumber":null,"paidAt":null,"verifiedAt":null,"status":-1,"amount":15000,"orderId":"ZB-1","description":"Hello World!","cardNumber":null,"wage":0,"createdAt":"{created}"}}"#
            )
        )
    );
    // trackId as a number or a string.
    let verify = |track: Value| {
        zibal_call(
            &sb,
            "verify",
            json!({"merchant": ZIBAL_MERCHANT, "trackId": track}),
        )
    };
    assert_eq!(
        verify(json!(track_id)).await,
        (
            200,
            r#"{"result":202,"message":"order not paid or failed","status":-1}"#.to_owned()
        )
    );

    // A browser gets a 303 to the callback.
    let res = http
        .post(format!("{base}/_sandbox/act/{track_id}"))
        .form(&[("action", "pay")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{SHOP}?success=1&trackId={track_id}&orderId=ZB-1&status=2")
    );
    let txn = sb.handle.transaction(SandboxGateway::Zibal, &key).unwrap();
    let card = txn.card_number.clone().unwrap();
    let masked = format!("{}******{}", &card[..6], &card[12..]);
    let reference = txn.bank_reference.clone().unwrap();
    let paid_at = zibal_time(txn.paid_at.unwrap());
    let paid = |status: i32, result: u32, message: &str| {
        format!(
            r#"{{"paidAt":"{paid_at}","cardNumber":"{masked}","status":{status},"amount":15000,"refNumber":{reference},"description":"Hello World!","orderId":"ZB-1","result":{result},"message":"{message}"}}"#
        )
    };
    let (_, body) = inquiry().await;
    assert!(body.contains(r#""status":2,"#), "{body}");
    assert!(body.contains(r#""verifiedAt":null"#), "{body}");
    assert_eq!(
        verify(json!(track_id)).await,
        (200, paid(1, 100, "success"))
    );
    assert_eq!(
        verify(json!(key)).await,
        (200, paid(1, 201, "already verified"))
    );
    let txn = sb.handle.transaction(SandboxGateway::Zibal, &key).unwrap();
    assert_eq!(
        inquiry().await,
        (
            200,
            format!(
                r#"{{"message":"success","result":100,"refNumber":{reference},"paidAt":"{paid_at}","verifiedAt":"{}","status":1,"amount":15000,"orderId":"ZB-1","description":"Hello World!","cardNumber":"{masked}","wage":0,"createdAt":"{created}"}}"#,
                zibal_time(txn.verified_at.unwrap())
            )
        )
    );
    assert_eq!(counts(&sb, &key).await, (3, 1, 1, "verified".to_owned()));
    assert_eq!(common::admin_row(&sb, &key).await["inquiry_calls"], 3);
}

#[tokio::test]
async fn zibal_cancel_and_failures_report_their_status() {
    let sb = sandbox().await;
    for (action, status) in [("cancel", 3), ("wrong_card", 4), ("bank_fail", 11)] {
        // No orderId: the callback has none.
        let track_id = zibal_create(
            &sb,
            json!({"merchant": ZIBAL_MERCHANT, "amount": 1000,
                   "callbackUrl": "http://localhost:3000/cb?x=1"}),
        )
        .await;
        let key = track_id.to_string();
        let (code, cb) = act(&sb, SandboxGateway::Zibal, &key, action).await;
        assert_eq!(code, 200);
        assert_eq!(cb["method"], "GET");
        assert_eq!(
            cb["url"],
            format!("http://localhost:3000/cb?x=1&success=0&trackId={track_id}&status={status}")
                .as_str()
        );
        assert_eq!(field_names(&cb), names(&["success", "trackId", "status"]));
        for _ in 0..2 {
            assert_eq!(
                zibal_call(
                    &sb,
                    "verify",
                    json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}),
                )
                .await,
                (
                    200,
                    format!(
                        r#"{{"result":202,"message":"order not paid or failed","status":{status}}}"#
                    )
                )
            );
        }
        let (_, body) = zibal_call(
            &sb,
            "inquiry",
            json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}),
        )
        .await;
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["status"], status);
        assert_eq!(answer["orderId"], Value::Null);
        assert_eq!(answer["description"], Value::Null);
        assert_eq!(answer["cardNumber"], Value::Null);
        assert_eq!(counts(&sb, &key).await.1, 0);
    }
}

#[tokio::test]
async fn zibal_pays_with_an_allowed_card_and_serves_the_unversioned_paths() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::Zibal);
    let (status, body) = text(
        client()
            .post(format!("{base}/request"))
            .json(
                &json!({"merchant": ZIBAL_MERCHANT, "amount": 5000, "callbackUrl": SHOP,
                          "allowedCards": ["6219861034529007", "5022291012345678"]}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let track_id = serde_json::from_str::<Value>(&body).unwrap()["trackId"]
        .as_u64()
        .unwrap();
    let key = track_id.to_string();
    assert_eq!(
        sb.handle
            .transaction(SandboxGateway::Zibal, &key)
            .unwrap()
            .required_card
            .as_deref(),
        Some("6219861034529007,5022291012345678")
    );
    sb.handle
        .act(SandboxGateway::Zibal, &key, payment_sandbox::Action::Pay)
        .unwrap();
    let (status, body) = text(
        client()
            .post(format!("{base}/verify"))
            .json(&json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["result"], 100);
    assert_eq!(answer["cardNumber"], "621986******9007");
    assert_eq!(answer["orderId"], Value::Null);
}
