//! Between actix-web and `payment-core`: an actix request becomes a callback for the
//! pipeline, and what core decided becomes an actix response, as it is.

use actix_web::{
    HttpRequest, HttpResponse,
    body::{BodyStream, MessageBody, to_bytes_limited},
    dev,
    http::{
        Method, StatusCode,
        header::{self, HeaderMap, TryIntoHeaderPair},
    },
};
use payment_core::reply::{CallbackResult, Reply, ReplyParts};
use payment_core::{CallbackRequest, GatewayId, Payments, error::CallbackError};

/// Runs the pipeline on a callback request: routed by its path, then read (query, the
/// body of a `POST` up to [`CallbackRequest::MAX_BODY`], and every `Cookie` header).
pub(crate) async fn callback(
    payments: &Payments,
    gateway: Option<GatewayId>,
    req: &HttpRequest,
    payload: dev::Payload,
) -> CallbackResult {
    let read = async {
        let body = if req.method() == Method::POST {
            match to_bytes_limited(BodyStream::new(payload), CallbackRequest::MAX_BODY).await {
                Ok(Ok(body)) => body,
                Ok(Err(_)) => return Err(CallbackError::MalformedField("body")),
                Err(_) => return Err(CallbackError::TooLarge),
            }
        } else {
            Default::default()
        };
        let mut request = CallbackRequest::read(req.method().as_str(), req.query_string(), &body)?;
        for value in req.headers().get_all(header::COOKIE) {
            if let Ok(value) = value.to_str() {
                request = request.with_cookie_header(value);
            }
        }
        Ok(request)
    };
    payments.handle_request(req.path(), gateway, read).await
}

/// The response core decided on.
pub(crate) fn reply(reply: Reply) -> HttpResponse {
    let mut builder = HttpResponse::build(status_code(reply.status));
    for header in reply.headers {
        builder.append_header(header);
    }
    builder.body(reply.body)
}

/// The app's own response with what core adds to it: the outcome's status where the app
/// left 200, the state cookies, and `Cache-Control: no-store` where it set none.
pub(crate) fn dress<B: MessageBody>(
    mut response: HttpResponse<B>,
    parts: &ReplyParts,
) -> HttpResponse<B> {
    *response.status_mut() = status_code(parts.status(response.status().as_u16()));
    append_parts(response.headers_mut(), parts);
    response
}

/// Adds [`ReplyParts::headers`] to `headers`.
pub(crate) fn append_parts(headers: &mut HeaderMap, parts: &ReplyParts) {
    let has_cache_control = headers.contains_key(header::CACHE_CONTROL);
    append(headers, parts.headers(has_cache_control));
}

fn append(headers: &mut HeaderMap, extra: Vec<(&'static str, String)>) {
    // Core's names are lowercase tokens and its values visible ASCII.
    let pairs = extra.into_iter().filter_map(|h| h.try_into_pair().ok());
    pairs.for_each(|(name, value)| headers.append(name, value));
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
