//! Zibal: `/zibal/v1/{request,verify,inquiry}` (also without `/v1`), payment page
//! `/zibal/start/{trackId}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

use crate::http::{Amount, App, Params, faulted, iran_iso_time, is_http_url, json, payment_page};
use crate::json::{J, o, s};
use crate::model::{Action, Call, SandboxGateway, Transaction, TxnState};
use crate::store::{fresh_key, mask_idpay, new_txn, random_digits};

const GW: SandboxGateway = SandboxGateway::Zibal;
/// The smallest amount, in rial.
pub(crate) const MIN_RIAL: u64 = 1_000;
/// The largest amount, in rial (the document has the code, 113, but not the limit).
pub(crate) const MAX_RIAL: u64 = 500_000_000;

/// The document's `result` codes.
pub(crate) mod result {
    /// Success.
    pub(crate) const SUCCESS: u64 = 100;
    /// The merchant is not the sandbox's.
    pub(crate) const MERCHANT_NOT_FOUND: u64 = 102;
    /// The merchant is missing or empty.
    pub(crate) const MERCHANT_INVALID: u64 = 104;
    /// The amount is missing, not an integer or under 1,000 rial.
    pub(crate) const LOW_AMOUNT: u64 = 105;
    /// The callback URL is missing or not an absolute http(s) URL.
    pub(crate) const CALLBACK: u64 = 106;
    /// The amount is over the transaction limit.
    pub(crate) const HIGH_AMOUNT: u64 = 113;
    /// Verified before.
    pub(crate) const ALREADY_VERIFIED: u64 = 201;
    /// Not paid, or failed.
    pub(crate) const NOT_PAID: u64 = 202;
    /// No payment with this `trackId`.
    pub(crate) const INVALID_TRACK_ID: u64 = 203;
}

pub(crate) fn routes() -> Router<App> {
    let mut router = Router::new();
    for prefix in ["/zibal/v1", "/zibal"] {
        router = router
            .route(&format!("{prefix}/request"), post(create))
            .route(&format!("{prefix}/verify"), post(verify))
            .route(&format!("{prefix}/inquiry"), post(inquiry));
    }
    router
        .route("/zibal/start/{track_id}", get(page))
        .route("/zibal/start/{track_id}/direct", get(page))
}

/// The document's `status` of a payment, as the callback, a failed verify and the
/// inquiry report it.
pub(crate) fn status_code(txn: &Transaction) -> i64 {
    match txn.state {
        TxnState::Created => -1,
        TxnState::Verified => 1,
        TxnState::Paid => 2,
        TxnState::Cancelled => 3,
        TxnState::CardMismatch => 4,
        TxnState::Failed if txn.buyer_action == Some(Action::WrongCard) => 4,
        TxnState::Failed => 11,
        TxnState::Reversed => 18,
    }
}

fn answer(result: u64, message: &str) -> Response {
    json(200, o([("result", J::U(result)), ("message", s(message))]))
}

/// 104 for a missing merchant, 102 for one that is not the sandbox's.
fn check_merchant(app: &App, p: &Params) -> Result<(), Response> {
    match p.non_empty("merchant") {
        None => Err(answer(result::MERCHANT_INVALID, "invalid merchant")),
        Some(m) if m == app.config.zibal_merchant => Ok(()),
        Some(_) => Err(answer(result::MERCHANT_NOT_FOUND, "merchant not found")),
    }
}

/// `allowedCards`: an array of card numbers (a single string is taken as one card).
fn allowed_cards(p: &Params) -> Option<String> {
    let cards: Vec<String> = match p.value("allowedCards")? {
        Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|c| !c.is_empty())
            .collect(),
        Value::String(c) if !c.trim().is_empty() => vec![c.trim().to_owned()],
        _ => Vec::new(),
    };
    (!cards.is_empty()).then(|| cards.join(","))
}

async fn create(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Create, || {
        let p = Params::parse(&headers, &body, false);
        if let Err(res) = check_merchant(&app, &p) {
            return res;
        }
        let amount = match p.amount("amount") {
            Amount::Value(a) if a >= MIN_RIAL => a,
            _ => {
                return answer(result::LOW_AMOUNT, "amount must be at least 1,000 rials");
            }
        };
        if amount > MAX_RIAL {
            return answer(result::HIGH_AMOUNT, "amount exceeds the transaction limit");
        }
        let callback = match p.non_empty("callbackUrl") {
            Some(url) if is_http_url(&url) => url,
            _ => return answer(result::CALLBACK, "invalid callbackUrl"),
        };
        let mut db = app.lock();
        let now = db.now();
        let track_id = fresh_key(&db, GW, || random_digits(10));
        let mut txn = new_txn(GW, track_id.clone(), now);
        txn.order_id = p.non_empty("orderId").unwrap_or_default();
        txn.amount = amount;
        txn.payment_amount = amount;
        txn.callback_url = callback;
        txn.description = p.non_empty("description");
        txn.mobile = p.non_empty("mobile");
        txn.national_code = p.non_empty("nationalCode");
        txn.required_card = allowed_cards(&p);
        db.insert(txn);
        json(
            200,
            o([
                ("trackId", J::U(track_id.parse().unwrap_or_default())),
                ("result", J::U(result::SUCCESS)),
                ("message", s("success")),
            ]),
        )
    })
    .await
}

/// A string field, or `null` when it was not sent.
fn opt(v: Option<String>) -> J {
    v.map_or(J::N, J::S)
}

/// A time on Zibal's clock, or `null`.
fn opt_time(t: Option<i64>) -> J {
    t.map_or(J::N, |t| J::S(iran_iso_time(t)))
}

fn order_id(txn: &Transaction) -> J {
    opt(Some(txn.order_id.clone()).filter(|o| !o.is_empty()))
}

/// The card and the bank's reference, known once the buyer paid.
fn card_and_ref(txn: &Transaction) -> (J, J) {
    if matches!(
        txn.state,
        TxnState::Paid | TxnState::Verified | TxnState::Reversed
    ) {
        let card = opt(txn.card_number.as_deref().map(mask_idpay));
        let reference = txn
            .bank_reference
            .as_deref()
            .and_then(|r| r.parse().ok())
            .map_or(J::N, J::U);
        (card, reference)
    } else {
        (J::N, J::N)
    }
}

/// The verify body, for 100 and 201 alike.
fn verified_body(txn: &Transaction, result: u64, message: &str) -> J {
    let (card, reference) = card_and_ref(txn);
    o([
        ("paidAt", opt_time(txn.paid_at)),
        ("cardNumber", card),
        ("status", J::I(status_code(txn))),
        ("amount", J::U(txn.amount)),
        ("refNumber", reference),
        ("description", opt(txn.description.clone())),
        ("orderId", order_id(txn)),
        ("result", J::U(result)),
        ("message", s(message)),
    ])
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        let p = Params::parse(&headers, &body, false);
        if let Err(res) = check_merchant(&app, &p) {
            return res;
        }
        let track_id = p.non_empty("trackId").unwrap_or_default();
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.get_mut(GW, &track_id) else {
            return answer(result::INVALID_TRACK_ID, "invalid trackId");
        };
        txn.verify_calls += 1;
        match txn.state {
            TxnState::Paid => {
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
                txn.successful_verifies += 1;
                json(200, verified_body(txn, result::SUCCESS, "success"))
            }
            TxnState::Verified => {
                txn.repeat_verifies += 1;
                json(
                    200,
                    verified_body(txn, result::ALREADY_VERIFIED, "already verified"),
                )
            }
            _ => json(
                200,
                o([
                    ("result", J::U(result::NOT_PAID)),
                    ("message", s("order not paid or failed")),
                    ("status", J::I(status_code(txn))),
                ]),
            ),
        }
    })
    .await
}

async fn inquiry(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Inquiry, || {
        let p = Params::parse(&headers, &body, false);
        if let Err(res) = check_merchant(&app, &p) {
            return res;
        }
        let track_id = p.non_empty("trackId").unwrap_or_default();
        let mut db = app.lock();
        let Some(txn) = db.get_mut(GW, &track_id) else {
            return answer(result::INVALID_TRACK_ID, "invalid trackId");
        };
        txn.inquiry_calls += 1;
        let (card, reference) = card_and_ref(txn);
        json(
            200,
            o([
                ("message", s("success")),
                ("result", J::U(result::SUCCESS)),
                ("refNumber", reference),
                ("paidAt", opt_time(txn.paid_at)),
                ("verifiedAt", opt_time(txn.verified_at)),
                ("status", J::I(status_code(txn))),
                ("amount", J::U(txn.amount)),
                ("orderId", order_id(txn)),
                ("description", opt(txn.description.clone())),
                ("cardNumber", card),
                ("wage", J::U(0)),
                ("createdAt", s(iran_iso_time(txn.created_at))),
            ]),
        )
    })
    .await
}

async fn page(State(app): State<App>, Path(track_id): Path<String>) -> Response {
    payment_page(&app, GW, &track_id)
}
