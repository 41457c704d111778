//! IDPay: `/idpay/v1/payment`, `/idpay/v1/payment/inquiry` (the document's API v1) and
//! `/idpay/v1.1/payment{,/verify,/inquiry}` (IDPay's later v1.1). Each path answers with
//! its own version's statuses; the callback speaks the version the payment was created on.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use sha2::{Digest, Sha256};

use crate::http::{Amount, App, Params, faulted, json, payment_page, public_base};
use crate::json::{J, o, s};
use crate::model::{Call, IdPayAnswer, IdPayApi, SandboxGateway, Transaction, TxnState};
use crate::store::{fresh_key, mask_idpay, new_txn, random_digits, random_hex};

const GW: SandboxGateway = SandboxGateway::IdPay;
/// The verify window after the buyer's return, in seconds.
pub(crate) const VERIFY_WINDOW_SECS: i64 = 10 * 60;
/// How many verify and inquiry answers a payment keeps in `idpay_answers`.
const KEPT_ANSWERS: usize = 100;

const INQUIRY_V1: &str = "/idpay/v1/payment/inquiry";
const INQUIRY_V11: &str = "/idpay/v1.1/payment/inquiry";
const VERIFY_V11: &str = "/idpay/v1.1/payment/verify";

pub(crate) fn routes() -> Router<App> {
    let create_on =
        |version| post(move |st: State<App>, h: HeaderMap, b: Bytes| create(st, h, b, version));
    Router::new()
        .route("/idpay/v1/payment", create_on(IdPayApi::V1))
        .route("/idpay/v1.1/payment", create_on(IdPayApi::V1_1))
        .route(INQUIRY_V1, post(inquiry_v1))
        .route(INQUIRY_V11, post(inquiry_v11))
        .route(VERIFY_V11, post(verify))
        .route("/idpay/p/ws-sandbox/{id}", get(page))
}

/// The document's (v1) status of a payment: `1` not paid (the buyer has not acted),
/// `2` failed (cancelled, declined, failed at the bank), `100` confirmed (paid; v1 has no
/// separate verify). `3` (error) is never produced.
fn v1_status(txn: &Transaction) -> &'static str {
    match txn.state {
        TxnState::Created => "1",
        TxnState::Paid | TxnState::Verified => "100",
        TxnState::Cancelled | TxnState::Failed | TxnState::CardMismatch | TxnState::Reversed => "2",
    }
}

/// The v1.1 inquiry status of a payment: `1` not paid, `10` paid and awaiting verify,
/// `7` cancelled by the buyer, `2` failed, `100` verified, `6` reversed.
fn v11_status(txn: &Transaction) -> &'static str {
    match txn.state {
        TxnState::Created => "1",
        TxnState::Paid => "10",
        TxnState::Cancelled => "7",
        TxnState::Failed | TxnState::CardMismatch => "2",
        TxnState::Verified => "100",
        TxnState::Reversed => "6",
    }
}

/// The `status` of the callback, in the version the payment was created on: v1 `100`
/// paid, `2` otherwise; v1.1 `10` paid (awaiting verify), `7` cancelled, `2` otherwise.
pub(crate) fn callback_status(txn: &Transaction) -> &'static str {
    match txn.idpay_version {
        Some(IdPayApi::V1) => v1_status(txn),
        _ => v11_status(txn),
    }
}

/// Keeps what the sandbox answers about `txn` on `path`.
fn record(
    txn: &mut Transaction,
    path: &str,
    http_status: u16,
    status: Option<&str>,
    code: Option<u64>,
) {
    if txn.idpay_answers.len() >= KEPT_ANSWERS {
        txn.idpay_answers.remove(0);
    }
    txn.idpay_answers.push(IdPayAnswer {
        path: path.to_owned(),
        http_status,
        status: status.map(str::to_owned),
        error_code: code,
    });
}

/// A `200` answer reporting `txn` with `status`, recorded.
fn report(txn: &mut Transaction, path: &str, status: &str, body: J) -> Response {
    record(txn, path, 200, Some(status), None);
    json(200, body)
}

/// A refusal about `txn`, recorded.
fn refuse(txn: &mut Transaction, path: &str, http: u16, code: u64, message: &str) -> Response {
    record(txn, path, http, None, Some(code));
    error(http, code, message)
}

fn error(status: u16, code: u64, message: &str) -> Response {
    json(
        status,
        o([("error_code", J::U(code)), ("error_message", s(message))]),
    )
}

/// 403/12 unless the key matches.
fn check_key(app: &App, headers: &HeaderMap) -> Result<(), Response> {
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if key == Some(app.config.idpay_api_key.as_str()) {
        Ok(())
    } else {
        Err(error(403, 12, "API Key یافت نشد."))
    }
}

async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
    version: IdPayApi,
) -> Response {
    faulted(&app, GW, Call::Create, || {
        create_inner(&app, &headers, &body, version)
    })
    .await
}

fn create_inner(app: &App, headers: &HeaderMap, body: &Bytes, version: IdPayApi) -> Response {
    if let Err(res) = check_key(app, headers) {
        return res;
    }
    let p = Params::parse(headers, body, false);
    let Some(order_id) = p.non_empty("order_id") else {
        return error(406, 32, "شماره سفارش `order_id` نباید خالی باشد.");
    };
    let amount = match p.amount("amount") {
        Amount::Value(a) => a,
        Amount::Missing | Amount::Invalid => {
            return error(406, 33, "مبلغ `amount` نباید خالی باشد.");
        }
    };
    if amount < 10_000 {
        return error(406, 34, "مبلغ `amount` باید بیشتر از 10,000 ریال باشد.");
    }
    if amount > 500_000_000 {
        return error(406, 35, "مبلغ `amount` باید کمتر از 500,000,000 ریال باشد.");
    }
    let Some(callback) = p.non_empty("callback") else {
        return error(406, 37, "آدرس بازگشت `callback` نباید خالی باشد.");
    };
    let phone = p.non_empty("phone");
    let desc = p.non_empty("desc");
    let too_long =
        |v: &Option<String>, max: usize| v.as_ref().is_some_and(|v| v.chars().count() > max);
    if order_id.chars().count() > 50
        || callback.chars().count() > 255
        || too_long(&desc, 255)
        || phone.as_ref().is_some_and(|p| p.chars().count() != 11)
    {
        return error(405, 51, "تراکنش ایجاد نشد.");
    }
    let sandbox = headers
        .get("x-sandbox")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "true" | "1"));
    let base = public_base(app, headers);
    let mut db = app.lock();
    let now = db.now();
    let id = fresh_key(&db, GW, || random_hex(32));
    let mut txn = new_txn(GW, id.clone(), now);
    txn.reference = Some(random_digits(6));
    txn.order_id = order_id;
    txn.amount = amount;
    txn.payment_amount = amount;
    txn.callback_url = callback;
    txn.description = desc;
    txn.mobile = phone;
    txn.sandbox_header = sandbox;
    txn.idpay_version = Some(version);
    db.insert(txn);
    drop(db);
    let link = format!("{base}/idpay/p/ws-sandbox/{id}");
    json(201, o([("id", s(id)), ("link", s(link))]))
}

/// Looks up `{id, order_id}`; errors 31, 32, 52.
fn lookup<'a>(db: &'a mut crate::store::Db, p: &Params) -> Result<&'a mut Transaction, Response> {
    let Some(id) = p.non_empty("id") else {
        return Err(error(406, 31, "کد تراکنش `id` نباید خالی باشد."));
    };
    let Some(order_id) = p.non_empty("order_id") else {
        return Err(error(406, 32, "شماره سفارش `order_id` نباید خالی باشد."));
    };
    match db.get_mut(GW, &id) {
        Some(txn) if txn.order_id == order_id => Ok(txn),
        _ => Err(error(400, 52, "استعلام نتیجه ای نداشت.")),
    }
}

async fn inquiry_v1(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Inquiry, || {
        if let Err(res) = check_key(&app, &headers) {
            return res;
        }
        let p = Params::parse(&headers, &body, false);
        let mut db = app.lock();
        let now = db.now();
        let txn = match lookup(&mut db, &p) {
            Ok(t) => t,
            Err(res) => return res,
        };
        txn.verify_calls += 1;
        let status = v1_status(txn);
        if status == "100" {
            if txn.state == TxnState::Paid {
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
            }
            txn.successful_verifies += 1;
        }
        let card = card_no(txn);
        let date = txn.paid_at.unwrap_or(txn.created_at);
        let body = o([
            ("status", s(status)),
            ("track_id", s(txn.reference.clone().unwrap_or_default())),
            ("id", s(txn.key.clone())),
            ("order_id", s(txn.order_id.clone())),
            ("amount", s(txn.amount.to_string())),
            ("card_no", s(card)),
            ("date", s(date.to_string())),
        ]);
        report(txn, INQUIRY_V1, status, body)
    })
    .await
}

fn card_no(txn: &Transaction) -> String {
    match txn.state {
        TxnState::Created | TxnState::Cancelled => String::new(),
        _ => txn
            .card_number
            .as_deref()
            .map(mask_idpay)
            .unwrap_or_default(),
    }
}

fn hashed_card(txn: &Transaction) -> String {
    match (&txn.card_number, txn.state) {
        (Some(card), TxnState::Paid | TxnState::Verified | TxnState::Failed) => {
            let digest = Sha256::digest(card.as_bytes());
            digest.iter().map(|b| format!("{b:02X}")).collect()
        }
        _ => String::new(),
    }
}

/// The v1.1 body (verify and inquiry).
fn v11_body(txn: &Transaction, status: &str) -> J {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    o([
        ("status", s(status)),
        ("track_id", s(txn.reference.clone().unwrap_or_default())),
        ("id", s(txn.key.clone())),
        ("order_id", s(txn.order_id.clone())),
        ("amount", s(txn.amount.to_string())),
        ("date", s(txn.created_at.to_string())),
        (
            "payment",
            o([
                (
                    "track_id",
                    s(txn.bank_reference.clone().unwrap_or_default()),
                ),
                ("amount", s(txn.amount.to_string())),
                ("card_no", s(card_no(txn))),
                ("hashed_card_no", s(hashed_card(txn))),
                ("date", s(opt(txn.paid_at.or(txn.returned_at)))),
            ]),
        ),
        ("verify", o([("date", s(opt(txn.verified_at)))])),
    ])
}

async fn inquiry_v11(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Inquiry, || {
        if let Err(res) = check_key(&app, &headers) {
            return res;
        }
        let p = Params::parse(&headers, &body, false);
        let mut db = app.lock();
        let txn = match lookup(&mut db, &p) {
            Ok(t) => t,
            Err(res) => return res,
        };
        txn.inquiry_calls += 1;
        let status = v11_status(txn);
        let body = v11_body(txn, status);
        report(txn, INQUIRY_V11, status, body)
    })
    .await
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        if let Err(res) = check_key(&app, &headers) {
            return res;
        }
        let p = Params::parse(&headers, &body, false);
        let mut db = app.lock();
        let now = db.now();
        let txn = match lookup(&mut db, &p) {
            Ok(t) => t,
            Err(res) => return res,
        };
        txn.verify_calls += 1;
        match txn.state {
            TxnState::Paid => {
                let returned = txn.returned_at.unwrap_or(txn.created_at);
                if now - returned > VERIFY_WINDOW_SECS {
                    let message = "مدت زمان تایید پرداخت سپری شده است.";
                    return refuse(txn, VERIFY_V11, 405, 54, message);
                }
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
                txn.successful_verifies += 1;
                let body = v11_body(txn, "100");
                report(txn, VERIFY_V11, "100", body)
            }
            TxnState::Verified => {
                txn.repeat_verifies += 1;
                let body = v11_body(txn, "101");
                report(txn, VERIFY_V11, "101", body)
            }
            _ => refuse(txn, VERIFY_V11, 405, 53, "تایید پرداخت امکان پذیر نیست."),
        }
    })
    .await
}

async fn page(State(app): State<App>, Path(id): Path<String>) -> Response {
    payment_page(&app, GW, &id)
}
