//! Helpers shared by the HTTP tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use payment_sandbox::{RunningSandbox, Sandbox, SandboxConfig, SandboxGateway};
use serde_json::Value;

/// A sandbox on a loopback port.
pub async fn sandbox() -> RunningSandbox {
    Sandbox::spawn_on_loopback(SandboxConfig::default())
        .await
        .expect("bind loopback")
}

/// A client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Status and body text.
pub async fn text(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

/// Acts on the payment page as the buyer, asking for the JSON instruction.
pub async fn act(
    sb: &RunningSandbox,
    gateway: SandboxGateway,
    key: &str,
    action: &str,
) -> (u16, Value) {
    let res = client()
        .post(format!("{}/_sandbox/act/{key}", sb.base_url_for(gateway)))
        .header("Accept", "application/json")
        .form(&[("action", action)])
        .send()
        .await
        .expect("act");
    let status = res.status().as_u16();
    (status, res.json().await.expect("act json"))
}

/// The `fields` of an instruction as `(name, value)` pairs.
pub fn fields(instruction: &Value) -> Vec<(String, String)> {
    instruction["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("name").to_owned(),
                pair[1].as_str().expect("value").to_owned(),
            )
        })
        .collect()
}

/// The names of the fields, in order.
pub fn field_names(instruction: &Value) -> Vec<String> {
    fields(instruction).into_iter().map(|(k, _)| k).collect()
}

/// One field's value.
pub fn field(instruction: &Value, name: &str) -> String {
    fields(instruction)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no field {name} in {instruction}"))
}

/// The admin view's row for this key.
pub async fn admin_row(sb: &RunningSandbox, key: &str) -> Value {
    let rows: Value = client()
        .get(format!("{}/_admin/transactions", sb.base_url))
        .send()
        .await
        .expect("admin")
        .json()
        .await
        .expect("admin json");
    rows.as_array()
        .expect("array")
        .iter()
        .find(|r| r["key"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("no admin row for {key}"))
}

/// `(verify_calls, successful_verifies, repeat_verifies, state)` from the admin view.
pub async fn counts(sb: &RunningSandbox, key: &str) -> (u64, u64, u64, String) {
    let row = admin_row(sb, key).await;
    (
        row["verify_calls"].as_u64().expect("verify_calls"),
        row["successful_verifies"].as_u64().expect("successful"),
        row["repeat_verifies"].as_u64().expect("repeat"),
        row["state"].as_str().expect("state").to_owned(),
    )
}
