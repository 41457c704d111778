//! Inopal: `/inopal/api/pardakht/{create,payment,verify}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::post;

use crate::http::{Amount, App, Params, faulted, is_http_url, json, payment_page};
use crate::json::{J, empty_array, o, s};
use crate::model::{Call, SandboxGateway, TxnState};
use crate::store::{fresh_key, new_txn, random_alnum, random_lower};

const GW: SandboxGateway = SandboxGateway::Inopal;

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/inopal/api/pardakht/create", post(create))
        .route("/inopal/api/pardakht/payment", post(page))
        .route("/inopal/api/pardakht/verify", post(verify))
}

fn failure(status: i64, message: &str) -> Response {
    json(
        200,
        o([
            ("status", J::I(status)),
            ("message", s(message)),
            ("data", empty_array()),
        ]),
    )
}

fn check_auth(app: &App, headers: &HeaderMap, action: &str) -> Result<(), Response> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if auth == Some(app.config.inopal_gateway_id.as_str()) {
        return Ok(());
    }
    Err(json(
        401,
        o([
            ("status", s("unauthenticated")),
            ("action", s(action)),
            ("tag", s("unauthenticated")),
            ("message", s("دسترسی نامعتبر")),
            ("data", empty_array()),
            ("api_version", s("1.0.0")),
        ]),
    ))
}

async fn create(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Create, || {
        if let Err(res) = check_auth(&app, &headers, "PardakhtCreate") {
            return res;
        }
        let p = Params::parse(&headers, &body, true);
        if !p.has("amount") || !p.has("order_id") || !p.has("callback") {
            return failure(-4, "requiredInputParametersNotSatisfied");
        }
        let amount = match p.amount("amount") {
            Amount::Value(a) => a,
            Amount::Missing => return failure(-4, "requiredInputParametersNotSatisfied"),
            Amount::Invalid => return failure(-6, "incorrectAmount"),
        };
        if amount < 1_000 {
            return failure(-7, "lowAmount");
        }
        if amount > 500_000_000 {
            return failure(-8, "highAmount");
        }
        let order_id = p.str("order_id").unwrap_or_default();
        if order_id.is_empty() {
            return failure(-9, "emptyOrderId");
        }
        if order_id.chars().count() > 128 {
            return failure(-11, "longOrderId");
        }
        if !order_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return failure(-13, "paymentDataNotValid");
        }
        let callback = p.str("callback").unwrap_or_default();
        if !is_http_url(callback.trim()) {
            return failure(-23, "invalidCallbackAddress");
        }
        let mut db = app.lock();
        let now = db.now();
        let token = fresh_key(&db, GW, || random_alnum(60));
        let ref_num = loop {
            let candidate = random_lower(8);
            if db
                .find_mut(GW, |t| t.reference.as_deref() == Some(&candidate))
                .is_none()
            {
                break candidate;
            }
        };
        let payment_amount = amount.saturating_add(app.config.inopal_buyer_fee);
        let mut txn = new_txn(GW, token.clone(), now);
        txn.reference = Some(ref_num.clone());
        txn.order_id = order_id.clone();
        txn.amount = amount;
        txn.payment_amount = payment_amount;
        txn.callback_url = callback.trim().to_owned();
        txn.description = p.non_empty("description");
        txn.mobile = p.non_empty("phone");
        db.insert(txn);
        json(
            200,
            o([
                ("status", J::I(1)),
                ("message", s("Ok")),
                (
                    "data",
                    o([
                        ("token", s(token)),
                        ("ref_num", s(ref_num)),
                        ("order_id", s(order_id)),
                        ("payment_amount", J::U(payment_amount)),
                    ]),
                ),
            ]),
        )
    })
    .await
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        if let Err(res) = check_auth(&app, &headers, "PardakhtVerify") {
            return res;
        }
        let p = Params::parse(&headers, &body, true);
        let (Some(ref_num), true) = (p.non_empty("ref_num"), p.has("amount")) else {
            return failure(-4, "requiredInputParametersNotSatisfied");
        };
        let amount = match p.amount("amount") {
            Amount::Value(a) => Some(a),
            Amount::Missing => return failure(-4, "requiredInputParametersNotSatisfied"),
            Amount::Invalid => None,
        };
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.find_mut(GW, |t| t.reference.as_deref() == Some(&ref_num)) else {
            return failure(-13, "paymentDataNotValid");
        };
        txn.verify_calls += 1;
        match txn.state {
            TxnState::Paid | TxnState::Verified if amount != Some(txn.amount) => {
                failure(-6, "incorrectAmount")
            }
            TxnState::Paid => {
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
                txn.successful_verifies += 1;
                let price = if app.config.inopal_price_includes_fee {
                    txn.payment_amount
                } else {
                    txn.amount
                };
                json(
                    200,
                    o([
                        ("status", J::I(1)),
                        ("message", s("Ok")),
                        ("data", o([("ref_num", s(ref_num)), ("price", J::U(price))])),
                    ]),
                )
            }
            TxnState::Verified => {
                txn.repeat_verifies += 1;
                failure(-16, "retryVerification")
            }
            _ => failure(-12, "paymentFailed"),
        }
    })
    .await
}

async fn page(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let p = Params::parse(&headers, &body, true);
    let token = p.non_empty("token").unwrap_or_default();
    payment_page(&app, GW, &token)
}
