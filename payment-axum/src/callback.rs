//! What the router and the extractor share: turning an axum request into a
//! [`CallbackRequest`], checking the path it arrived at, and writing responses.
//!
//! Every rule about what a valid callback is lives in `payment-core`; this module only
//! moves bytes between axum and [`Payments::handle_callback`].

use std::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering},
};

use axum::{
    body::to_bytes,
    extract::{OriginalUri, Request},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Response},
};
use payment_core::{
    CallbackError, CallbackRequest, CallbackResult, GatewayId, Outcome, Payments, Rejection,
    StateCookie,
};

/// A callback read from an axum request, ready for the pipeline, or the answer to give
/// instead.
///
/// Reading is synchronous for `GET` (everything is in the URL and headers), so that the
/// future awaiting the pipeline does not carry the request: axum boxes every handler's
/// future, and one under ~1 KiB is served from the allocator's per-thread cache.
// `Ready` is the usual case and is held across verify: boxing it would add an allocation
// that another worker often frees (BENCHMARKS.md), to make the rare variants smaller.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Read {
    /// A callback request, ready for the pipeline.
    Ready(CallbackRequest),
    /// A `POST` whose body is still to be read.
    Post(Pin<Box<dyn Future<Output = Result<CallbackRequest, CallbackError>> + Send>>),
    /// Not a callback this route can take.
    Refused(Rejection),
}

/// Reads the callback for `gateway` from an axum request.
///
/// Refuses (without touching any payment) a request that arrived at another path than the
/// one the gateways are given, so a router mounted at the wrong prefix is found at once
/// instead of silently handing gateways a callback URL that goes nowhere. `logged` makes
/// the error log line appear once per router (or once per process for the extractor).
pub(crate) fn read(
    payments: &Payments,
    gateway: GatewayId,
    req: Request,
    body_limit: usize,
    logged: &AtomicBool,
) -> Read {
    let (parts, body) = req.into_parts();
    let arrived = arrived_path(&parts);
    if !payments.is_callback_path(gateway, arrived) {
        let public_url = payments.callback_url(gateway);
        let public_path = public_url.path();
        if !logged.swap(true, Ordering::Relaxed) {
            tracing::error!(
                gateway = %gateway,
                arrived,
                expected = %public_path,
                mount_path = payments.mount_path(),
                "payment callback arrived at a path other than the one sent to gateways; \
                 mount the payment routes at the configured mount path \
                 (PaymentRouter::mount does it) or change Payments::builder().mount_path"
            );
        }
        return Read::Refused(Rejection::Misconfigured(format!(
            "callback for {gateway} arrived at {arrived}, expected {public_path}"
        )));
    }
    let query = parts.uri.query().unwrap_or("");
    match parts.method {
        Method::GET => match CallbackRequest::from_get(query) {
            Ok(request) => Read::Ready(with_cookies(request, &parts.headers)),
            Err(e) => Read::Refused(Rejection::MalformedCallback(e)),
        },
        Method::POST => Read::Post(Box::pin(async move {
            let bytes = to_bytes(body, body_limit)
                .await
                .map_err(|_| CallbackError::TooLarge)?;
            let query = parts.uri.query().unwrap_or("");
            let request = CallbackRequest::from_post(query, &bytes)?;
            Ok(with_cookies(request, &parts.headers))
        })),
        // A HEAD (link checker, prefetch) must not consume the payment; gateways only
        // ever send GET or POST.
        _ => Read::Refused(Rejection::MalformedCallback(CallbackError::MalformedField(
            "method",
        ))),
    }
}

impl Read {
    /// Runs the callback pipeline for `gateway` on the request read.
    ///
    /// Works on the request where [`read`] put it, and puts a `POST`'s there once its
    /// body is read: a future that held one of its own would carry a second copy (a
    /// [`CallbackRequest`] is a few hundred bytes), taking the handler's boxed future
    /// past the allocator's per-thread cache.
    pub(crate) async fn run(&mut self, payments: &Payments, gateway: GatewayId) -> CallbackResult {
        loop {
            match self {
                Read::Ready(request) => {
                    return payments.handle_callback(gateway, request, None).await;
                }
                Read::Post(body) => {
                    *self = match body.await {
                        Ok(request) => Read::Ready(request),
                        Err(e) => Read::Refused(Rejection::MalformedCallback(e)),
                    };
                }
                Read::Refused(rejection) => return rejected(rejection.clone()),
            }
        }
    }
}

/// A rejection with no cookies to set.
pub(crate) fn rejected(rejection: Rejection) -> CallbackResult {
    CallbackResult {
        outcome: Outcome::Rejected(rejection),
        cookies: Vec::new(),
    }
}

/// The full path the request arrived at, before any `nest` stripped a prefix.
fn arrived_path(parts: &Parts) -> &str {
    parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |original| original.0.path())
}

/// `request` with the cookies of every `Cookie` header.
fn with_cookies(request: CallbackRequest, headers: &HeaderMap) -> CallbackRequest {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .fold(request, CallbackRequest::with_cookie_header)
}

/// An HTML page with the given status (`text/html; charset=utf-8`).
pub(crate) fn html(status: u16, page: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Html(page)).into_response()
}

/// The library's default answer to an outcome: its status and its page.
pub(crate) fn default_response(outcome: &Outcome) -> Response {
    html(outcome.http_status(), outcome.default_page())
}

/// Adds each cookie as a `Set-Cookie` header.
pub(crate) fn append_cookies(headers: &mut HeaderMap, cookies: &[StateCookie]) {
    for cookie in cookies {
        match HeaderValue::try_from(cookie.to_header_value()) {
            Ok(value) => {
                headers.append(header::SET_COOKIE, value);
            }
            Err(_) => {
                tracing::warn!(cookie = %cookie.name, "state cookie is not a valid header value")
            }
        }
    }
}

/// Marks a response as not to be stored: receipts, re-post forms and redirects with a
/// fresh state cookie belong to one buyer at one moment.
pub(crate) fn no_store(headers: &mut HeaderMap) {
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// `response` with the cookies and `Cache-Control: no-store` added.
pub(crate) fn finish(mut response: Response, cookies: &[StateCookie]) -> Response {
    append_cookies(response.headers_mut(), cookies);
    no_store(response.headers_mut());
    response
}
