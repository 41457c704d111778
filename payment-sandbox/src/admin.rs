//! The admin API under `/_admin`.
//!
//! A development tool for loopback, never to be exposed. Even there a page the developer
//! opens on another site could post to it, so writes must be JSON (a cross-site JSON
//! post needs a CORS preflight, which is never granted) and must not say they come from
//! another site (`Sec-Fetch-Site`, `Origin`).

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::http::{App, esc, group_digits, iran_time, wide_page};
use crate::model::{Call, Fault, FaultSpec, SandboxGateway};

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/_admin", get(html))
        .route("/_admin/", get(html))
        .route("/_admin/transactions", get(transactions))
        .route(
            "/_admin/faults",
            get(list_faults).post(set_fault).delete(clear_faults),
        )
        .route("/_admin/clock/advance", post(advance_clock))
}

fn json_value(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Proof that a write to the admin API came from the sandbox's own page or a local tool.
struct LocalWrite;

impl<S: Send + Sync> FromRequestParts<S> for LocalWrite {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        if is_cross_site(headers) {
            return Err(json_value(
                StatusCode::FORBIDDEN,
                serde_json::json!({ "error": "the admin API refuses writes from other sites" })
                    .to_string(),
            ));
        }
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if parts.method == Method::POST && !json {
            return Err(json_value(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                serde_json::json!({ "error": "send the body as application/json" }).to_string(),
            ));
        }
        Ok(LocalWrite)
    }
}

/// Whether the browser says the request came from another site: `Sec-Fetch-Site`
/// other than `same-origin`/`none`, or an `Origin` whose host is not the `Host` asked.
fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, host)| host.as_bytes());
    origin_host.is_none() || origin_host != host
}

fn bad_request(message: &str) -> Response {
    json_value(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "error": message }).to_string(),
    )
}

async fn transactions(State(app): State<App>) -> Response {
    let txns = app.lock().txns.clone();
    json_value(
        StatusCode::OK,
        serde_json::to_string(&txns).unwrap_or_else(|_| "[]".to_owned()),
    )
}

#[derive(Deserialize)]
struct FaultRequest {
    gateway: SandboxGateway,
    call: Call,
    fault: Fault,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default)]
    after: bool,
}

async fn set_fault(State(app): State<App>, _: LocalWrite, body: Bytes) -> Response {
    let req: FaultRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&e.to_string()),
    };
    if let Fault::Status { code } = req.fault
        && !(100..=599).contains(&code)
    {
        return bad_request("status code must be 100..=599");
    }
    if req.times == Some(0) {
        return bad_request("times must be at least 1");
    }
    let spec = FaultSpec {
        fault: req.fault,
        times: req.times,
        after: req.after,
    };
    app.set_fault(req.gateway, req.call, spec);
    list_faults(State(app)).await
}

async fn list_faults(State(app): State<App>) -> Response {
    let mut faults: Vec<_> = app
        .lock()
        .faults
        .iter()
        .map(|((g, c), spec)| {
            serde_json::json!({
                "gateway": g,
                "call": c,
                "fault": spec.fault,
                "times": spec.times,
                "after": spec.after,
            })
        })
        .collect();
    faults.sort_by_key(|v| v.to_string());
    json_value(StatusCode::OK, serde_json::Value::Array(faults).to_string())
}

async fn clear_faults(State(app): State<App>, _: LocalWrite) -> Response {
    app.clear_faults();
    json_value(StatusCode::OK, "[]".to_owned())
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(State(app): State<App>, _: LocalWrite, body: Bytes) -> Response {
    let req: Advance = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&e.to_string()),
    };
    app.advance_clock(Duration::from_secs(req.seconds));
    let now = app.lock().now();
    json_value(StatusCode::OK, format!("{{\"now\":{now}}}"))
}

async fn html(State(app): State<App>) -> Response {
    let txns = app.lock().txns.clone();
    let time = |t: Option<i64>| t.map(iran_time).unwrap_or_default();
    let mut rows = String::new();
    for t in txns.iter().rev() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td dir=\"ltr\">{}</td><td dir=\"ltr\">{}</td><td dir=\"ltr\">{}</td>\
             <td dir=\"ltr\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td dir=\"ltr\">{}</td><td dir=\"ltr\">{}</td></tr>",
            t.gateway,
            esc(&t.key),
            esc(t.reference.as_deref().unwrap_or("")),
            esc(&t.order_id),
            group_digits(t.amount),
            t.state.name(),
            t.verify_calls,
            t.successful_verifies,
            t.repeat_verifies,
            time(Some(t.created_at)),
            time(t.paid_at),
        ));
    }
    let body = format!(
        "<p class=\"warn\">A development tool for loopback: never expose the sandbox to a \
         network. / ابزار توسعه روی همین رایانه؛ هرگز آن را در شبکه در دسترس نگذارید.</p>\
         <p><a href=\"/_admin/transactions\">JSON</a> · times in Iran time (UTC+03:30)</p>\
         <div class=\"scroll\"><table><thead><tr><th>gateway</th><th>key</th><th>reference</th><th>order id</th>\
         <th>amount (rial)</th><th>state</th><th>verify calls</th><th>successful verifies</th>\
         <th>repeat verifies</th><th>created</th><th>paid</th></tr></thead><tbody>{rows}</tbody></table></div>"
    );
    Html(wide_page("تراکنش‌ها / Transactions", &body)).into_response()
}
