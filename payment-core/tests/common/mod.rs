#![allow(dead_code)]
// A fixture fails its test by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

//! Fixtures the adapter tests share: an HTTP client with a short timeout, orders, order
//! states and callbacks, wiremock answers, and the shapes of the errors an adapter
//! returns.

pub(crate) mod scripted;

use std::{
    fmt::{Debug, Display},
    future::Future,
    time::Duration,
};

use payment_core::{
    CallbackRequest, Error, GatewayId, HttpClient, HttpConfig, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway},
    error::{CallbackError, GatewayError, InvalidOrder, OrderProblem, TransportErrorKind},
    state::OrderState,
    time::{self, OffsetDateTime},
    url::Url,
};
use serde_json::Value;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

/// How long a test's HTTP client waits for an answer.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(500);

/// An HTTP client that gives up on a call after [`TIMEOUT`], with the default retries
/// (a repeatable call is sent again after a connection failure or a 502/503/504).
pub(crate) fn http() -> HttpClient {
    HttpClient::new(HttpConfig::default().timeout(TIMEOUT)).unwrap()
}

/// How long a slow answer ([`slow`]) takes: far past [`TIMEOUT`].
pub(crate) const SLOW: Duration = Duration::from_secs(3);

/// `answer`, sent only after [`SLOW`].
pub(crate) fn slow(answer: ResponseTemplate) -> ResponseTemplate {
    answer.set_delay(SLOW)
}

/// An order with the required parts only.
pub(crate) fn order(id: &str, amount: u64) -> Order {
    Order::new(id.parse().unwrap(), Rial::new(amount))
}

/// The callback URL `Payments` gives `gateway` for a shop at `https://shop.example`.
pub(crate) fn callback_url(gateway: GatewayId) -> Url {
    Url::parse(&format!("https://shop.example/pay/callback/{gateway}")).unwrap()
}

/// An order state started now for 30 minutes, at `gateway`'s default account.
pub(crate) fn state(
    gateway: GatewayId,
    order_id: &str,
    amount: u64,
    reference: &str,
) -> OrderState {
    OrderState::new(
        gateway,
        order_id.parse().unwrap(),
        Rial::new(amount),
        reference,
        OffsetDateTime::now_utc(),
        time::Duration::minutes(30),
    )
}

/// A callback that says paid and carries nothing else.
pub(crate) fn paid_callback(gateway: GatewayId) -> CallbackData {
    CallbackData::new(gateway, CallbackStatus::Paid)
}

/// A `GET` callback with this query string.
pub(crate) fn get(query: &str) -> CallbackRequest {
    CallbackRequest::from_get(query).unwrap()
}

/// A `POST` callback with this form body and no query.
pub(crate) fn post(body: &str) -> CallbackRequest {
    CallbackRequest::from_post("", body.as_bytes()).unwrap()
}

/// An answer of `status` with `body` sent as it is, as `application/json`.
pub(crate) fn raw_json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

/// An answer of `status` with `body` as JSON.
pub(crate) fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// 200 answers with each of `bodies` as JSON, each labelled by its body.
pub(crate) fn json_answers<const N: usize>(bodies: [Value; N]) -> [(Value, ResponseTemplate); N] {
    bodies.map(|body| (body.clone(), json_answer(200, body)))
}

/// Answers every `POST` to `at` with `answer`.
pub(crate) async fn mount(server: &MockServer, at: &str, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(answer)
        .mount(server)
        .await;
}

/// Answers every `POST` to `at` with `body` as JSON, with `status`.
pub(crate) async fn mount_json(server: &MockServer, at: &str, status: u16, body: Value) {
    mount(server, at, json_answer(status, body)).await;
}

/// Answers `POST`s to `at` with `answer` and expects exactly one.
pub(crate) async fn mount_once(server: &MockServer, at: &str, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

/// A mock server that expects no request at all (checked when it drops, or with
/// `server.verify()`).
pub(crate) async fn silent_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// The refusal inside `err`; any other error fails the test.
pub(crate) fn gateway_error(err: Error) -> GatewayError {
    match err {
        Error::Gateway(e) => e,
        other => panic!("expected a gateway refusal, got {other:?}"),
    }
}

/// What went wrong on the wire in `err`, a transport error from `gateway`; any other
/// error fails the test.
pub(crate) fn transport_kind(gateway: GatewayId, err: Error) -> TransportErrorKind {
    match err {
        Error::Transport(e) => {
            assert_eq!(e.gateway, gateway);
            e.kind
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Whether `err` is `gateway`'s answer that matched no documented shape.
pub(crate) fn is_malformed(gateway: GatewayId, err: Error) -> bool {
    matches!(
        transport_kind(gateway, err),
        TransportErrorKind::Malformed(_)
    )
}

/// The order problem inside `result`; anything else fails the test.
pub(crate) fn invalid_order<T: Debug>(result: Result<T, Error>) -> InvalidOrder {
    match result {
        Err(Error::InvalidOrder(e)) => e,
        other => panic!("expected an invalid order, got {other:?}"),
    }
}

/// Checks that `adapter` refuses `order` for `reason`, in `check_order` and in `create`
/// alike (before sending anything: give it a [`silent_server`]).
pub(crate) async fn assert_order_refused<G: Gateway>(
    adapter: &G,
    callback_url: &Url,
    order: &Order,
    reason: OrderProblem,
) {
    let expected = InvalidOrder {
        gateway: G::ID,
        reason,
    };
    assert_eq!(invalid_order(adapter.check_order(order)), expected);
    let created = adapter.create(order, callback_url).await;
    assert_eq!(invalid_order(created), expected);
}

/// The callback problem inside `result`; anything else fails the test.
pub(crate) fn callback_error<T: Debug>(result: Result<T, Error>) -> CallbackError {
    match result {
        Err(Error::Callback(e)) => e,
        other => panic!("expected a callback error, got {other:?}"),
    }
}

/// Checks that `adapter` refuses each callback of `cases`, read by `read` ([`get`] or
/// [`post`]), with its error.
pub(crate) fn assert_callbacks_refused(
    adapter: &impl Gateway,
    read: fn(&str) -> CallbackRequest,
    cases: &[(&str, CallbackError)],
) {
    for (fields, expected) in cases {
        let refused = callback_error(adapter.parse_callback(&read(fields)));
        assert_eq!(&refused, expected, "{fields}");
    }
}

/// A created payment whose buyer is sent to `url` with a `GET`, paying the order's
/// amount.
pub(crate) fn created_get(reference: &str, url: &str) -> Created {
    Created::redirect_to(reference.to_owned(), Url::parse(url).unwrap())
}

/// Checks an adapter's `Debug` output: none of `secrets`, the credential shown as
/// `[redacted]`, and each of `shown` (its base URLs) printed.
pub(crate) fn assert_debug_hides(adapter: &impl Debug, secrets: &[&str], shown: &[&str]) {
    let debug = format!("{adapter:?}");
    for secret in secrets {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("[redacted]"), "{debug}");
    for part in shown {
        assert!(debug.contains(part), "{part} not in {debug}");
    }
}

/// Checks how `call` fails when its gateway does. `error`, an HTTP 500 answered at `at`,
/// is a transient `Status(500)` transport error from `gateway`; `late`, answered at `at`
/// only after [`SLOW`], a transient `Timeout`. Each is expected exactly once: neither
/// failure makes the adapter send the call again. `call` goes through an adapter at
/// `server` with the [`http`] client.
pub(crate) async fn assert_500_then_timeout<T, F, Fut>(
    server: &MockServer,
    gateway: GatewayId,
    at: &str,
    error: ResponseTemplate,
    late: ResponseTemplate,
    call: F,
) where
    T: Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    for (answer, expected) in [
        (error, TransportErrorKind::Status(500)),
        (slow(late), TransportErrorKind::Timeout),
    ] {
        server.reset().await;
        mount_once(server, at, answer).await;
        let err = call().await.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert_eq!(transport_kind(gateway, err), expected);
        server.verify().await;
    }
}

/// Checks that `call` fails as `gateway`'s malformed answer (a transient transport
/// error) for each of `answers`, answered at `at`; a failure names the answer by its
/// label.
pub(crate) async fn assert_malformed<L, T, F, Fut>(
    server: &MockServer,
    gateway: GatewayId,
    at: &str,
    answers: impl IntoIterator<Item = (L, ResponseTemplate)>,
    call: F,
) where
    L: Display,
    T: Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    for (label, answer) in answers {
        server.reset().await;
        mount(server, at, answer).await;
        let err = call().await.unwrap_err();
        assert!(err.is_transient(), "{label}: {err:?}");
        assert!(is_malformed(gateway, err), "{label}");
    }
}
