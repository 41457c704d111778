//! Between axum and `payment-core`: an axum request becomes a callback for the pipeline,
//! and what core decided becomes an axum response, as it is.

use axum::{
    body::{Body, to_bytes},
    extract::{OriginalUri, Request},
    http::{HeaderMap, Method, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use payment_core::{
    CallbackRequest, GatewayId, Payments,
    error::CallbackError,
    reply::{CallbackResult, Reply, ReplyParts},
};

/// Runs the pipeline on a callback request: routed by the path it arrived at (before any
/// `nest` stripped a prefix), then read (query, the body of a `POST` up to
/// [`CallbackRequest::MAX_BODY`], and every `Cookie` header).
pub(crate) async fn callback(
    payments: &Payments,
    gateway: Option<GatewayId>,
    request: Request,
) -> CallbackResult {
    let (parts, body) = request.into_parts();
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path(), |original| original.0.path());
    let read = async {
        let body = if parts.method == Method::POST {
            to_bytes(body, CallbackRequest::MAX_BODY)
                .await
                .map_err(|_| CallbackError::TooLarge)?
        } else {
            Default::default()
        };
        let query = parts.uri.query().unwrap_or("");
        let request = CallbackRequest::read(parts.method.as_str(), query, &body)?;
        Ok(parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .fold(request, CallbackRequest::with_cookie_header))
    };
    payments.handle_request(path, gateway, read).await
}

/// The response core decided on.
pub(crate) fn reply(reply: Reply) -> Response {
    let Reply {
        status,
        headers,
        body,
    } = reply;
    // A `Body`, not a `String`: core's headers say what the body is.
    (
        status_code(status),
        AppendHeaders(headers),
        Body::from(body),
    )
        .into_response()
}

/// The app's own response with what core adds to it: the outcome's status where the app
/// left 200, the state cookies, and `Cache-Control: no-store` where it set none.
pub(crate) fn dress(response: Response, parts: &ReplyParts) -> Response {
    let status = status_code(parts.status(response.status().as_u16()));
    (status, headers(response.headers(), parts), response).into_response()
}

/// What [`ReplyParts`] adds to a response that already has `headers`.
pub(crate) fn headers(
    headers: &HeaderMap,
    parts: &ReplyParts,
) -> AppendHeaders<Vec<(&'static str, String)>> {
    AppendHeaders(parts.headers(headers.contains_key(header::CACHE_CONTROL)))
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
