//! NovinPal: `/novinpal/invoice/{request,start/{refId},verify,reverse}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use crate::http::{Amount, App, Params, faulted, iran_time, is_http_url, json, payment_page};
use crate::json::{J, NOTE_FIELD, o, s};
use crate::model::{Call, SandboxGateway, Transaction, TxnState};
use crate::store::{fresh_key, mask_dashed, new_txn, random_digits};

const GW: SandboxGateway = SandboxGateway::NovinPal;
/// How long after the payment a reverse is accepted, in seconds.
pub(crate) const REVERSE_WINDOW_SECS: i64 = 120 * 60;

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/novinpal/invoice/request", post(create))
        .route("/novinpal/invoice/start/{ref_id}", get(page))
        .route("/novinpal/invoice/verify", post(verify))
        .route("/novinpal/invoice/reverse", post(reverse))
}

fn rejection(code: u64, description: &str) -> Response {
    json(
        200,
        o([
            ("status", J::I(0)),
            ("errorCode", J::U(code)),
            ("errorDescription", s(description)),
        ]),
    )
}

/// The label of a refused reverse: the document gives no code for these cases.
const REVERSE_NOTE: &str = "invented code: the document gives none for a refused reverse; 109 (transaction failed) is borrowed from its table";

/// A refused reverse (`109` with a distinct description), labelled as the sandbox's choice.
fn reverse_refusal(description: &str) -> Response {
    json(
        200,
        o([
            ("status", J::I(0)),
            ("errorCode", J::U(109)),
            ("errorDescription", s(description)),
            (NOTE_FIELD, s(REVERSE_NOTE)),
        ]),
    )
}

fn check_key(app: &App, p: &Params) -> Result<(), Response> {
    if p.str("api_key").as_deref() == Some(app.config.novinpal_api_key.as_str()) {
        Ok(())
    } else {
        Err(rejection(111, "api key is invalid"))
    }
}

async fn create(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Create, || {
        let p = Params::parse(&headers, &body, true);
        if let Err(res) = check_key(&app, &p) {
            return res;
        }
        let amount = match p.amount("amount") {
            Amount::Value(a) if a >= 10_000 => a,
            _ => return rejection(110, "amount is invalid"),
        };
        let return_url = match p.non_empty("return_url") {
            Some(url) if is_http_url(&url) => url,
            _ => return rejection(103, "return url is invalid"),
        };
        let Some(order_id) = p.non_empty("order_id") else {
            return rejection(113, "order id is invalid");
        };
        let mut db = app.lock();
        if db.order_id_used(GW, &order_id) {
            // The document asks for a unique order id and names no code for a reused
            // one; the sandbox answers with the order id's code, 113.
            return rejection(113, "order id was used before: send a new one");
        }
        let now = db.now();
        let ref_id = fresh_key(&db, GW, || random_digits(9));
        let mut txn = new_txn(GW, ref_id.clone(), now);
        txn.order_id = order_id;
        txn.amount = amount;
        txn.payment_amount = amount;
        txn.callback_url = return_url;
        txn.description = p.non_empty("description");
        txn.mobile = p.non_empty("mobile");
        txn.required_card = p.non_empty("card_number");
        db.insert(txn);
        json(200, o([("refId", s(ref_id)), ("status", J::I(1))]))
    })
    .await
}

/// The documented success body.
fn paid_body(txn: &Transaction, verified_before: bool) -> J {
    o([
        (
            "paidAt",
            s(iran_time(txn.paid_at.unwrap_or(txn.created_at))),
        ),
        (
            "cardNumber",
            s(txn
                .card_number
                .as_deref()
                .map(mask_dashed)
                .unwrap_or_default()),
        ),
        ("status", J::I(1)),
        ("amount", J::U(txn.amount)),
        (
            "refNumber",
            s(txn.bank_reference.clone().unwrap_or_default()),
        ),
        ("refId", s(txn.key.clone())),
        (
            "description",
            s(txn.description.clone().unwrap_or_default()),
        ),
        ("orderId", s(txn.order_id.clone())),
        ("verifiedBefore", J::B(verified_before)),
    ])
}

fn short_body(txn: &Transaction, status: i64) -> J {
    o([
        ("status", J::I(status)),
        ("refId", s(txn.key.clone())),
        ("amount", J::U(txn.amount)),
        ("verifiedBefore", J::B(false)),
    ])
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        let p = Params::parse(&headers, &body, true);
        if let Err(res) = check_key(&app, &p) {
            return res;
        }
        let ref_id = p.non_empty("ref_id").unwrap_or_default();
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.get_mut(GW, &ref_id) else {
            return rejection(105, "transaction not found");
        };
        txn.verify_calls += 1;
        match txn.state {
            TxnState::Paid => {
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
                txn.successful_verifies += 1;
                json(200, paid_body(txn, false))
            }
            TxnState::Verified => {
                txn.repeat_verifies += 1;
                json(200, paid_body(txn, true))
            }
            TxnState::Created => json(200, short_body(txn, 0)),
            TxnState::CardMismatch => rejection(123, "card mismatch"),
            TxnState::Cancelled | TxnState::Failed | TxnState::Reversed => {
                json(200, short_body(txn, -1))
            }
        }
    })
    .await
}

async fn reverse(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Reverse, || {
        let p = Params::parse(&headers, &body, true);
        if let Err(res) = check_key(&app, &p) {
            return res;
        }
        let ref_id = p.non_empty("ref_id").unwrap_or_default();
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.get_mut(GW, &ref_id) else {
            return rejection(105, "transaction not found");
        };
        txn.reverse_calls += 1;
        match txn.state {
            TxnState::Verified => {
                let paid = txn.paid_at.unwrap_or(txn.created_at);
                if now - paid > REVERSE_WINDOW_SECS {
                    return reverse_refusal("reverse window has passed");
                }
                txn.state = TxnState::Reversed;
                txn.reversed_at = Some(now);
                json(200, paid_body(txn, true))
            }
            TxnState::Reversed => reverse_refusal("transaction already reversed"),
            _ => reverse_refusal("transaction is not verified"),
        }
    })
    .await
}

async fn page(State(app): State<App>, Path(ref_id): Path<String>) -> Response {
    payment_page(&app, GW, &ref_id)
}
