//! GardeshPay: `/gardeshpay[/v1]/provider/payment/{getToken,redirect/{token},verify}`.
//!
//! The document names no content type, no credential and no amount unit: a JSON or form
//! body is read alike, the merchant token may come as a `token` field or an
//! `Authorization: Bearer` header, and amounts are in the configured unit.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use time::PrimitiveDateTime;
use time::macros::format_description;

use crate::http::{Amount, App, Params, faulted, is_http_url, json, payment_page, public_base};
use crate::json::{INVENTED, J, NOTE_FIELD, o, s};
use crate::model::{Call, SandboxGateway, TxnState};
use crate::store::{fresh_key, mask_idpay, new_txn, random_hex};

const GW: SandboxGateway = SandboxGateway::GardeshPay;

/// Error codes (the document has no table; these are the sandbox's own, and every error
/// answer says so in `sandbox_note`).
pub(crate) mod code {
    /// One or more fields are missing or invalid (HTTP 422); `errors` lists them.
    pub(crate) const VALIDATION: u64 = 1;
    /// The merchant token is wrong or missing (HTTP 401).
    pub(crate) const TOKEN: u64 = 2;
    /// No payment with this tracking number (HTTP 404).
    pub(crate) const UNKNOWN: u64 = 3;
    /// The payment was not paid: cancelled or failed at the bank (HTTP 400).
    pub(crate) const NOT_PAID: u64 = 4;
}

pub(crate) fn routes() -> Router<App> {
    let mut router = Router::new();
    for prefix in ["/gardeshpay", "/gardeshpay/v1"] {
        router = router
            .route(
                &format!("{prefix}/provider/payment/getToken"),
                post(move |st: State<App>, h: HeaderMap, b: Bytes| create(st, h, b, prefix)),
            )
            .route(&format!("{prefix}/provider/payment/verify"), post(verify))
            .route(
                &format!("{prefix}/provider/payment/redirect/{{token}}"),
                get(page),
            );
    }
    router
}

fn error(http: u16, code: u64, message: &str, errors: Vec<String>) -> Response {
    json(
        http,
        o([
            ("success", J::B(false)),
            ("code", J::U(code)),
            ("message", s(message)),
            ("errors", J::A(errors.into_iter().map(J::S).collect())),
            (NOTE_FIELD, s(INVENTED)),
        ]),
    )
}

/// The token of an `Authorization: Bearer {token}` header, if there is one.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// With a merchant token configured: the request carries it as a `token` field or an
/// `Authorization: Bearer` header (either is a guess), and every token it carries is that
/// one.
fn check_token(app: &App, headers: &HeaderMap, p: &Params) -> Result<(), Response> {
    let Some(expected) = &app.config.gardeshpay_token else {
        return Ok(());
    };
    let given: Vec<String> = p.str("token").into_iter().chain(bearer(headers)).collect();
    if given.is_empty() || given.iter().any(|t| t != expected) {
        return Err(error(
            401,
            code::TOKEN,
            "توکن پذیرنده معتبر نیست.",
            vec!["token is invalid".to_owned()],
        ));
    }
    Ok(())
}

async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
    prefix: &'static str,
) -> Response {
    faulted(&app, GW, Call::Create, || {
        let p = Params::parse(&headers, &body, true);
        if let Err(res) = check_token(&app, &headers, &p) {
            return res;
        }
        let mut errors = Vec::new();
        let per_unit = app.config.gardeshpay_amount_unit.rial_per_unit();
        // Recorded in rial, whatever the unit it came in.
        let amount = match p.amount("amount") {
            Amount::Value(a) if a > 0 => match a.checked_mul(per_unit) {
                Some(rial) => rial,
                None => {
                    errors.push("amount is too large".to_owned());
                    0
                }
            },
            Amount::Missing => {
                errors.push("amount is required".to_owned());
                0
            }
            _ => {
                errors.push("amount must be a positive integer".to_owned());
                0
            }
        };
        let invoice_number = p.non_empty("invoiceNumber");
        if invoice_number.is_none() {
            errors.push("invoiceNumber is required".to_owned());
        }
        let invoice_date = p.non_empty("invoiceDate");
        match &invoice_date {
            None => errors.push("invoiceDate is required".to_owned()),
            Some(d)
                if PrimitiveDateTime::parse(
                    d,
                    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
                )
                .is_err() =>
            {
                errors.push("invoiceDate must be in format YYYY-MM-DDTHH:mm:ss".to_owned());
            }
            Some(_) => {}
        }
        let callback = p.non_empty("callback");
        match &callback {
            None => errors.push("callback is required".to_owned()),
            Some(url) if !is_http_url(url) => errors.push("callback must be a URL".to_owned()),
            Some(_) => {}
        }
        if !errors.is_empty() {
            return error(422, code::VALIDATION, "اطلاعات ارسالی معتبر نیست.", errors);
        }
        let base = public_base(&app, &headers);
        let mut db = app.lock();
        if invoice_number
            .as_deref()
            .is_some_and(|id| db.order_id_used(GW, id))
        {
            // "invoiceNumber: a unique identifier"; the answer to a reused one is the
            // sandbox's, as for its other invalid fields.
            drop(db);
            return error(
                422,
                code::VALIDATION,
                "اطلاعات ارسالی معتبر نیست.",
                vec!["invoiceNumber has been used before".to_owned()],
            );
        }
        let now = db.now();
        let token = fresh_key(&db, GW, || random_hex(32));
        let mut txn = new_txn(GW, token.clone(), now);
        txn.order_id = invoice_number.unwrap_or_default();
        txn.amount = amount;
        txn.payment_amount = amount;
        txn.callback_url = callback.unwrap_or_default();
        txn.invoice_date = invoice_date;
        txn.mobile = p.non_empty("mobile");
        db.insert(txn);
        json(
            200,
            o([
                ("success", J::B(true)),
                (
                    "data",
                    o([
                        (
                            "url",
                            s(format!("{base}{prefix}/provider/payment/redirect")),
                        ),
                        ("token", s(token)),
                    ]),
                ),
                ("message", s("عملیات با موفقیت انجام شد.")),
            ]),
        )
    })
    .await
}

async fn verify(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    faulted(&app, GW, Call::Verify, || {
        let p = Params::parse(&headers, &body, true);
        if let Err(res) = check_token(&app, &headers, &p) {
            return res;
        }
        let per_unit = app.config.gardeshpay_amount_unit.rial_per_unit();
        let Some(tracking) = p.non_empty("trackingNumber") else {
            return error(
                422,
                code::VALIDATION,
                "اطلاعات ارسالی معتبر نیست.",
                vec!["trackingNumber is required".to_owned()],
            );
        };
        let mut db = app.lock();
        let now = db.now();
        let Some(txn) = db.find_mut(GW, |t| t.reference.as_deref() == Some(&tracking)) else {
            return error(404, code::UNKNOWN, "تراکنش یافت نشد.", Vec::new());
        };
        txn.verify_calls += 1;
        let verified_before = match txn.state {
            TxnState::Paid => {
                txn.state = TxnState::Verified;
                txn.verified_at = Some(now);
                txn.successful_verifies += 1;
                false
            }
            TxnState::Verified => {
                txn.repeat_verifies += 1;
                true
            }
            _ => return error(400, code::NOT_PAID, "پرداخت ناموفق بوده است.", Vec::new()),
        };
        json(
            200,
            o([
                ("success", J::B(true)),
                (
                    "data",
                    o([
                        (
                            "cardNumber",
                            s(txn
                                .card_number
                                .as_deref()
                                .map(mask_idpay)
                                .unwrap_or_default()),
                        ),
                        (
                            "refNumber",
                            s(txn.bank_reference.clone().unwrap_or_default()),
                        ),
                        ("message", s("پرداخت با موفقیت انجام شد.")),
                        ("invoiceNumber", s(txn.order_id.clone())),
                        (
                            "invoiceDate",
                            s(txn.invoice_date.clone().unwrap_or_default()),
                        ),
                    ]),
                ),
                ("amount", J::U(txn.amount / per_unit)),
                ("verifiedBefore", J::B(verified_before)),
                ("message", s("عملیات با موفقیت انجام شد.")),
            ]),
        )
    })
    .await
}

async fn page(State(app): State<App>, Path(token): Path<String>) -> Response {
    payment_page(&app, GW, &token)
}
