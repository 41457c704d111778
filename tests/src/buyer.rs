//! A buyer's browser, reduced to what matters here: it keeps cookies by hand (so tests can
//! drop, swap or tamper with them) and returns to the shop the way a browser would — a
//! `GET` callback carries the state cookie (a top-level `SameSite=Lax` navigation), a
//! cross-site `POST` callback does not, and the library's same-origin re-post then does.

use payment_core::GatewayId;
use payment_sandbox::{Action, CallbackInstruction, CallbackMethod};
use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};

use crate::harness::{Env, sandbox_gateway};

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The `Set-Cookie` headers.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

/// A cookie as the buyer holds it.
pub type Cookie = (String, String);

pub struct Buyer {
    http: reqwest::Client,
    app_base: String,
    /// The cookies the shop set and did not remove, oldest first.
    pub jar: Vec<Cookie>,
}

impl Buyer {
    pub fn new(env: &Env) -> Buyer {
        Self::at(&env.app_base)
    }

    /// A buyer whose requests go to the app at `base` (another instance, say).
    pub fn at(base: &str) -> Buyer {
        // One client for every buyer: cookies are kept by hand, and building a client
        // (TLS roots included) costs far more than a loopback request. No idle pool, as
        // tests run on runtimes of their own and a pooled connection belongs to one.
        static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
        Buyer {
            http: CLIENT
                .get_or_init(|| {
                    reqwest::Client::builder()
                        .redirect(reqwest::redirect::Policy::none())
                        .pool_max_idle_per_host(0)
                        .build()
                        .expect("client")
                })
                .clone(),
            app_base: base.to_owned(),
            jar: Vec::new(),
        }
    }

    /// Asks the shop to start a payment; keeps the cookies it sets.
    pub async fn start(&mut self, gateway: GatewayId, order_id: &str, amount: u64) -> Answer {
        self.start_attempt(gateway, order_id, amount, None).await
    }

    /// Starts a payment of an order that may have had payments before: `attempt` is what
    /// the app counts (an app without a ledger), `None` leaves the count to the library.
    pub async fn start_attempt(
        &mut self,
        gateway: GatewayId,
        order_id: &str,
        amount: u64,
        attempt: Option<u8>,
    ) -> Answer {
        let attempt = attempt.map(|n| format!("&attempt={n}")).unwrap_or_default();
        let url = format!(
            "{}/shop/buy/{}?order={order_id}&amount={amount}{attempt}",
            self.app_base,
            gateway.as_str()
        );
        let answer = read(self.http.get(url).send().await.expect("start request")).await;
        self.absorb(&answer);
        answer
    }

    /// Applies `Set-Cookie` headers: new values replace, `Max-Age=0` removes.
    pub fn absorb(&mut self, answer: &Answer) {
        for header in answer.set_cookies() {
            let first = header.split(';').next().unwrap_or_default();
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let removal = header.to_ascii_lowercase().contains("max-age=0");
            self.jar.retain(|(n, _)| n != name);
            if !removal {
                self.jar.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    /// The state cookie of the one payment started last.
    pub fn last_cookie(&self) -> Cookie {
        self.jar
            .last()
            .cloned()
            .expect("the shop set a state cookie")
    }

    /// Returns to the shop with the callback the gateway's page emitted, sending `cookies`
    /// wherever a browser would send the shop's cookies.
    pub async fn return_with(
        &mut self,
        callback: &CallbackInstruction,
        cookies: &[Cookie],
    ) -> Answer {
        let answer = match callback.method {
            CallbackMethod::Get => self.send_get(&callback.url, cookies).await,
            CallbackMethod::Post => {
                // Cross-site POST: SameSite=Lax cookies stay behind.
                let first = self.send_post(&callback.url, &callback.fields, &[]).await;
                match resubmit_form(&first.body) {
                    Some((action, fields)) => {
                        let action = if action.starts_with('/') {
                            format!("{}{action}", self.app_base)
                        } else {
                            action
                        };
                        self.send_post(&action, &fields, cookies).await
                    }
                    None => first,
                }
            }
        };
        self.absorb(&answer);
        answer
    }

    /// Returns to the shop carrying every cookie the buyer holds.
    pub async fn return_to_shop(&mut self, callback: &CallbackInstruction) -> Answer {
        let jar = self.jar.clone();
        self.return_with(callback, &jar).await
    }

    /// Sends `callback` to this buyer's app instead of the public URL it names.
    pub fn retarget(&self, callback: &CallbackInstruction) -> CallbackInstruction {
        let mut moved = callback.clone();
        let url = url::Url::parse(&callback.url).expect("callback url");
        let path_and_query = &url[url::Position::BeforePath..];
        moved.url = format!("{}{path_and_query}", self.app_base);
        moved
    }

    async fn send_get(&self, url: &str, cookies: &[Cookie]) -> Answer {
        let mut request = self.http.get(url);
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookie_header(cookies));
        }
        read(request.send().await.expect("callback GET")).await
    }

    async fn send_post(
        &self,
        url: &str,
        fields: &[(String, String)],
        cookies: &[Cookie],
    ) -> Answer {
        let mut request = self.http.post(url).form(fields);
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookie_header(cookies));
        }
        read(request.send().await.expect("callback POST")).await
    }
}

/// Plays the buyer on the gateway's payment page for `order_id`.
pub fn act(env: &Env, gateway: GatewayId, order_id: &str, action: Action) -> CallbackInstruction {
    let key = env.transaction(gateway, order_id).key;
    env.sandbox
        .handle
        .act(sandbox_gateway(gateway), &key, action)
        .expect("the sandbox accepts the buyer's action")
}

/// The callback with one field's value replaced (the field must be there).
pub fn with_field(callback: &CallbackInstruction, name: &str, value: &str) -> CallbackInstruction {
    let mut changed = callback.clone();
    let mut found = false;
    for (k, v) in &mut changed.fields {
        if k == name {
            *v = value.to_owned();
            found = true;
        }
    }
    assert!(found, "callback has no field {name}: {:?}", callback.fields);
    if changed.method == CallbackMethod::Get {
        let mut url = url::Url::parse(&changed.url).expect("callback url");
        url.query_pairs_mut().clear().extend_pairs(&changed.fields);
        changed.url = url.to_string();
    }
    changed
}

pub fn cookie_header(cookies: &[Cookie]) -> String {
    cookies
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

/// The form field that marks the library's own re-post of a cross-site `POST` callback.
const RESUBMIT_FIELD: &str = "_payment_resubmit";

/// The action and fields of the library's auto-submitting re-post page, if `body` is one.
pub fn resubmit_form(body: &str) -> Option<(String, Vec<(String, String)>)> {
    if !body.contains(RESUBMIT_FIELD) {
        return None;
    }
    auto_submit_form(body)
}

/// The action and hidden fields of an auto-submitting form page.
pub fn auto_submit_form(body: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = &body[body.find("<form")?..];
    let action = attribute(form, "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find("<input") {
        rest = &rest[at + 6..];
        let tag = &rest[..rest.find('>')?];
        if let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value")) {
            fields.push((name, value));
        }
    }
    Some((action, fields))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
