//! The few steps every callback route shares: find the configuration, check where the
//! route is mounted, turn the actix request into a [`CallbackRequest`], run the core
//! pipeline, and write pages and cookies onto responses. No payment rule lives here.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{
    HttpRequest, HttpResponse,
    body::{BodyStream, to_bytes_limited},
    dev,
    http::{
        Method, StatusCode,
        header::{self, CacheControl, CacheDirective, ContentType, HeaderMap, HeaderValue},
    },
    web,
};
use payment_core::{
    CallbackError, CallbackRequest, CallbackResult, GatewayId, Outcome, Payments, Rejection,
    StateCookie,
};

/// The largest callback body read. Gateways post a handful of short fields; the core
/// pipeline refuses anything past 64 fields of 2 KiB anyway.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// The configuration registered on the app: `web::Data<Payments>` or a plain `Payments`.
pub(crate) fn payments_from(req: &HttpRequest) -> Option<Payments> {
    req.app_data::<web::Data<Payments>>()
        .map(|data| data.get_ref().clone())
        .or_else(|| req.app_data::<Payments>().cloned())
}

/// The path callbacks for `gateway` arrive at, as the buyer's browser sees it (the public
/// base URL's path included). Resubmit forms post here.
pub(crate) fn public_callback_path(payments: &Payments, gateway: GatewayId) -> String {
    payments.callback_url(gateway).path().to_owned()
}

/// The mount prefixes a callback may legitimately arrive under: the configured mount path,
/// and the same under the public base URL's path (for a proxy that does not strip it).
fn accepted_prefixes(payments: &Payments) -> [String; 2] {
    let any = GatewayId::ALL[0];
    let suffix = format!("/callback/{}", any.as_str());
    let public = public_callback_path(payments, any);
    let public_prefix = public.strip_suffix(&suffix).unwrap_or(&public).to_owned();
    [payments.mount_path().to_owned(), public_prefix]
}

/// Whether the mount prefix a callback arrived under (the full path up to
/// `/callback/{gateway}`) is the configured one.
pub(crate) fn prefix_is_configured(payments: &Payments, prefix: &str) -> bool {
    accepted_prefixes(payments).iter().any(|p| p == prefix)
}

/// The rejection for routes mounted elsewhere than the configuration says; logs once per
/// `logged` flag, so a misconfigured app does not flood its logs.
pub(crate) fn misconfigured(logged: &AtomicBool, arrived: &str, expected: &str) -> Rejection {
    if !logged.swap(true, Ordering::Relaxed) {
        tracing::error!(
            arrived,
            expected,
            "payment callback arrived at a path other than the configured callback path: the \
             callback URL sent to gateways is wrong. Mount the payment routes at \
             `Payments::mount_path` (PaymentScope::scope does) or fix the mount path"
        );
    }
    Rejection::Misconfigured(format!(
        "payment callback routes are not mounted at the configured path {expected}"
    ))
}

/// The rejection when no `Payments` is registered on the app.
pub(crate) fn not_registered(logged: &AtomicBool) -> Rejection {
    if !logged.swap(true, Ordering::Relaxed) {
        tracing::error!(
            "PaymentCallback needs the payment configuration in the app data: \
             `App::new().app_data(web::Data::new(payments))`"
        );
    }
    Rejection::Misconfigured("no web::Data<Payments> registered".to_owned())
}

/// The rejection when an extractor names a gateway that is not configured.
pub(crate) fn not_configured(logged: &AtomicBool, gateway: GatewayId) -> Rejection {
    if !logged.swap(true, Ordering::Relaxed) {
        tracing::error!(%gateway, "PaymentCallback is used for a gateway that is not configured");
    }
    Rejection::Misconfigured(format!("gateway {gateway} is not configured"))
}

/// Reads the callback: the query, the form body of a `POST` (at most [`MAX_BODY`] bytes)
/// and every `Cookie` header.
async fn read_request(
    req: &HttpRequest,
    payload: dev::Payload,
) -> Result<CallbackRequest, Rejection> {
    let query = req.query_string();
    let request = if req.method() == Method::POST {
        let body = match to_bytes_limited(BodyStream::new(payload), MAX_BODY).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => {
                return Err(Rejection::MalformedCallback(CallbackError::MalformedField(
                    "body",
                )));
            }
            Err(_) => return Err(Rejection::MalformedCallback(CallbackError::TooLarge)),
        };
        CallbackRequest::from_post(query, &body)
    } else {
        CallbackRequest::from_get(query)
    };
    let mut request = request.map_err(Rejection::MalformedCallback)?;
    for value in req.headers().get_all(header::COOKIE) {
        if let Ok(value) = value.to_str() {
            request = request.with_cookie_header(value);
        }
    }
    Ok(request)
}

/// Runs the core pipeline for a callback that arrived at a checked path.
pub(crate) async fn process(
    payments: &Payments,
    gateway: GatewayId,
    req: &HttpRequest,
    payload: dev::Payload,
) -> CallbackResult {
    let request = match read_request(req, payload).await {
        Ok(request) => request,
        Err(rejection) => {
            return CallbackResult {
                outcome: Outcome::Rejected(rejection),
                cookies: Vec::new(),
            };
        }
    };
    payments.handle_callback(gateway, &request, None).await
}

/// An HTTP status from the pipeline's number.
pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Appends each cookie as a `Set-Cookie` header.
pub(crate) fn add_cookies(headers: &mut HeaderMap, cookies: &[StateCookie]) {
    for cookie in cookies {
        match HeaderValue::from_str(&cookie.to_header_value()) {
            Ok(value) => headers.append(header::SET_COOKIE, value),
            Err(_) => {
                tracing::warn!(name = %cookie.name, "state cookie is not a valid header value")
            }
        }
    }
}

/// `Cache-Control: no-store`, unless the response chose its own.
pub(crate) fn no_store(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CACHE_CONTROL) {
        let value = CacheControl(vec![CacheDirective::NoStore]).to_string();
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
}

/// An HTML page with `Cache-Control: no-store` and the cookies.
pub(crate) fn html(code: StatusCode, body: String, cookies: &[StateCookie]) -> HttpResponse {
    let mut response = HttpResponse::build(code)
        .content_type(ContentType::html())
        .body(body);
    no_store(response.headers_mut());
    add_cookies(response.headers_mut(), cookies);
    response
}

/// The default answer for an outcome: its status and its Persian/English page (the
/// re-post page for [`Outcome::Resubmit`]).
pub(crate) fn default_response(outcome: &Outcome, cookies: &[StateCookie]) -> HttpResponse {
    html(
        status(outcome.http_status()),
        outcome.default_page(),
        cookies,
    )
}
