//! Zarinpal: `/zarinpal/pg/v4/payment/{request,verify,inquiry,unVerified,reverse}.json`,
//! payment page `/zarinpal/pg/StartPay/{authority}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use sha2::{Digest, Sha256};

use crate::http::{Amount, App, Params, faulted, iran_time, is_http_url, json, payment_page};
use crate::json::{J, empty_array, o, s};
use crate::model::{Call, SandboxGateway, Transaction, TxnState};
use crate::store::{fresh_key, is_card, mask_idpay, new_txn, random_lower_alnum};

const GW: SandboxGateway = SandboxGateway::Zarinpal;
/// How long after the payment a verified payment can be reversed, in seconds (the
/// document's -63: 30 minutes).
pub(crate) const REVERSE_WINDOW_SECS: i64 = 30 * 60;
/// The smallest amount, in rial (1,000 toman).
pub(crate) const MIN_RIAL: u64 = 10_000;
/// The largest amount, in rial (the document's -41: 100,000,000 toman).
pub(crate) const MAX_RIAL: u64 = 1_000_000_000;
/// The HTTP status of every error answer (the document gives none; clients see 422 for
/// validation errors).
const ERROR_HTTP: u16 = 422;

/// The document's error codes and messages.
pub(crate) mod code {
    /// Validation error: `validations` names the fields.
    pub(crate) const VALIDATION: i64 = -9;
    /// The merchant id is not the sandbox's.
    pub(crate) const TERMINAL: i64 = -10;
    /// The amount is over 100,000,000 toman.
    pub(crate) const MAX_AMOUNT: i64 = -41;
    /// Verify with an amount other than the request's.
    pub(crate) const AMOUNT_MISMATCH: i64 = -50;
    /// Verify of a payment that was not paid (not yet, cancelled, failed, reversed).
    pub(crate) const NOT_PAID: i64 = -51;
    /// No payment with this authority.
    pub(crate) const INVALID_AUTHORITY: i64 = -54;
    /// Reverse of a payment that is not verified, or is reversed already.
    pub(crate) const NOT_SUCCESS: i64 = -61;
    /// Reverse more than 30 minutes after the payment.
    pub(crate) const REVERSE_EXPIRED: i64 = -63;
}

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/zarinpal/pg/v4/payment/request.json", post(create))
        .route("/zarinpal/pg/v4/payment/verify.json", post(verify))
        .route("/zarinpal/pg/v4/payment/inquiry.json", post(inquiry))
        .route("/zarinpal/pg/v4/payment/unVerified.json", post(unverified))
        .route("/zarinpal/pg/v4/payment/reverse.json", post(reverse))
        .route("/zarinpal/pg/StartPay/{authority}", get(page))
        .route("/zarinpal/pg/StartPay/{authority}/ZarinGate", get(page))
}

/// `{"data":[],"errors":{"code","message","validations"}}`.
fn error(code: i64, message: &str, validations: Vec<(&'static str, String)>) -> Response {
    let validations = validations
        .into_iter()
        .map(|(field, message)| J::O(vec![(field, J::S(message))]))
        .collect();
    json(
        ERROR_HTTP,
        o([
            ("data", empty_array()),
            (
                "errors",
                o([
                    ("code", J::I(code)),
                    ("message", s(message)),
                    ("validations", J::A(validations)),
                ]),
            ),
        ]),
    )
}

/// `{"data":{…},"errors":[]}`.
fn success(data: J) -> Response {
    json(200, o([("data", data), ("errors", empty_array())]))
}

/// Collected field errors, answered together as one -9.
#[derive(Default)]
struct Validations(Vec<(&'static str, String)>);

impl Validations {
    fn add(&mut self, field: &'static str, message: &str) {
        self.0.push((field, message.to_owned()));
    }

    /// A -9 answer when any field was wrong.
    fn check(self) -> Result<(), Response> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(error(
                code::VALIDATION,
                "The input params invalid, validation error.",
                self.0,
            ))
        }
    }
}

/// Validates `merchant_id`'s shape; returns it when it has one.
fn merchant_field(p: &Params, v: &mut Validations) -> Option<String> {
    match p.non_empty("merchant_id") {
        None => {
            v.add("merchant_id", "The merchant id field is required.");
            None
        }
        Some(id) if id.chars().count() != 36 => {
            v.add("merchant_id", "The merchant id must be 36 characters.");
            None
        }
        Some(id) => Some(id),
    }
}

/// -10 unless the merchant id is the sandbox's.
fn check_merchant(app: &App, merchant: Option<&str>) -> Result<(), Response> {
    if merchant == Some(app.config.zarinpal_merchant_id.as_str()) {
        Ok(())
    } else {
        Err(error(
            code::TERMINAL,
            "Terminal is not valid, please check merchant_id or ip address.",
            Vec::new(),
        ))
    }
}

/// The usual `merchant_id` + `authority` pair (inquiry, reverse).
fn merchant_and_authority(app: &App, p: &Params) -> Result<String, Response> {
    let mut v = Validations::default();
    let merchant = merchant_field(p, &mut v);
    let authority = p.non_empty("authority");
    if authority.is_none() {
        v.add("authority", "The authority field is required.");
    }
    v.check()?;
    check_merchant(app, merchant.as_deref())?;
    Ok(authority.unwrap_or_default())
}

fn invalid_authority() -> Response {
    error(code::INVALID_AUTHORITY, "Invalid authority.", Vec::new())
}

/// The amount as the merchant stated it: toman for `IRT`, rial otherwise.
fn stated_amount(txn: &Transaction) -> u64 {
    if txn.currency.as_deref() == Some("IRT") {
        txn.amount / 10
    } else {
        txn.amount
    }
}

async fn create(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Create, || {
        create_inner(&app, &headers, &body)
    })
    .await
}

fn create_inner(app: &App, headers: &HeaderMap, body: &Bytes) -> Response {
    let p = Params::parse(headers, body, false);
    let mut v = Validations::default();
    let merchant = merchant_field(&p, &mut v);
    let currency = p.non_empty("currency");
    let toman = match currency.as_deref() {
        None | Some("IRR") => false,
        Some("IRT") => true,
        Some(_) => {
            v.add("currency", "The selected currency is invalid.");
            false
        }
    };
    let (unit_min, factor) = if toman {
        (MIN_RIAL / 10, 10)
    } else {
        (MIN_RIAL, 1)
    };
    let amount = match p.amount("amount") {
        Amount::Value(a) if a >= unit_min => Some(a),
        Amount::Value(_) => {
            v.add(
                "amount",
                &format!("The amount must be at least {unit_min}."),
            );
            None
        }
        Amount::Missing => {
            v.add("amount", "The amount field is required.");
            None
        }
        Amount::Invalid => {
            v.add("amount", "The amount must be an integer.");
            None
        }
    };
    let description = p.non_empty("description");
    match &description {
        None => v.add("description", "The description field is required."),
        Some(d) if d.chars().count() > 500 => v.add(
            "description",
            "The description may not be greater than 500 characters.",
        ),
        Some(_) => {}
    }
    let callback = p.non_empty("callback_url");
    match &callback {
        None => v.add("callback_url", "The callback url field is required."),
        Some(url) if !is_http_url(url) => {
            v.add("callback_url", "The callback url format is invalid.");
        }
        Some(_) => {}
    }
    let metadata = p.object("metadata");
    let mobile = metadata.non_empty("mobile");
    if mobile.as_ref().is_some_and(|m| {
        m.len() != 11 || !m.starts_with("09") || !m.bytes().all(|b| b.is_ascii_digit())
    }) {
        v.add("metadata.mobile", "The metadata.mobile format is invalid.");
    }
    let email = metadata.non_empty("email");
    if email.as_ref().is_some_and(|e| {
        !e.split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
    }) {
        v.add(
            "metadata.email",
            "The metadata.email must be a valid email address.",
        );
    }
    let card_pan = metadata.non_empty("card_pan");
    if card_pan
        .as_ref()
        .is_some_and(|c| c.len() != 16 || !is_card(c))
    {
        v.add(
            "metadata.card_pan",
            "The metadata.card pan format is invalid.",
        );
    }
    if let Err(res) = v.check() {
        return res;
    }
    if let Err(res) = check_merchant(app, merchant.as_deref()) {
        return res;
    }
    let rial = amount.unwrap_or_default().saturating_mul(factor);
    if rial > MAX_RIAL {
        return error(
            code::MAX_AMOUNT,
            "Maximum amount is 100,000,000 tomans.",
            Vec::new(),
        );
    }
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut db = app.lock();
    let now = db.now();
    let authority = fresh_key(&db, GW, || {
        format!("A{}{}", "0".repeat(27), random_lower_alnum(8))
    });
    let mut txn = new_txn(GW, authority.clone(), now);
    txn.order_id = metadata.non_empty("order_id").unwrap_or_default();
    txn.amount = rial;
    txn.payment_amount = rial;
    txn.callback_url = callback.unwrap_or_default();
    txn.description = description;
    txn.mobile = mobile;
    txn.email = email;
    txn.currency = currency;
    txn.referer = referer;
    txn.required_card = card_pan;
    db.insert(txn);
    success(o([
        ("code", J::U(100)),
        ("message", s("Success")),
        ("authority", s(authority)),
        ("fee_type", s("Merchant")),
        ("fee", J::U(0)),
    ]))
}

/// The verify body, for 100 and 101 alike.
fn verified_body(txn: &Transaction, code: u64) -> J {
    let card = txn.card_number.as_deref().unwrap_or_default();
    let hash: String = Sha256::digest(card.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let ref_id = txn
        .bank_reference
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    o([
        ("code", J::U(code)),
        ("message", s(if code == 100 { "Paid" } else { "Verified" })),
        ("card_hash", s(hash)),
        ("card_pan", s(mask_idpay(card))),
        ("ref_id", J::U(ref_id)),
        ("fee_type", s("Merchant")),
        ("fee", J::U(0)),
    ])
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        let p = Params::parse(&headers, &body, false);
        let mut v = Validations::default();
        let merchant = merchant_field(&p, &mut v);
        let authority = p.non_empty("authority");
        if authority.is_none() {
            v.add("authority", "The authority field is required.");
        }
        let amount = match p.amount("amount") {
            Amount::Value(a) => Some(a),
            Amount::Missing => {
                v.add("amount", "The amount field is required.");
                None
            }
            Amount::Invalid => {
                v.add("amount", "The amount must be an integer.");
                None
            }
        };
        if let Err(res) = v.check() {
            return res;
        }
        if let Err(res) = check_merchant(&app, merchant.as_deref()) {
            return res;
        }
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.get_mut(GW, &authority.unwrap_or_default()) else {
            return invalid_authority();
        };
        txn.verify_calls += 1;
        match txn.state {
            TxnState::Paid | TxnState::Verified if amount != Some(stated_amount(txn)) => error(
                code::AMOUNT_MISMATCH,
                "Session is not valid, amounts values is not the same.",
                Vec::new(),
            ),
            TxnState::Paid => {
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
                txn.successful_verifies += 1;
                success(verified_body(txn, 100))
            }
            TxnState::Verified => {
                txn.repeat_verifies += 1;
                success(verified_body(txn, 101))
            }
            _ => error(
                code::NOT_PAID,
                "Session is not valid, session is not active paid try.",
                Vec::new(),
            ),
        }
    })
    .await
}

async fn inquiry(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Inquiry, || {
        let p = Params::parse(&headers, &body, false);
        let authority = match merchant_and_authority(&app, &p) {
            Ok(a) => a,
            Err(res) => return res,
        };
        let mut db = app.lock();
        let Some(txn) = db.get_mut(GW, &authority) else {
            return invalid_authority();
        };
        txn.inquiry_calls += 1;
        let status = match txn.state {
            TxnState::Created => "IN_BANK",
            TxnState::Paid => "PAID",
            TxnState::Verified => "VERIFIED",
            TxnState::Cancelled | TxnState::Failed | TxnState::CardMismatch => "FAILED",
            TxnState::Reversed => "REVERSED",
        };
        success(o([
            ("code", J::U(100)),
            ("message", s("Success")),
            ("status", s(status)),
        ]))
    })
    .await
}

async fn unverified(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Inquiry, || {
        let p = Params::parse(&headers, &body, false);
        let mut v = Validations::default();
        let merchant = merchant_field(&p, &mut v);
        if let Err(res) = v.check() {
            return res;
        }
        if let Err(res) = check_merchant(&app, merchant.as_deref()) {
            return res;
        }
        let db = app.lock();
        let authorities = db
            .txns
            .iter()
            .filter(|t| t.gateway == GW && t.state == TxnState::Paid)
            .map(|t| {
                o([
                    ("authority", s(t.key.clone())),
                    ("amount", J::U(stated_amount(t))),
                    ("callback_url", s(t.callback_url.clone())),
                    ("referer", s(t.referer.clone().unwrap_or_default())),
                    ("date", s(iran_time(t.created_at))),
                ])
            })
            .collect();
        success(o([
            ("code", J::U(100)),
            ("message", s("Success")),
            ("authorities", J::A(authorities)),
        ]))
    })
    .await
}

async fn reverse(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Reverse, || {
        let p = Params::parse(&headers, &body, false);
        let authority = match merchant_and_authority(&app, &p) {
            Ok(a) => a,
            Err(res) => return res,
        };
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.get_mut(GW, &authority) else {
            return invalid_authority();
        };
        txn.reverse_calls += 1;
        match txn.state {
            TxnState::Verified => {
                let paid = txn.paid_at.unwrap_or(txn.created_at);
                if now - paid > REVERSE_WINDOW_SECS {
                    return error(
                        code::REVERSE_EXPIRED,
                        "Maximum time for reverse this session is expired.",
                        Vec::new(),
                    );
                }
                txn.state = TxnState::Reversed;
                txn.reversed_at = Some(now);
                success(o([("code", J::U(100)), ("message", s("Reversed"))]))
            }
            _ => error(
                code::NOT_SUCCESS,
                "Session is not in success status.",
                Vec::new(),
            ),
        }
    })
    .await
}

async fn page(State(app): State<App>, Path(authority): Path<String>) -> Response {
    payment_page(&app, GW, &authority)
}
