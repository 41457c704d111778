//! Every error code the sandbox makes up — where a gateway's document gives none — says
//! so in the answer itself (`sandbox_note`), and no documented answer carries the label.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use common::{act, client, sandbox};
use payment_sandbox::{
    CANPAY_MERCHANT, NOVINPAL_API_KEY, RunningSandbox, Sandbox, SandboxConfig, SandboxGateway,
};
use serde_json::{Value, json};

const SHOP: &str = "http://localhost:3000/pay/callback";
const INVENTED: &str = "invented code: the document gives none";
const REVERSE_NOTE: &str = "invented code: the document gives none for a refused reverse; 109 (transaction failed) is borrowed from its table";

async fn post_json(url: String, body: Value) -> (u16, Value) {
    let res = client().post(url).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn post_form(url: String, form: &[(&str, &str)]) -> (u16, Value) {
    let res = client().post(url).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Asserts `answer` is `(http, …)` with `code_field` = `code` and the label `note`.
fn labelled(answer: &(u16, Value), http: u16, code_field: &str, code: u64, note: &str) {
    let (status, body) = answer;
    assert_eq!(*status, http, "{body}");
    assert_eq!(body[code_field], json!(code), "{body}");
    assert_eq!(body["sandbox_note"], json!(note), "{body}");
}

fn unlabelled(answer: &(u16, Value)) {
    assert!(answer.1.get("sandbox_note").is_none(), "{}", answer.1);
}

#[tokio::test]
async fn canpay_every_error_code_is_labelled_invented() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::CanPay);
    let token = |invoice: &str| {
        post_json(
            format!("{base}/api/ipg/token"),
            json!({"merchant": CANPAY_MERCHANT, "amount": 10000,
                   "callback_url": SHOP, "invoice_id": invoice}),
        )
    };
    let verify = |token: &str| {
        post_json(
            format!("{base}/api/ipg/verify"),
            json!({"merchant": CANPAY_MERCHANT, "token": token}),
        )
    };
    // 1 validation, 2 merchant, 3 unknown token.
    let missing = post_json(
        format!("{base}/api/ipg/token"),
        json!({"merchant": CANPAY_MERCHANT}),
    )
    .await;
    labelled(&missing, 422, "code", 1, INVENTED);
    let merchant = post_json(
        format!("{base}/api/ipg/verify"),
        json!({"merchant": "nope", "token": "X"}),
    )
    .await;
    labelled(&merchant, 401, "code", 2, INVENTED);
    labelled(&verify("NOPE").await, 404, "code", 3, INVENTED);
    // 4 not paid.
    let (status, created) = token("inv-unpaid").await;
    assert_eq!(status, 200);
    unlabelled(&(status, created.clone()));
    let unpaid = created["data"]["token"].as_str().unwrap().to_owned();
    labelled(&verify(&unpaid).await, 400, "code", 4, INVENTED);
    // 5 refunded: paid, and not verified within 15 minutes.
    let (_, created) = token("inv-late").await;
    let late = created["data"]["token"].as_str().unwrap().to_owned();
    act(&sb, SandboxGateway::CanPay, &late, "pay").await;
    sb.handle.advance_clock(Duration::from_secs(16 * 60));
    labelled(&verify(&late).await, 400, "code", 5, INVENTED);
    // A success is the document's answer: no label.
    let (_, created) = token("inv-paid").await;
    let paid = created["data"]["token"].as_str().unwrap().to_owned();
    act(&sb, SandboxGateway::CanPay, &paid, "pay").await;
    let ok = verify(&paid).await;
    assert_eq!(ok.0, 200);
    unlabelled(&ok);
}

#[tokio::test]
async fn gardeshpay_every_error_code_is_labelled_invented() {
    let sb = Sandbox::spawn_on_loopback(SandboxConfig::default().gardeshpay_token(Some("mt")))
        .await
        .unwrap();
    let base = sb.base_url_for(SandboxGateway::GardeshPay);
    let get_token = |body: Value| post_json(format!("{base}/provider/payment/getToken"), body);
    let verify = |tracking: &str| {
        post_json(
            format!("{base}/provider/payment/verify"),
            json!({"token": "mt", "trackingNumber": tracking}),
        )
    };
    let good = json!({"token": "mt", "amount": 30000, "invoiceNumber": "g-1",
                      "invoiceDate": "2026-11-23T10:20:30", "callback": SHOP});
    // 1 validation, 2 token, 3 unknown tracking number.
    labelled(
        &get_token(json!({"token": "mt"})).await,
        422,
        "code",
        1,
        INVENTED,
    );
    let mut wrong = good.clone();
    wrong["token"] = json!("nope");
    labelled(&get_token(wrong).await, 401, "code", 2, INVENTED);
    labelled(&verify("1").await, 404, "code", 3, INVENTED);
    // 4 not paid: the buyer cancelled.
    let created = get_token(good.clone()).await;
    assert_eq!(created.0, 200);
    unlabelled(&created);
    let key = created.1["data"]["token"].as_str().unwrap().to_owned();
    act(&sb, SandboxGateway::GardeshPay, &key, "cancel").await;
    let tracking = sb
        .handle
        .transaction(SandboxGateway::GardeshPay, &key)
        .unwrap()
        .reference
        .unwrap();
    labelled(&verify(&tracking).await, 400, "code", 4, INVENTED);
    // A success: no label.
    let mut paid = good;
    paid["invoiceNumber"] = json!("g-2");
    let created = get_token(paid).await;
    let key = created.1["data"]["token"].as_str().unwrap().to_owned();
    act(&sb, SandboxGateway::GardeshPay, &key, "pay").await;
    let tracking = sb
        .handle
        .transaction(SandboxGateway::GardeshPay, &key)
        .unwrap()
        .reference
        .unwrap();
    let ok = verify(&tracking).await;
    assert_eq!(ok.0, 200);
    unlabelled(&ok);
}

async fn novinpal_paid(sb: &RunningSandbox, order_id: &str) -> String {
    let base = sb.base_url_for(SandboxGateway::NovinPal);
    let (_, created) = post_form(
        format!("{base}/invoice/request"),
        &[
            ("api_key", NOVINPAL_API_KEY),
            ("amount", "10000"),
            ("return_url", SHOP),
            ("order_id", order_id),
        ],
    )
    .await;
    let ref_id = created["refId"].as_str().unwrap().to_owned();
    act(sb, SandboxGateway::NovinPal, &ref_id, "pay").await;
    ref_id
}

#[tokio::test]
async fn novinpal_each_refused_reverse_is_labelled_invented() {
    let sb = sandbox().await;
    let base = sb.base_url_for(SandboxGateway::NovinPal);
    let call = |call: &'static str, key: &'static str, ref_id: String| {
        let url = format!("{base}/invoice/{call}");
        async move { post_form(url, &[("api_key", key), ("ref_id", ref_id.as_str())]).await }
    };
    let reverse = |ref_id: &str| call("reverse", NOVINPAL_API_KEY, ref_id.to_owned());
    let verify = |ref_id: &str| call("verify", NOVINPAL_API_KEY, ref_id.to_owned());

    // Not verified yet.
    let ref_id = novinpal_paid(&sb, "n-1").await;
    let not_verified = reverse(&ref_id).await;
    labelled(&not_verified, 200, "errorCode", 109, REVERSE_NOTE);
    assert_eq!(
        not_verified.1["errorDescription"],
        "transaction is not verified"
    );
    // Reversed once (the document's answer, no label), then again.
    unlabelled(&verify(&ref_id).await);
    let reversed = reverse(&ref_id).await;
    assert_eq!(reversed.1["status"], 1, "{}", reversed.1);
    unlabelled(&reversed);
    let again = reverse(&ref_id).await;
    labelled(&again, 200, "errorCode", 109, REVERSE_NOTE);
    assert_eq!(again.1["errorDescription"], "transaction already reversed");
    // Past the 120-minute window.
    let ref_id = novinpal_paid(&sb, "n-2").await;
    unlabelled(&verify(&ref_id).await);
    sb.handle.advance_clock(Duration::from_secs(121 * 60));
    let late = reverse(&ref_id).await;
    labelled(&late, 200, "errorCode", 109, REVERSE_NOTE);
    assert_eq!(late.1["errorDescription"], "reverse window has passed");
    // The document's own codes on reverse carry no label: 105 unknown, 111 wrong key.
    let unknown = reverse("000000000").await;
    assert_eq!(unknown.1["errorCode"], 105);
    unlabelled(&unknown);
    let wrong_key = call("reverse", "wrong", ref_id.clone()).await;
    assert_eq!(wrong_key.1["errorCode"], 111);
    unlabelled(&wrong_key);
}
