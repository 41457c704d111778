//! Serving the shop on a bad day: hyper drops a client that is slow to send its headers,
//! tower-http answers a request that takes too long (a slow body included) with 408 and
//! puts the security headers on every answer, a cap bounds the open connections, and
//! shutdown finishes the requests in flight.
//!
//! The same few lines harden any axum app that mounts the payment routes: its callback
//! pages are its own, so their headers are too.

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderName, HeaderValue, StatusCode, header},
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower_http::{
    LatencyUnit,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

/// The policy of every page: no scripts, no plugins, no frames, styles only inline (each
/// page carries its one stylesheet), images only from the shop. Forms may post to the
/// shop only; the redirect to a gateway after checkout is a navigation, which
/// `form-action` would also govern, so it lists none and leaves gateway hosts unnamed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// HSTS for a shop served over https: a year, subdomains included.
const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// How patient the server is with its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time a client has to send a request's headers before the connection is closed.
    pub header_read_timeout: Duration,
    /// Time a request has, body and answer included, before it is answered 408. A
    /// callback cut off during verify stays claimed until its lease lapses and is then
    /// settled by the reconciler, so this bounds the buyer's wait, not the payment.
    pub request_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// `router` with the request timeout, the security headers on every answer (HSTS too
/// when the shop is served over https; headers a handler set itself are kept) and an
/// access log: one INFO line per request with its method, its path (never the query,
/// which carries gateway references), the status and the time taken.
pub fn harden(router: Router, limits: &ServerLimits, https: bool) -> Router {
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Gateways see the shop's origin, never an order's path.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        ));
    }
    headers
        .into_iter()
        .fold(
            router,
            |router, (name, value): (HeaderName, HeaderValue)| {
                router.layer(SetResponseHeaderLayer::if_not_present(name, value))
            },
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = request.uri().path()
                    )
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and
/// gives the requests in flight [`ServerLimits::shutdown_grace`] to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else {
            break;
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A client that vanished before accept, or a full descriptor table:
                // wait a moment rather than spin.
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that hangs up or times out ends its connection; nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shop: stopping; finishing requests in flight");
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shop: requests still in flight after the shutdown grace; stopping anyway");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    use super::*;

    async fn headers_of(router: Router) -> axum::http::HeaderMap {
        let answer = router
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        answer.headers().clone()
    }

    #[tokio::test]
    async fn https_adds_hsts_and_a_handlers_own_policy_is_kept() {
        let limits = ServerLimits::default();
        let plain = Router::new().route("/", get(|| async { "hi" }));
        let headers = headers_of(harden(plain.clone(), &limits, true)).await;
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            STRICT_TRANSPORT_SECURITY
        );
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        assert!(
            headers_of(harden(plain, &limits, false))
                .await
                .get(header::STRICT_TRANSPORT_SECURITY)
                .is_none()
        );

        let own = Router::new().route(
            "/",
            get(|| async {
                (
                    [(header::CONTENT_SECURITY_POLICY, "script-src 'self'")],
                    "hi",
                )
            }),
        );
        let headers = headers_of(harden(own, &limits, true)).await;
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "script-src 'self'"
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }
}
