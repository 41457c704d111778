//! Shared HTTP plumbing: request parameters, faults, responses, pages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use time::macros::{format_description, offset};

use crate::json::J;
use crate::model::{
    ActError, Action, Call, CallbackInstruction, CallbackMethod, Fault, SandboxGateway,
};
use crate::store::Store;

/// The router state.
pub(crate) type App = Arc<Store>;

/// What a request carried, from a JSON object or a form.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, Value>);

/// An amount field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Amount {
    /// Absent, null or empty.
    Missing,
    /// Present but not a non-negative integer.
    Invalid,
    /// A value.
    Value(u64),
}

impl Params {
    /// Parses the body by its content type: JSON always; form data only if `form`.
    pub(crate) fn parse(headers: &HeaderMap, body: &Bytes, form: bool) -> Params {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let json = || match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Some(Params(map.into_iter().collect())),
            _ => None,
        };
        let urlencoded = || {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                .ok()
                .map(|pairs| {
                    Params(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k, Value::String(v)))
                            .collect(),
                    )
                })
        };
        let parsed = if ct.contains("json") {
            json()
        } else if ct.starts_with("application/x-www-form-urlencoded") {
            if form { urlencoded() } else { None }
        } else if ct.is_empty() {
            json().or_else(|| if form { urlencoded() } else { None })
        } else {
            None
        };
        parsed.unwrap_or_default()
    }

    /// A field as a string (numbers and booleans in their JSON spelling); `None` when
    /// absent or null.
    pub(crate) fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A field as a non-empty trimmed string.
    pub(crate) fn non_empty(&self, name: &str) -> Option<String> {
        self.str(name)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    /// A field as it was sent; `None` when absent.
    pub(crate) fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A nested object's fields (Zarinpal's `metadata`); empty when absent or not an object.
    pub(crate) fn object(&self, name: &str) -> Params {
        match self.0.get(name) {
            Some(Value::Object(map)) => Params(map.clone().into_iter().collect()),
            _ => Params::default(),
        }
    }

    /// Whether the field is present (even empty).
    pub(crate) fn has(&self, name: &str) -> bool {
        !matches!(self.0.get(name), None | Some(Value::Null))
    }

    /// An amount: a JSON integer or a string of digits.
    pub(crate) fn amount(&self, name: &str) -> Amount {
        match self.0.get(name) {
            None | Some(Value::Null) => Amount::Missing,
            Some(Value::Number(n)) => n.as_u64().map_or(Amount::Invalid, Amount::Value),
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    Amount::Missing
                } else if s.bytes().all(|b| b.is_ascii_digit()) {
                    s.parse().map_or(Amount::Invalid, Amount::Value)
                } else {
                    Amount::Invalid
                }
            }
            Some(_) => Amount::Invalid,
        }
    }
}

/// A JSON response with this status.
pub(crate) fn json(status: u16, body: J) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, body.encode()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// `YYYY-MM-DD HH:MM:SS` in Iran time (UTC+03:30).
pub(crate) fn iran_time(unix: i64) -> String {
    iran_format(
        unix,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
}

/// `YYYY-MM-DDTHH:MM:SS.000000` in Iran time (UTC+03:30), the shape of Zibal's times.
pub(crate) fn iran_iso_time(unix: i64) -> String {
    iran_format(
        unix,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000000"),
    )
}

fn iran_format(unix: i64, format: &(impl time::formatting::Formattable + ?Sized)) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(offset!(+3:30)))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// Whether a URL is an absolute http(s) URL.
pub(crate) fn is_http_url(s: &str) -> bool {
    url::Url::parse(s)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false)
}

/// The base URL for links: the configured one, or `http://{Host}`.
pub(crate) fn public_base(app: &App, headers: &HeaderMap) -> String {
    if let Some(url) = &app.config.public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Runs a call with whatever fault is set for it.
pub(crate) async fn faulted(
    app: &App,
    gateway: SandboxGateway,
    call: Call,
    handler: impl FnOnce() -> Response,
) -> Response {
    let Some(spec) = app.take_fault(gateway, call) else {
        return handler();
    };
    match spec.fault {
        Fault::Delay { ms } => {
            let res = handler();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            res
        }
        Fault::Status { code } => {
            if spec.after {
                drop(handler());
            }
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            let reason = status.canonical_reason().unwrap_or("Error");
            let page = format!(
                "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            );
            (status, Html(page)).into_response()
        }
        Fault::Malformed => {
            let body = if spec.after {
                let res = handler();
                let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                let cut = bytes.len() / 2;
                let mut body = bytes.slice(..cut).to_vec();
                body.extend_from_slice(b"\x00<!-- upstream reset -->");
                body
            } else {
                b"{\"status\":1,\"data\":{\"ref\x00<!-- upstream reset -->".to_vec()
            };
            let mut res = Response::new(Body::from(body));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res
        }
        Fault::Drop => {
            if spec.after {
                drop(handler());
            }
            // Unwinding out of the connection's task closes the socket without an answer;
            // `resume_unwind` does not run the panic hook, so nothing is printed.
            std::panic::resume_unwind(Box::new("payment-sandbox: dropped connection"))
        }
    }
}

/// HTML-escapes text.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234567` → `1,234,567`.
pub(crate) fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const STYLE: &str = "body{font-family:Vazirmatn,Tahoma,sans-serif;background:#f4f6f8;margin:0;padding:2rem}\
main{max-width:32rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem;box-shadow:0 1px 4px #0002}\
main.wide{max-width:none}.scroll{overflow-x:auto}\
.banner{background:#ea580c;color:#fff;border-radius:6px;padding:.5rem .8rem;margin:0 0 1rem;font-weight:bold}\
@media (max-width:640px){body{padding:.6rem}main{padding:1rem}}\
h1{font-size:1.3rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#555}\
dd{margin:0;font-weight:bold}form.actions{display:grid;gap:.5rem;margin-top:1rem}\
button{font:inherit;padding:.6rem;border-radius:6px;border:1px solid #888;cursor:pointer}\
.pay{background:#1a7f37;color:#fff}.cancel{background:#eee}.warn{background:#fff3cd}.fail{background:#f8d7da}\
.note{color:#a00}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;font-size:.9rem}";

/// The payment page of one transaction.
pub(crate) fn payment_page(app: &App, gateway: SandboxGateway, key: &str) -> Response {
    let txn = {
        let mut db = app.lock();
        db.get_mut(gateway, key).cloned()
    };
    let Some(txn) = txn else {
        return (
            StatusCode::NOT_FOUND,
            Html(page(
                "پرداخت یافت نشد / Payment not found",
                "<p>پرداختی با این شناسه وجود ندارد. / No payment with this id.</p>",
            )),
        )
            .into_response();
    };
    let mut rows = format!(
        "<dt>درگاه / Gateway</dt><dd>{}</dd>\
         <dt>شماره سفارش / Order id</dt><dd id=\"order-id\">{}</dd>\
         <dt>مبلغ / Amount</dt><dd id=\"amount\" data-rial=\"{}\">{} ریال / rial</dd>",
        esc(gateway.display_name()),
        esc(&txn.order_id),
        txn.payment_amount,
        group_digits(txn.payment_amount),
    );
    if txn.payment_amount != txn.amount {
        rows.push_str(&format!(
            "<dt>مبلغ سفارش / Order amount</dt><dd>{} ریال / rial</dd>",
            group_digits(txn.amount)
        ));
    }
    if let Some(card) = &txn.required_card {
        rows.push_str(&format!(
            "<dt>کارت مجاز / Required card</dt><dd dir=\"ltr\">{}</dd>",
            esc(card)
        ));
    }
    let actions = if txn.state == crate::model::TxnState::Created {
        format!(
            "<form class=\"actions\" method=\"post\" action=\"{prefix}/_sandbox/act/{key}\">\
             <button class=\"pay\" name=\"action\" value=\"pay\">پرداخت / Pay</button>\
             <button class=\"cancel\" name=\"action\" value=\"cancel\">انصراف / Cancel</button>\
             <button class=\"warn\" name=\"action\" value=\"wrong_card\">پرداخت با کارت دیگر / Pay with a non-matching card</button>\
             <button class=\"fail\" name=\"action\" value=\"bank_fail\">خطای بانک / Bank failure</button>\
             </form>",
            prefix = gateway.prefix(),
            key = esc(&urlencode_path(key)),
        )
    } else {
        format!(
            "<p class=\"note\">این پرداخت قبلاً انجام شده است. / The buyer already acted on this payment: {}</p>",
            txn.state.name()
        )
    };
    Html(page(
        &format!("{} — درگاه آزمایشی / sandbox", gateway.display_name()),
        &format!("<dl>{rows}</dl>{actions}"),
    ))
    .into_response()
}

fn urlencode_path(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A complete HTML page, with the banner that says no real money moves.
pub(crate) fn page(title: &str, body: &str) -> String {
    page_in("", title, body)
}

/// The same with the whole window's width, for tables.
pub(crate) fn wide_page(title: &str, body: &str) -> String {
    page_in(" class=\"wide\"", title, body)
}

fn page_in(main_attributes: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main{main_attributes}><p class=\"banner\" id=\"sandbox-banner\">درگاه آزمایشی: پولی جابه‌جا نمی‌شود. \
         / Sandbox: no real money moves.</p><h1>{title}</h1>{body}</main></body></html>\n",
        title = esc(title),
    )
}

/// The form that a buyer's action on the payment page posts.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ActForm {
    action: String,
}

/// `POST /{prefix}/_sandbox/act/{key}`.
pub(crate) async fn act_handler(
    gateway: SandboxGateway,
    State(app): State<App>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ActForm>,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let action: Action = match form.action.parse() {
        Ok(a) => a,
        Err(e) => return act_error(wants_json, StatusCode::BAD_REQUEST, "bad_action", &e),
    };
    match app.act(gateway, &key, action) {
        Ok(cb) if wants_json => json(200, instruction_json(&cb)),
        Ok(cb) => callback_response(&cb),
        Err(err @ ActError::UnknownPayment) => act_error(
            wants_json,
            StatusCode::NOT_FOUND,
            "unknown_payment",
            &err.to_string(),
        ),
        Err(err) => act_error(
            wants_json,
            StatusCode::CONFLICT,
            "already_acted",
            &err.to_string(),
        ),
    }
}

fn act_error(wants_json: bool, status: StatusCode, code: &'static str, message: &str) -> Response {
    if wants_json {
        let body = J::O(vec![
            ("error", J::S(code.to_owned())),
            ("message", J::S(message.to_owned())),
        ]);
        json(status.as_u16(), body)
    } else {
        (
            status,
            Html(page(
                "خطا / Error",
                &format!("<p class=\"note\">{}</p>", esc(message)),
            )),
        )
            .into_response()
    }
}

/// The instruction as JSON (`{"method","url","fields":[[k,v],…]}`).
pub(crate) fn instruction_json(cb: &CallbackInstruction) -> J {
    let method = match cb.method {
        CallbackMethod::Get => "GET",
        CallbackMethod::Post => "POST",
    };
    J::O(vec![
        ("method", J::S(method.to_owned())),
        ("url", J::S(cb.url.clone())),
        (
            "fields",
            J::A(
                cb.fields
                    .iter()
                    .map(|(k, v)| J::A(vec![J::S(k.clone()), J::S(v.clone())]))
                    .collect(),
            ),
        ),
    ])
}

/// The browser's way back: a 303 for GET callbacks, an auto-submitting form for POST.
pub(crate) fn callback_response(cb: &CallbackInstruction) -> Response {
    match cb.method {
        CallbackMethod::Get => {
            let mut res = StatusCode::SEE_OTHER.into_response();
            if let Ok(loc) = HeaderValue::from_str(&cb.url) {
                res.headers_mut().insert(header::LOCATION, loc);
            }
            res
        }
        CallbackMethod::Post => {
            let inputs: String = cb
                .fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        esc(k),
                        esc(v)
                    )
                })
                .collect();
            let body = format!(
                "<p>در حال بازگشت به فروشگاه… / Returning to the shop…</p>\
                 <form id=\"callback\" method=\"post\" action=\"{}\">{inputs}\
                 <button type=\"submit\">بازگشت به فروشگاه / Return to the shop</button></form>\
                 <script>document.getElementById('callback').submit();</script>",
                esc(&cb.url)
            );
            Html(page("بازگشت / Returning", &body)).into_response()
        }
    }
}
