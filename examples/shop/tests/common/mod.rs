//! Shared test support: a shop on an ephemeral port with a temporary SQLite file, the
//! in-process (or an external) sandbox, and a buyer that speaks HTTP like a browser.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use payment_axum::payment_core::{GatewayId, Payments, gateways::idpay::IdPayVersion};

/// The form field that marks the library's own re-post of a cross-site `POST` callback.
const RESUBMIT_FIELD: &str = "_payment_resubmit";
use payment_sandbox::{Action, CallbackInstruction, CallbackMethod, SandboxHandle};
use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use shop::{Config, Db, SandboxSetup, build_app, db::Status, sandbox::sandbox_gateway};

/// The sandbox's simulation of `gateway`; every gateway the shop offers has one.
pub fn simulated(gateway: GatewayId) -> payment_sandbox::SandboxGateway {
    sandbox_gateway(gateway).expect("the sandbox simulates every gateway the shop offers")
}
use tokio::{net::TcpListener, task::JoinHandle};

/// How long the shop waits for the sandbox in tests: delay faults longer than this turn a
/// verify into a pending payment.
pub const GATEWAY_TIMEOUT: Duration = Duration::from_millis(1500);

pub use payment_e2e::databases::TempDb;

/// A shop serving on loopback.
pub struct TestShop {
    /// `http://localhost:PORT` (the sandbox is on 127.0.0.1: another site, as in production).
    pub base: String,
    pub port: u16,
    pub db: Db,
    pub payments: Payments,
    pub sandbox: SandboxHandle,
    pub sandbox_url: String,
    /// The password of `/admin`, made at start as sandbox mode does.
    pub admin_password: String,
    task: JoinHandle<std::io::Result<()>>,
}

impl Drop for TestShop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Options for [`TestShop::start`].
pub struct Options {
    /// `None`: the shop starts its own sandbox in-process.
    pub external_sandbox: Option<(String, SandboxHandle)>,
    /// `0`: any free port.
    pub port: u16,
    pub timeout: Duration,
    /// The reconciler's interval and grace; `None`: the shop's defaults (a minute, two),
    /// which no test waits for.
    pub reconcile: Option<(Duration, Duration)>,
    /// The server's patience with slow clients; `None`: the shop's defaults.
    pub limits: Option<shop::ServerLimits>,
    /// The IDPay API version the shop speaks (`IDPAY_VERSION`); default v1.1.
    pub idpay_version: IdPayVersion,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            external_sandbox: None,
            port: 0,
            timeout: GATEWAY_TIMEOUT,
            reconcile: None,
            limits: None,
            idpay_version: IdPayVersion::default(),
        }
    }
}

impl TestShop {
    pub async fn start(db: &TempDb) -> TestShop {
        Self::start_with(&db.url(), Options::default()).await
    }

    /// A shop on the database at `database_url` (SQLite or PostgreSQL).
    pub async fn start_with(database_url: &str, options: Options) -> TestShop {
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .expect("shop port");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://localhost:{}", addr.port());
        let mut config = Config::sandbox(database_url);
        config.addr = addr;
        config.public_url = Some(base.clone());
        config.gateway_timeout = options.timeout;
        config.idpay_version = options.idpay_version;
        if let Some((every, grace)) = options.reconcile {
            config.reconcile_every = every;
            config.reconcile_grace = grace;
        }
        if let Some(limits) = options.limits {
            config.server = limits;
        }
        config.sandbox = match &options.external_sandbox {
            Some((url, _)) => SandboxSetup::External(url.clone()),
            None => SandboxSetup::InProcess("127.0.0.1:0".parse().expect("addr")),
        };
        let shop = build_app(config).await.expect("the shop builds");
        let sandbox = match (&options.external_sandbox, &shop.sandbox) {
            (Some((_, handle)), _) => handle.clone(),
            (None, Some(sb)) => sb.handle.clone(),
            (None, None) => panic!("sandbox mode without a sandbox"),
        };
        let sandbox_url = shop.sandbox_url.clone().expect("sandbox url");
        let (db_handle, payments) = (shop.db().clone(), shop.payments().clone());
        let admin_password = shop
            .generated_admin_password
            .clone()
            .expect("sandbox mode makes an admin password");
        let task = tokio::spawn(shop.serve(listener));
        TestShop {
            base,
            port: addr.port(),
            db: db_handle,
            payments,
            sandbox,
            sandbox_url,
            admin_password,
            task,
        }
    }

    /// Stops serving and closes the database, as a process exit would.
    pub async fn stop(self) {
        self.task.abort();
        self.db.close().await;
        // Give the aborted task a moment to drop its listener.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// The newest order (each test has its own database).
    pub async fn newest_order(&self) -> shop::db::OrderRow {
        self.db
            .orders()
            .await
            .expect("orders")
            .into_iter()
            .next()
            .expect("an order")
    }

    pub async fn order(&self, id: &str) -> shop::db::OrderRow {
        self.db
            .order(id)
            .await
            .expect("query")
            .expect("the order exists")
    }

    /// The sandbox's payment-page key of the payment for `order_id`.
    pub fn sandbox_key(&self, gateway: GatewayId, order_id: &str) -> String {
        self.sandbox
            .find_by_order_id(simulated(gateway), order_id)
            .unwrap_or_else(|| panic!("the sandbox has no {gateway} payment for {order_id}"))
            .key
    }

    /// Plays the buyer on the gateway's payment page.
    pub fn act(&self, gateway: GatewayId, order_id: &str, action: Action) -> CallbackInstruction {
        let key = self.sandbox_key(gateway, order_id);
        self.sandbox
            .act(simulated(gateway), &key, action)
            .expect("the sandbox takes the action")
    }
}

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }
}

/// A buyer's browser, reduced to what matters: cookies kept by hand, and callbacks sent the
/// way a browser sends them (a cross-site `POST` without the `SameSite=Lax` state cookie).
pub struct Buyer {
    http: reqwest::Client,
    pub base: String,
    pub jar: Vec<(String, String)>,
}

impl Buyer {
    pub fn new(shop: &TestShop) -> Buyer {
        Buyer::at(&shop.base)
    }

    /// A buyer of the shop at `base` (`http://localhost:PORT`).
    pub fn at(base: &str) -> Buyer {
        Buyer {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_owned(),
            jar: Vec::new(),
        }
    }

    /// The value of the cookie `name`, if the shop set one.
    pub fn jar_value(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for header in headers.get_all(SET_COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            let first = header.split(';').next().unwrap_or_default();
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            self.jar.retain(|(n, _)| n != name);
            if !header.to_ascii_lowercase().contains("max-age=0") {
                self.jar.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    async fn read(&mut self, response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.absorb(&headers);
        let body = response.text().await.expect("body");
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let response = self
            .http
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.read(response).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_form_with(path, fields, &[]).await
    }

    /// A form post with extra headers, e.g. the `Origin` a browser sends.
    pub async fn post_form_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self
            .http
            .post(url)
            .header(COOKIE, self.cookie_header())
            .form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("POST");
        self.read(response).await
    }

    /// A form `POST` with the admin password, from the shop's own page.
    pub async fn post_as_admin(&mut self, path: &str, password: &str) -> Answer {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth("admin", Some(password))
            .header("origin", self.base.as_str())
            .header("sec-fetch-site", "same-origin")
            .form(&[("go", "1")])
            .send()
            .await
            .expect("POST");
        self.read(response).await
    }

    /// A `GET` with the admin password (HTTP Basic).
    pub async fn get_as_admin(&mut self, path: &str, password: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth("admin", Some(password))
            .send()
            .await
            .expect("GET");
        self.read(response).await
    }

    /// Buys `product` with `gateway` on the checkout page.
    pub async fn checkout(&mut self, product: &str, gateway: GatewayId) -> Answer {
        self.post_form(
            "/checkout",
            &[("product", product), ("gateway", gateway.as_str())],
        )
        .await
    }

    /// Returns to the shop as the gateway's page sends the buyer back.
    pub async fn return_to_shop(&mut self, cb: &CallbackInstruction) -> Answer {
        match cb.method {
            CallbackMethod::Get => {
                // A top-level GET navigation: SameSite=Lax cookies come along.
                let response = self
                    .http
                    .get(&cb.url)
                    .header(COOKIE, self.cookie_header())
                    .send()
                    .await
                    .expect("GET callback");
                self.read(response).await
            }
            CallbackMethod::Post => {
                // Cross-site POST: no Lax cookie. The shop answers with a same-origin
                // re-post, which the browser then sends with the cookie.
                let response = self
                    .http
                    .post(&cb.url)
                    .form(&cb.fields)
                    .send()
                    .await
                    .expect("POST callback");
                let first = self.read(response).await;
                assert_eq!(
                    first.status, 200,
                    "the cookieless POST gets the re-post page"
                );
                assert!(first.body.contains(RESUBMIT_FIELD), "{}", first.body);
                let mut fields = cb.fields.clone();
                fields.push((RESUBMIT_FIELD.to_owned(), "1".to_owned()));
                let response = self
                    .http
                    .post(&cb.url)
                    .header(COOKIE, self.cookie_header())
                    .form(&fields)
                    .send()
                    .await
                    .expect("re-posted callback");
                self.read(response).await
            }
        }
    }
}

/// Buys `product` with `gateway`, does `action` on the sandbox's page and returns to the
/// shop. Returns the order id and the shop's answer to the return.
pub async fn buy(
    shop: &TestShop,
    buyer: &mut Buyer,
    product: &str,
    gateway: GatewayId,
    action: Action,
) -> (String, Answer) {
    let started = buyer.checkout(product, gateway).await;
    assert!(
        matches!(started.status, 200 | 302),
        "checkout with {gateway}: {} {}",
        started.status,
        started.body
    );
    let order = shop.newest_order().await;
    assert_eq!(order.gateway, gateway);
    assert_eq!(order.status, Status::AwaitingPayment);
    let cb = shop.act(gateway, &order.id, action);
    let answer = buyer.return_to_shop(&cb).await;
    (order.id, answer)
}

/// How many rows of the orders page show `order_id` with `status`.
pub fn orders_page_rows(html: &str, order_id: &str, status: &str) -> usize {
    html.matches(&format!(
        "data-order=\"{order_id}\" data-status=\"{status}\""
    ))
    .count()
}
