//! Fault injection, the admin API, the clock and concurrent verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use common::{client, counts, sandbox, text};
use payment_sandbox::{
    Action, CANPAY_MERCHANT, Call, Fault, FaultSpec, IDPAY_API_KEY, INOPAL_GATEWAY_ID,
    NOVINPAL_API_KEY, RunningSandbox, SandboxGateway, ZARINPAL_MERCHANT_ID, ZIBAL_MERCHANT,
};
use serde_json::{Value, json};

const SHOP: &str = "http://localhost:3000/cb";

async fn novinpal_paid(sb: &RunningSandbox, order: &str) -> String {
    let created: Value = client()
        .post(format!(
            "{}/invoice/request",
            sb.base_url_for(SandboxGateway::NovinPal)
        ))
        .form(&[
            ("api_key", NOVINPAL_API_KEY),
            ("amount", "10000"),
            ("return_url", SHOP),
            ("order_id", order),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ref_id = created["refId"].as_str().unwrap().to_owned();
    sb.handle
        .act(SandboxGateway::NovinPal, &ref_id, Action::Pay)
        .unwrap();
    ref_id
}

fn novinpal_verify(sb: &RunningSandbox, ref_id: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!(
            "{}/invoice/verify",
            sb.base_url_for(SandboxGateway::NovinPal)
        ))
        .form(&[("api_key", NOVINPAL_API_KEY), ("ref_id", ref_id)])
}

async fn admin_fault(sb: &RunningSandbox, body: Value) -> (u16, String) {
    text(
        client()
            .post(format!("{}/_admin/faults", sb.base_url))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn delay_processes_the_verify_then_answers_late_and_times_clears_it() {
    let sb = sandbox().await;
    let ref_id = novinpal_paid(&sb, "d1").await;
    let (status, body) = admin_fault(
        &sb,
        json!({"gateway": "novinpal", "call": "verify",
               "fault": {"kind": "delay", "ms": 400}, "times": 1}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        r#"[{"after":false,"call":"verify","fault":{"kind":"delay","ms":400},"gateway":"novinpal","times":1}]"#
    );

    // A client that gives up early sees a timeout, yet the payment is verified.
    let err = novinpal_verify(&sb, &ref_id)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(counts(&sb, &ref_id).await, (1, 1, 0, "verified".to_owned()));

    // The fault was used up: the retry answers at once with verifiedBefore.
    let (status, body) = text(novinpal_verify(&sb, &ref_id).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(body.ends_with(r#""verifiedBefore":true}"#), "{body}");

    // And a delay really delays.
    sb.handle.set_fault(
        SandboxGateway::NovinPal,
        Call::Verify,
        Fault::Delay { ms: 300 },
    );
    let started = Instant::now();
    let (status, _) = text(novinpal_verify(&sb, &ref_id).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn status_fault_returns_that_status_until_cleared() {
    let sb = sandbox().await;
    let create = || {
        client()
            .post(format!(
                "{}/v1/payment",
                sb.base_url_for(SandboxGateway::IdPay)
            ))
            .header("X-API-KEY", IDPAY_API_KEY)
            .json(&json!({"order_id": "s1", "amount": 10000, "callback": SHOP}))
            .send()
    };
    sb.handle.set_fault(
        SandboxGateway::IdPay,
        Call::Create,
        Fault::Status { code: 502 },
    );
    for _ in 0..2 {
        let (status, body) = text(create().await.unwrap()).await;
        assert_eq!(status, 502);
        assert!(body.contains("502 Bad Gateway"));
    }
    // Not processed: nothing was created.
    assert!(sb.handle.transactions().is_empty());
    // Another gateway is unaffected.
    let (status, _) = text(
        client()
            .post(format!(
                "{}/api/ipg/token",
                sb.base_url_for(SandboxGateway::CanPay)
            ))
            .json(&json!({"merchant": CANPAY_MERCHANT, "amount": 1000,
                          "callback_url": SHOP, "invoice_id": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = text(
        client()
            .delete(format!("{}/_admin/faults", sb.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "[]"));
    assert_eq!(create().await.unwrap().status().as_u16(), 201);
}

#[tokio::test]
async fn status_fault_after_processing_verifies_but_fails_the_answer() {
    let sb = sandbox().await;
    let ref_id = novinpal_paid(&sb, "s2").await;
    sb.handle.set_fault(
        SandboxGateway::NovinPal,
        Call::Verify,
        FaultSpec::new(Fault::Status { code: 503 })
            .times(1)
            .after(true),
    );
    assert_eq!(
        novinpal_verify(&sb, &ref_id)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        503
    );
    assert_eq!(counts(&sb, &ref_id).await, (1, 1, 0, "verified".to_owned()));
    let (_, body) = text(novinpal_verify(&sb, &ref_id).send().await.unwrap()).await;
    assert!(body.ends_with(r#""verifiedBefore":true}"#), "{body}");
}

#[tokio::test]
async fn malformed_body_is_not_json_and_clears_after_times() {
    let sb = sandbox().await;
    let created: Value = client()
        .post(format!(
            "{}/api/ipg/token",
            sb.base_url_for(SandboxGateway::CanPay)
        ))
        .json(&json!({"merchant": CANPAY_MERCHANT, "amount": 1000,
                      "callback_url": SHOP, "invoice_id": "m1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["data"]["token"].as_str().unwrap().to_owned();
    sb.handle
        .act(SandboxGateway::CanPay, &token, Action::Pay)
        .unwrap();
    let (status, _) = admin_fault(
        &sb,
        json!({"gateway": "canpay", "call": "verify", "fault": {"kind": "malformed"}, "times": 2}),
    )
    .await;
    assert_eq!(status, 200);
    let verify = || {
        client()
            .post(format!(
                "{}/api/ipg/verify",
                sb.base_url_for(SandboxGateway::CanPay)
            ))
            .json(&json!({"merchant": CANPAY_MERCHANT, "token": token}))
            .send()
    };
    for _ in 0..2 {
        let (status, body) = text(verify().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    }
    // Not processed by default.
    assert_eq!(counts(&sb, &token).await.3, "paid");
    let (status, body) = text(verify().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_ok());
    assert_eq!(counts(&sb, &token).await.3, "verified");
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let sb = sandbox().await;
    let create = || {
        client()
            .post(format!(
                "{}/api/pardakht/create",
                sb.base_url_for(SandboxGateway::Inopal)
            ))
            .bearer_auth(INOPAL_GATEWAY_ID)
            .json(&json!({"amount": 1000, "order_id": "A1", "callback": SHOP}))
            .send()
    };
    let (status, _) = admin_fault(
        &sb,
        json!({"gateway": "inopal", "call": "create", "fault": {"kind": "drop"}, "times": 2}),
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let err = create().await.expect_err("connection should be dropped");
        assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    }
    assert!(sb.handle.transactions().is_empty());
    assert_eq!(create().await.unwrap().status().as_u16(), 200);
    // The server is still healthy for everyone else.
    assert_eq!(sb.handle.transactions().len(), 1);
}

#[tokio::test]
async fn admin_rejects_bad_fault_requests_and_moves_the_clock() {
    let sb = sandbox().await;
    for body in [
        json!({"gateway": "nope", "call": "verify", "fault": {"kind": "drop"}}),
        json!({"gateway": "idpay", "call": "verify", "fault": {"kind": "status", "code": 42}}),
        json!({"gateway": "idpay", "call": "verify", "fault": {"kind": "drop"}, "times": 0}),
    ] {
        assert_eq!(admin_fault(&sb, body).await.0, 400);
    }
    let before = sb.handle.now();
    let (status, body) = text(
        client()
            .post(format!("{}/_admin/clock/advance", sb.base_url))
            .json(&json!({"seconds": 3600}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let now: Value = serde_json::from_str(&body).unwrap();
    assert!(now["now"].as_i64().unwrap() >= before + 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verifies_succeed_first_exactly_once() {
    let sb = sandbox().await;
    let ref_id = novinpal_paid(&sb, "c1").await;
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let req = novinpal_verify(&sb, &ref_id);
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut first = 0;
    for task in tasks {
        let body = task.await.unwrap();
        assert_eq!(body["status"], 1);
        if body["verifiedBefore"] == false {
            first += 1;
        }
    }
    assert_eq!(first, 1);
    assert_eq!(
        counts(&sb, &ref_id).await,
        (24, 1, 23, "verified".to_owned())
    );

    // IDPay: exactly one "100" among concurrent verifies, the rest "101".
    let base = sb.base_url_for(SandboxGateway::IdPay);
    let created: Value = client()
        .post(format!("{base}/v1.1/payment"))
        .header("X-API-KEY", IDPAY_API_KEY)
        .json(&json!({"order_id": "c2", "amount": 10000, "callback": SHOP}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    sb.handle
        .act(SandboxGateway::IdPay, &id, Action::Pay)
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let req = client()
            .post(format!("{base}/v1.1/payment/verify"))
            .header("X-API-KEY", IDPAY_API_KEY)
            .json(&json!({"id": id, "order_id": "c2"}));
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap()["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses.iter().filter(|s| *s == "100").count(), 1);
    assert_eq!(statuses.iter().filter(|s| *s == "101").count(), 23);
}

#[tokio::test]
async fn the_admin_api_refuses_writes_from_other_sites() {
    let sb = sandbox().await;
    let url = format!("{}/_admin/faults", sb.base_url);
    let fault = json!({"gateway":"novinpal","call":"verify","fault":{"kind":"status","code":500}});
    // What a page on another site can send without a preflight: a text/plain body.
    let plain = client()
        .post(&url)
        .header("content-type", "text/plain")
        .header("origin", "http://evil.example")
        .body(fault.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 403);
    let plain_local = client()
        .post(&url)
        .header("content-type", "text/plain")
        .body(fault.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(plain_local.status().as_u16(), 415);
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let refused = client()
            .post(&url)
            .header(name, value)
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 403, "{name}: {value}");
        let cleared = client()
            .delete(&url)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(cleared.status().as_u16(), 403, "{name}: {value}");
    }
    let faults = || async {
        let (_, body) = text(client().get(&url).send().await.unwrap()).await;
        serde_json::from_str::<Vec<Value>>(&body).unwrap().len()
    };
    assert_eq!(faults().await, 0, "no fault was set");

    // The sandbox's own origin, and tools that send no Origin, may write.
    let own = client()
        .post(&url)
        .header("origin", sb.base_url.as_str())
        .header("sec-fetch-site", "same-origin")
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200);
    assert_eq!(faults().await, 1);

    let (status, page) = text(
        client()
            .get(format!("{}/_admin", sb.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("never expose the sandbox"), "{page}");
}

/// A paid Zarinpal payment of 10,000 rial; returns its authority.
async fn zarinpal_paid(sb: &RunningSandbox) -> String {
    let created: Value = client()
        .post(format!(
            "{}/pg/v4/payment/request.json",
            sb.base_url_for(SandboxGateway::Zarinpal)
        ))
        .json(
            &json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": 10000,
                      "description": "d", "callback_url": SHOP}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let authority = created["data"]["authority"].as_str().unwrap().to_owned();
    sb.handle
        .act(SandboxGateway::Zarinpal, &authority, Action::Pay)
        .unwrap();
    authority
}

fn zarinpal(sb: &RunningSandbox, call: &str, body: Value) -> reqwest::RequestBuilder {
    client()
        .post(format!(
            "{}/pg/v4/payment/{call}.json",
            sb.base_url_for(SandboxGateway::Zarinpal)
        ))
        .json(&body)
}

fn zarinpal_verify(sb: &RunningSandbox, authority: &str) -> reqwest::RequestBuilder {
    zarinpal(
        sb,
        "verify",
        json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority, "amount": 10000}),
    )
}

fn zibal(sb: &RunningSandbox, call: &str, body: Value) -> reqwest::RequestBuilder {
    client()
        .post(format!(
            "{}/v1/{call}",
            sb.base_url_for(SandboxGateway::Zibal)
        ))
        .json(&body)
}

#[tokio::test]
async fn zarinpal_faults_on_every_call() {
    let sb = sandbox().await;
    let authority = zarinpal_paid(&sb).await;

    // A delayed verify is processed: the client times out, the payment is verified, and
    // the retry says 101.
    let (status, _) = admin_fault(
        &sb,
        json!({"gateway": "zarinpal", "call": "verify",
               "fault": {"kind": "delay", "ms": 400}, "times": 1}),
    )
    .await;
    assert_eq!(status, 200);
    let err = zarinpal_verify(&sb, &authority)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        counts(&sb, &authority).await,
        (1, 1, 0, "verified".to_owned())
    );
    let (status, body) = text(zarinpal_verify(&sb, &authority).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"data":{"code":101,"#), "{body}");

    // A status fault on create creates nothing.
    sb.handle.set_fault(
        SandboxGateway::Zarinpal,
        Call::Create,
        FaultSpec::new(Fault::Status { code: 502 }).times(1),
    );
    let create = || {
        zarinpal(
            &sb,
            "request",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "amount": 10000,
                   "description": "d", "callback_url": SHOP}),
        )
        .send()
    };
    let (status, body) = text(create().await.unwrap()).await;
    assert_eq!(status, 502);
    assert!(body.contains("502 Bad Gateway"));
    assert_eq!(sb.handle.transactions().len(), 1);

    // Inquiry covers inquiry.json and unVerified.json.
    sb.handle.set_fault(
        SandboxGateway::Zarinpal,
        Call::Inquiry,
        FaultSpec::new(Fault::Malformed).times(2),
    );
    for (call, body) in [
        (
            "inquiry",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority}),
        ),
        ("unVerified", json!({"merchant_id": ZARINPAL_MERCHANT_ID})),
    ] {
        let (status, body) = text(zarinpal(&sb, call, body).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    }
    assert_eq!(counts(&sb, &authority).await.0, 2);

    // A dropped reverse, processed first: the payment is reversed and the retry says -61.
    sb.handle.set_fault(
        SandboxGateway::Zarinpal,
        Call::Reverse,
        FaultSpec::new(Fault::Drop).times(1).after(true),
    );
    let reverse = || {
        zarinpal(
            &sb,
            "reverse",
            json!({"merchant_id": ZARINPAL_MERCHANT_ID, "authority": authority}),
        )
        .send()
    };
    let err = reverse().await.expect_err("connection should be dropped");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert_eq!(counts(&sb, &authority).await.3, "reversed");
    let (status, body) = text(reverse().await.unwrap()).await;
    assert_eq!(status, 422);
    assert!(body.contains(r#""code":-61"#), "{body}");
    // The create works again once its fault is used up.
    assert_eq!(create().await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn zibal_faults_on_every_call() {
    let sb = sandbox().await;
    let create = || {
        zibal(
            &sb,
            "request",
            json!({"merchant": ZIBAL_MERCHANT, "amount": 1000, "callbackUrl": SHOP}),
        )
        .send()
    };
    // A dropped create creates nothing.
    let (status, _) = admin_fault(
        &sb,
        json!({"gateway": "zibal", "call": "create", "fault": {"kind": "drop"}, "times": 1}),
    )
    .await;
    assert_eq!(status, 200);
    let err = create().await.expect_err("connection should be dropped");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert!(sb.handle.transactions().is_empty());
    let created: Value = create().await.unwrap().json().await.unwrap();
    let track_id = created["trackId"].as_u64().unwrap();
    let key = track_id.to_string();
    sb.handle
        .act(SandboxGateway::Zibal, &key, Action::Pay)
        .unwrap();

    // A 503 after processing: the payment is verified, the retry says 201.
    sb.handle.set_fault(
        SandboxGateway::Zibal,
        Call::Verify,
        FaultSpec::new(Fault::Status { code: 503 })
            .times(1)
            .after(true),
    );
    let verify = || {
        zibal(
            &sb,
            "verify",
            json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}),
        )
        .send()
    };
    assert_eq!(verify().await.unwrap().status().as_u16(), 503);
    assert_eq!(counts(&sb, &key).await, (1, 1, 0, "verified".to_owned()));
    let answer: Value = verify().await.unwrap().json().await.unwrap();
    assert_eq!(answer["result"], 201);

    // A malformed inquiry, then a good one.
    sb.handle.set_fault(
        SandboxGateway::Zibal,
        Call::Inquiry,
        FaultSpec::new(Fault::Malformed).times(1).after(true),
    );
    let inquiry = || {
        zibal(
            &sb,
            "inquiry",
            json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}),
        )
        .send()
    };
    let (status, body) = text(inquiry().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    let answer: Value = inquiry().await.unwrap().json().await.unwrap();
    assert_eq!(answer["status"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_zarinpal_and_zibal_verifies_succeed_first_exactly_once() {
    let sb = sandbox().await;
    let authority = zarinpal_paid(&sb).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let req = zarinpal_verify(&sb, &authority);
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap()["data"]["code"].as_u64().unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 100).count(), 1);
    assert_eq!(codes.iter().filter(|c| **c == 101).count(), 15);

    let created: Value = zibal(
        &sb,
        "request",
        json!({"merchant": ZIBAL_MERCHANT, "amount": 1000, "callbackUrl": SHOP}),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let track_id = created["trackId"].as_u64().unwrap();
    sb.handle
        .act(SandboxGateway::Zibal, &track_id.to_string(), Action::Pay)
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let req = zibal(
            &sb,
            "verify",
            json!({"merchant": ZIBAL_MERCHANT, "trackId": track_id}),
        );
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap()["result"].as_u64().unwrap());
    }
    assert_eq!(results.iter().filter(|r| **r == 100).count(), 1);
    assert_eq!(results.iter().filter(|r| **r == 201).count(), 15);
}
