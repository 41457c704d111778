//! Shared test fixtures: two stand-in gateways (a GET one and a cross-site POST one), a
//! configured `Payments`, and helpers to send requests through an axum app.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{
    collections::VecDeque,
    marker::PhantomData,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Path, State},
    http::{HeaderMap, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use payment_axum::{
    payment_core::{
        CallbackRequest, Error, GatewayId, KeyRing, Order, Payments, Rial, SigningKey,
        adapter::{
            CallbackData, CallbackStatus, Created, Gateway, Redirect, Verified, parse_amount,
        },
        clock::ManualClock,
        error::{
            GatewayCode, InvalidOrder, Operation, OrderProblem, TransportError, TransportErrorKind,
        },
        gateways::novinpal::NovinPalCode,
        state::OrderState,
        url::Url,
    },
    start,
};
use tower::ServiceExt;

/// Which gateway a [`Fake`] stands in for, and how its buyer returns.
pub trait Kind: Send + Sync + 'static {
    const ID: GatewayId;
    /// Returns by cross-site POST (and starts with a POST form).
    const POST: bool;
}

/// A gateway whose buyer returns with a GET (like NovinPal).
pub struct GetKind;
impl Kind for GetKind {
    const ID: GatewayId = GatewayId::NovinPal;
    const POST: bool = false;
}

/// A gateway whose buyer returns with a cross-site POST (like IDPay).
pub struct PostKind;
impl Kind for PostKind {
    const ID: GatewayId = GatewayId::IdPay;
    const POST: bool = true;
}

/// A stand-in gateway: `create` hands out `ref-{order id}`; the callback carries `ref`,
/// `order`, `amount` and `ok`; `verify` answers from a script (default: paid, echoing the
/// state's order id and amount). Orders under 10,000 rial break its limits.
pub struct Fake<K> {
    verify_answers: Arc<Mutex<VecDeque<Result<Verified, Error>>>>,
    create_errors: Arc<Mutex<VecDeque<Error>>>,
    verify_calls: Arc<AtomicUsize>,
    pub callback_urls: Arc<Mutex<Vec<String>>>,
    kind: PhantomData<fn() -> K>,
}

pub type GetGateway = Fake<GetKind>;
pub type PostGateway = Fake<PostKind>;

impl<K> Clone for Fake<K> {
    fn clone(&self) -> Self {
        Self {
            verify_answers: self.verify_answers.clone(),
            create_errors: self.create_errors.clone(),
            verify_calls: self.verify_calls.clone(),
            callback_urls: self.callback_urls.clone(),
            kind: PhantomData,
        }
    }
}

impl<K: Kind> std::fmt::Debug for Fake<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fake").field("gateway", &K::ID).finish()
    }
}

impl<K> Default for Fake<K> {
    fn default() -> Self {
        Self {
            verify_answers: Arc::default(),
            create_errors: Arc::default(),
            verify_calls: Arc::default(),
            callback_urls: Arc::default(),
            kind: PhantomData,
        }
    }
}

impl<K: Kind> Fake<K> {
    pub fn then_verify(&self, answer: Result<Verified, Error>) {
        self.verify_answers.lock().unwrap().push_back(answer);
    }

    pub fn then_create(&self, error: Error) {
        self.create_errors.lock().unwrap().push_back(error);
    }

    pub fn verify_calls(&self) -> usize {
        self.verify_calls.load(Ordering::SeqCst)
    }
}

pub fn paid(order_id: &str, amount: u64) -> Verified {
    let mut v = Verified::new();
    v.order_id = Some(order_id.to_owned());
    v.amount = Some(Rial::new(amount));
    v.bank_reference = Some("638060399619297999".into());
    v.card_mask = Some("6104-33**-****-6047".into());
    v
}

pub fn transport(gateway: GatewayId, operation: Operation, kind: TransportErrorKind) -> Error {
    Error::Transport(TransportError {
        gateway,
        operation,
        kind,
    })
}

impl<K: Kind> Gateway for Fake<K> {
    const ID: GatewayId = K::ID;

    fn check_order(&self, order: &Order) -> Result<(), Error> {
        if order.amount().get() < 10_000 {
            return Err(Error::InvalidOrder(InvalidOrder {
                gateway: K::ID,
                reason: OrderProblem::AmountTooLow {
                    amount: order.amount().get(),
                    min: 10_000,
                },
            }));
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        if let Some(e) = self.create_errors.lock().unwrap().pop_front() {
            return Err(e);
        }
        self.callback_urls
            .lock()
            .unwrap()
            .push(callback_url.to_string());
        let gateway_ref = format!("ref-{}", order.id());
        let redirect = if K::POST {
            Redirect::PostForm {
                action: Url::parse("https://gateway.test/pay").unwrap(),
                fields: vec![("token".into(), gateway_ref.clone())],
            }
        } else {
            Redirect::Get(Url::parse(&format!("https://gateway.test/start/{gateway_ref}")).unwrap())
        };
        Ok(Created {
            gateway_ref,
            redirect,
            payable_amount: K::POST.then(|| Rial::new(order.amount().get() + 500)),
        })
    }

    fn parse_callback(&self, req: &CallbackRequest) -> Result<CallbackData, Error> {
        let ok = req.required("ok")?;
        let status = if ok == "1" {
            CallbackStatus::Paid
        } else {
            CallbackStatus::Failed {
                code: Some(GatewayCode::NovinPal(NovinPalCode::TransactionFailed)),
                raw_code: Some(109),
            }
        };
        let mut data = CallbackData::new(K::ID, status);
        data.reference = Some(req.required("ref")?.to_owned());
        data.order_id = req.param("order").map(str::to_owned);
        data.amount = req
            .param("amount")
            .map(|a| parse_amount(a, "amount"))
            .transpose()?;
        Ok(data)
    }

    async fn verify(&self, state: &OrderState, _cb: &CallbackData) -> Result<Verified, Error> {
        self.verify_calls.fetch_add(1, Ordering::SeqCst);
        let scripted = self.verify_answers.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| Ok(paid(state.order_id().as_str(), state.amount().get())))
    }
}

pub struct Shop {
    pub payments: Payments,
    pub get_gw: GetGateway,
    pub post_gw: PostGateway,
    pub clock: ManualClock,
}

/// A shop on `base_url` with both fake gateways, callbacks under `mount_path`.
pub fn shop_at(base_url: &str, mount_path: &str) -> Shop {
    let get_gw = GetGateway::default();
    let post_gw = PostGateway::default();
    let clock = ManualClock::starting_now();
    let keys = KeyRing::new(SigningKey::new(1, vec![42; 32]).unwrap());
    let payments = Payments::builder(base_url, keys)
        .mount_path(mount_path)
        .gateway(get_gw.clone())
        .gateway(post_gw.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Shop {
        payments,
        get_gw,
        post_gw,
        clock,
    }
}

/// The usual development shop: `http://localhost:3000`, callbacks under `/pay`.
pub fn shop() -> Shop {
    shop_at("http://localhost:3000", "/pay")
}

/// A checkout route as an app writes it: `POST /checkout/{gateway}/{order}/{amount}`.
pub async fn checkout(
    State(payments): State<Payments>,
    Path((gateway, order, amount)): Path<(String, String, u64)>,
) -> Response {
    let gateway: GatewayId = gateway.parse().unwrap();
    let order = Order::new(order.parse().unwrap(), Rial::new(amount));
    match start(&payments, gateway, &order).await {
        Ok(started) => started.into_response(),
        Err(e) => e.into_response(),
    }
}

/// An app with the checkout route and nothing else (state applied).
pub fn shop_app(payments: &Payments) -> Router {
    Router::new()
        .route("/checkout/{gateway}/{order}/{amount}", post(checkout))
        .with_state(payments.clone())
}

/// A response read to the end.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// The first cookie set (not removed): `(name, value)`.
    pub fn state_cookie(&self) -> (String, String) {
        let set = self
            .set_cookies()
            .into_iter()
            .find(|c| !c.contains("Max-Age=0"))
            .expect("a state cookie");
        let pair = set.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        (name.to_owned(), value.to_owned())
    }

    pub fn removes(&self, name: &str) -> bool {
        self.set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
    }

    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    pub fn is_html(&self) -> bool {
        self.header(header::CONTENT_TYPE) == "text/html; charset=utf-8"
    }

    /// The hidden fields of the page's form, decoded.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        for input in self.body.split("<input ").skip(1) {
            let attr = |name: &str| {
                let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + input[start..].find('"').unwrap();
                unescape(&input[start..end])
            };
            fields.push((attr("name"), attr("value")));
        }
        fields
    }

    /// The action of the page's form, decoded.
    pub fn form_action(&self) -> String {
        let start = self.body.find("action=\"").unwrap() + 8;
        let end = start + self.body[start..].find('"').unwrap();
        unescape(&self.body[start..end])
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Sends one request through `app`.
pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let response = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// `GET uri`, with a `Cookie` header when `cookie` is given.
pub fn get_req(uri: &str, cookie: Option<&(String, String)>) -> Request<Body> {
    let mut req = Request::builder().method(Method::GET).uri(uri);
    if let Some((k, v)) = cookie {
        req = req.header(header::COOKIE, format!("{k}={v}"));
    }
    req.body(Body::empty()).unwrap()
}

/// A form `POST` to `uri`, with a `Cookie` header when `cookie` is given.
pub fn post_form(
    uri: &str,
    fields: &[(String, String)],
    cookie: Option<&(String, String)>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((k, v)) = cookie {
        req = req.header(header::COOKIE, format!("{k}={v}"));
    }
    req.body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap()
}

/// Starts a payment through the app's checkout route; returns the state cookie
/// `(name, value)`. The gateway reference is always `ref-{order}`.
pub async fn begin(app: &Router, gateway: GatewayId, order: &str, amount: u64) -> (String, String) {
    let answer = send(
        app,
        Request::builder()
            .method(Method::POST)
            .uri(format!("/checkout/{gateway}/{order}/{amount}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        answer.status == StatusCode::FOUND || answer.status == StatusCode::OK,
        "{answer:?}"
    );
    answer.state_cookie()
}

/// The query string of a callback: `ref`, `order`, `amount`, `ok`.
pub fn callback_query(order: &str, amount: u64, ok: bool) -> String {
    format!(
        "ref=ref-{order}&order={order}&amount={amount}&ok={}",
        if ok { 1 } else { 0 }
    )
}

/// The same fields as form pairs.
pub fn callback_fields(order: &str, amount: u64, ok: bool) -> Vec<(String, String)> {
    serde_urlencoded::from_str(&callback_query(order, amount, ok)).unwrap()
}
