//! CanPay: `/canpay/api/ipg/{token,verify}`, payment page `/canpay/ipg/{token}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use crate::http::{Amount, App, Params, faulted, is_http_url, json, payment_page, public_base};
use crate::json::{INVENTED, J, NOTE_FIELD, o, s};
use crate::model::{Call, SandboxGateway, TxnState};
use crate::store::{fresh_key, mask_dashed, new_txn, random_upper};

const GW: SandboxGateway = SandboxGateway::CanPay;
/// Unverified payments are refunded to the buyer after this many seconds.
pub(crate) const REFUND_AFTER_SECS: i64 = 15 * 60;

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/canpay/api/ipg/token", post(create))
        .route("/canpay/api/ipg/verify", post(verify))
        .route("/canpay/ipg/{token}", get(page))
}

/// Error codes (the document has no table; these are the sandbox's own, and every error
/// answer says so in `sandbox_note`).
pub(crate) mod code {
    /// A required field is missing or invalid (HTTP 422).
    pub(crate) const VALIDATION: u64 = 1;
    /// The merchant code is wrong (HTTP 401).
    pub(crate) const MERCHANT: u64 = 2;
    /// No payment with this token (HTTP 404).
    pub(crate) const UNKNOWN_TOKEN: u64 = 3;
    /// The payment was not paid: not yet, cancelled or failed (HTTP 400).
    pub(crate) const NOT_PAID: u64 = 4;
    /// Paid but not verified within 15 minutes: refunded to the buyer (HTTP 400).
    pub(crate) const REFUNDED: u64 = 5;
}

fn error(http: u16, code: u64, error: &str, message: &str) -> Response {
    json(
        http,
        o([
            ("status", J::B(false)),
            ("error", s(error)),
            ("code", J::U(code)),
            ("message", s(message)),
            ("description", s("")),
            (NOTE_FIELD, s(INVENTED)),
        ]),
    )
}

fn check_merchant(app: &App, p: &Params) -> Result<(), Response> {
    match p.non_empty("merchant") {
        None => Err(error(
            422,
            code::VALIDATION,
            "validation",
            "The merchant field is required.",
        )),
        Some(m) if m == app.config.canpay_merchant => Ok(()),
        Some(_) => Err(error(
            401,
            code::MERCHANT,
            "invalid_merchant",
            "Merchant is not valid.",
        )),
    }
}

async fn create(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Create, || {
        let p = Params::parse(&headers, &body, false);
        if let Err(res) = check_merchant(&app, &p) {
            return res;
        }
        let amount = match p.amount("amount") {
            Amount::Value(a) if a > 0 => a,
            Amount::Missing => {
                return error(
                    422,
                    code::VALIDATION,
                    "validation",
                    "The amount field is required.",
                );
            }
            _ => {
                return error(
                    422,
                    code::VALIDATION,
                    "validation",
                    "The amount must be a positive integer.",
                );
            }
        };
        let callback = match p.non_empty("callback_url") {
            Some(url) if is_http_url(&url) => url,
            Some(_) => {
                return error(
                    422,
                    code::VALIDATION,
                    "validation",
                    "The callback url format is invalid.",
                );
            }
            None => {
                return error(
                    422,
                    code::VALIDATION,
                    "validation",
                    "The callback url field is required.",
                );
            }
        };
        let Some(invoice_id) = p.non_empty("invoice_id") else {
            return error(
                422,
                code::VALIDATION,
                "validation",
                "The invoice id field is required.",
            );
        };
        let base = public_base(&app, &headers);
        let mut db = app.lock();
        if db.order_id_used(GW, &invoice_id) {
            // «invoice_id … باید به صورت یکتا ارسال شود»; the document names no answer for
            // a reused one, so the sandbox answers as for its other invalid fields.
            drop(db);
            return error(
                422,
                code::VALIDATION,
                "validation",
                "The invoice id has already been taken.",
            );
        }
        let now = db.now();
        let token = fresh_key(&db, GW, || random_upper(30));
        let mut txn = new_txn(GW, token.clone(), now);
        txn.order_id = invoice_id;
        txn.amount = amount;
        txn.payment_amount = amount;
        txn.callback_url = callback;
        txn.mobile = p.non_empty("mobile");
        db.insert(txn);
        let url = format!("{base}/canpay/ipg/{token}");
        json(
            200,
            o([
                ("status", J::B(true)),
                ("data", o([("url", s(url)), ("token", s(token))])),
            ]),
        )
    })
    .await
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        let p = Params::parse(&headers, &body, false);
        if let Err(res) = check_merchant(&app, &p) {
            return res;
        }
        let Some(token) = p.non_empty("token") else {
            return error(
                422,
                code::VALIDATION,
                "validation",
                "The token field is required.",
            );
        };
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.get_mut(GW, &token) else {
            return error(
                404,
                code::UNKNOWN_TOKEN,
                "not_found",
                "Transaction not found.",
            );
        };
        txn.verify_calls += 1;
        match txn.state {
            TxnState::Paid | TxnState::Verified => {
                if txn.state == TxnState::Paid {
                    let returned = txn.returned_at.unwrap_or(txn.created_at);
                    if now - returned > REFUND_AFTER_SECS {
                        return error(
                            400,
                            code::REFUNDED,
                            "refunded",
                            "Transaction was not verified in time and has been refunded.",
                        );
                    }
                    txn.state = TxnState::Verified;
                    txn.verified_at = Some(now);
                }
                txn.successful_verifies += 1;
                json(
                    200,
                    o([
                        ("status", J::B(true)),
                        (
                            "data",
                            o([
                                (
                                    "card",
                                    s(txn
                                        .card_number
                                        .as_deref()
                                        .map(mask_dashed)
                                        .unwrap_or_default()),
                                ),
                                (
                                    "reference",
                                    s(txn.bank_reference.clone().unwrap_or_default()),
                                ),
                            ]),
                        ),
                    ]),
                )
            }
            _ => error(400, code::NOT_PAID, "not_paid", "Transaction is not paid."),
        }
    })
    .await
}

async fn page(State(app): State<App>, Path(token): Path<String>) -> Response {
    payment_page(&app, GW, &token)
}
