//! Test support: a scripted stand-in gateway (one that redirects with a `GET` and returns
//! with a `GET`, one that takes a `POST` form and returns with a cross-site `POST`), a
//! configured `Payments`, and helpers that read responses like a browser would.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
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

use actix_web::{
    body::MessageBody,
    dev::ServiceResponse,
    http::header::{self, HeaderValue},
    test,
};
use payment_actix::payment_core::{
    CallbackRequest, Error, GatewayId, KeyRing, Order, Payments, Rial, SigningKey,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Redirect, Verified, parse_amount},
    clock::ManualClock,
    error::{
        GatewayCode, GatewayError, InvalidOrder, Operation, OrderProblem, TransportError,
        TransportErrorKind,
    },
    gateways::novinpal::NovinPalCode,
    state::OrderState,
    url::Url,
};

/// Which gateway the stand-in plays and how it sends the buyer back.
pub trait Kind: Send + Sync + 'static {
    const ID: GatewayId;
    /// Start with an auto-submitting `POST` form, and return with a `POST` (Inopal-like).
    const POST: bool;
}

/// Redirects with a `GET` and calls back with a `GET` (NovinPal-like).
pub struct GetKind;
impl Kind for GetKind {
    const ID: GatewayId = GatewayId::NovinPal;
    const POST: bool = false;
}

/// Starts with a `POST` form and calls back with a cross-site `POST` (Inopal-like).
pub struct PostKind;
impl Kind for PostKind {
    const ID: GatewayId = GatewayId::Inopal;
    const POST: bool = true;
}

/// A stand-in gateway. `create` hands out `ref-{order id}` (and refuses orders whose id
/// is `REFUSE`, `TIMEOUT` or `DOWN` the way a gateway would); the callback is `ref`,
/// `order`, `amount`, `ok`; `verify` answers from a script (default: paid, echoing the
/// state's order id and amount).
pub struct Fake<K> {
    answers: Arc<Mutex<VecDeque<Result<Verified, Error>>>>,
    verify_calls: Arc<AtomicUsize>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Fake<K> {
    fn clone(&self) -> Self {
        Self {
            answers: self.answers.clone(),
            verify_calls: self.verify_calls.clone(),
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
            answers: Default::default(),
            verify_calls: Default::default(),
            kind: PhantomData,
        }
    }
}

impl<K: Kind> Fake<K> {
    /// The next verify answers `answer`.
    pub fn then(&self, answer: Result<Verified, Error>) -> &Self {
        self.answers.lock().unwrap().push_back(answer);
        self
    }

    /// How many verifies reached the gateway.
    pub fn calls(&self) -> usize {
        self.verify_calls.load(Ordering::SeqCst)
    }

    /// The next verify times out.
    pub fn then_timeout(&self) -> &Self {
        self.then(Err(transport(
            K::ID,
            TransportErrorKind::Timeout,
            Operation::Verify,
        )))
    }
}

pub fn transport(gateway: GatewayId, kind: TransportErrorKind, operation: Operation) -> Error {
    Error::Transport(TransportError {
        gateway,
        operation,
        kind,
    })
}

pub fn paid(order_id: &str, amount: u64) -> Verified {
    let mut v = Verified::new();
    v.order_id = Some(order_id.to_owned());
    v.amount = Some(Rial::new(amount));
    v.bank_reference = Some("638060399619297999".into());
    v.card_mask = Some("6104-33**-****-6047".into());
    v
}

impl<K: Kind> Gateway for Fake<K> {
    const ID: GatewayId = K::ID;

    fn check_order(&self, order: &Order) -> Result<(), Error> {
        let amount = order.amount().get();
        if amount < 10_000 {
            return Err(Error::InvalidOrder(InvalidOrder {
                gateway: K::ID,
                reason: OrderProblem::AmountTooLow {
                    amount,
                    min: 10_000,
                },
            }));
        }
        Ok(())
    }

    async fn create(&self, order: &Order, _callback_url: &Url) -> Result<Created, Error> {
        match order.id().as_str() {
            "REFUSE" => {
                return Err(Error::Gateway(GatewayError {
                    gateway: K::ID,
                    operation: Operation::Create,
                    code: GatewayCode::NovinPal(NovinPalCode::WrongApiKey),
                    http_status: Some(200),
                    message: Some("کلید API اشتباه است".into()),
                }));
            }
            "TIMEOUT" => {
                return Err(transport(
                    K::ID,
                    TransportErrorKind::Timeout,
                    Operation::Create,
                ));
            }
            "DOWN" => {
                return Err(transport(
                    K::ID,
                    TransportErrorKind::Status(503),
                    Operation::Create,
                ));
            }
            _ => {}
        }
        let gateway_ref = format!("ref-{}", order.id());
        let redirect = if K::POST {
            Redirect::PostForm {
                action: Url::parse("https://gateway.test/pay").unwrap(),
                fields: vec![("token".into(), gateway_ref.clone())],
            }
        } else {
            Redirect::Get(Url::parse(&format!("https://gateway.test/pay/{gateway_ref}")).unwrap())
        };
        Ok(Created {
            gateway_ref,
            redirect,
            payable_amount: K::POST.then(|| Rial::new(order.amount().get() + 500)),
        })
    }

    fn parse_callback(&self, req: &CallbackRequest) -> Result<CallbackData, Error> {
        let status = if req.required("ok")? == "1" {
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
        let scripted = self.answers.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| Ok(paid(state.order_id().as_str(), state.amount().get())))
    }
}

pub type GetGateway = Fake<GetKind>;
pub type PostGateway = Fake<PostKind>;

/// A configured shop: both stand-in gateways, a manual clock.
#[derive(Clone)]
pub struct Shop {
    pub payments: Payments,
    pub get_gw: GetGateway,
    pub post_gw: PostGateway,
    pub clock: ManualClock,
}

pub fn shop() -> Shop {
    shop_at("http://localhost:3000", "/pay")
}

pub fn shop_at(base_url: &str, mount: &str) -> Shop {
    let get_gw = GetGateway::default();
    let post_gw = PostGateway::default();
    let clock = ManualClock::starting_now();
    let keys = KeyRing::new(SigningKey::new(1, vec![42; 32]).unwrap());
    let payments = Payments::builder(base_url, keys)
        .mount_path(mount)
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

/// A payment started through the core, as the browser would hold it.
pub struct Started {
    pub order_id: String,
    pub amount: u64,
    pub reference: String,
    /// `name=value`, as a `Cookie` header.
    pub cookie: String,
}

impl Started {
    /// The gateway's callback fields for this payment.
    pub fn fields(&self, ok: bool) -> String {
        format!(
            "ref={}&order={}&amount={}&ok={}",
            self.reference,
            self.order_id,
            self.amount,
            if ok { 1 } else { 0 }
        )
    }
}

pub async fn start(shop: &Shop, gateway: GatewayId, order_id: &str, amount: u64) -> Started {
    let order = Order::new(order_id.parse().unwrap(), Rial::new(amount));
    let started = shop.payments.start(gateway, &order).await.unwrap();
    Started {
        order_id: order_id.to_owned(),
        amount,
        reference: started.gateway_ref().to_owned(),
        cookie: format!("{}={}", started.cookie().name, started.cookie().value),
    }
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies<B>(res: &ServiceResponse<B>) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `name=value` part of a `Set-Cookie` header.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

/// Whether the response removes the cookie `name=…`.
pub fn removes(res_cookies: &[String], cookie: &str) -> bool {
    let name = cookie.split('=').next().unwrap();
    res_cookies
        .iter()
        .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
}

pub fn header<B>(res: &ServiceResponse<B>, name: header::HeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .map(HeaderValue::to_str)
        .map(|v| v.unwrap().to_owned())
}

pub async fn body<B: MessageBody>(res: ServiceResponse<B>) -> String {
    String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
}

/// The auto-submitting form of a page: method, action and fields (unescaped).
pub fn form(page: &str) -> (String, String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let form_start = page.find("<form").expect("a form");
    let form_tag = &page[form_start..form_start + page[form_start..].find('>').unwrap()];
    let method = attr(form_tag, "method").unwrap();
    let action = attr(form_tag, "action").unwrap();
    let mut fields = Vec::new();
    let mut rest = &page[form_start..];
    while let Some(i) = rest.find("<input") {
        let end = rest[i..].find('>').unwrap() + i;
        let tag = &rest[i..end];
        fields.push((attr(tag, "name").unwrap(), attr(tag, "value").unwrap()));
        rest = &rest[end..];
    }
    (method, action, fields)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A form body from fields.
pub fn urlencode(fields: &[(String, String)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}
