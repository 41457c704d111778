//! The checked baseline: the same endpoints as the baseline, written by hand *with* the
//! checks this library makes, as a careful shop would write them without it. It shows what
//! the safety itself costs, apart from how the library does it:
//!
//! - `GET /buy`: NovinPal create, then an HMAC-SHA256-signed cookie with the order (id,
//!   amount, gateway reference, expiry, nonce), one cookie per order, and a 302.
//! - `GET /pay/callback/novinpal?refId=…`: finds the order's cookie, checks its tag, its
//!   expiry and that the callback's reference, order and amount are the cookie's; claims
//!   the reference in a `Mutex<HashMap>` (a second callback gets 409); calls verify; checks
//!   the answer's status, order id and amount against the cookie; records the reference as
//!   fulfilled (or frees the claim when verify did not say "paid"); answers with the
//!   cookie removed and `Cache-Control: no-store`.
//!
//! It is written the way one would by hand: crates used directly, no abstraction over
//! gateways, stores or frameworks, and no pending state kept for retries.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::{AMOUNT, ServeArgs, by_hand::NovinPalByHand};

/// The signing key: fixed, like the router app's.
const KEY: &[u8; 32] = b"payment-bench signing key, 32 b!";
/// How long a started payment's cookie is good for.
const STATE_TTL: Duration = Duration::from_secs(30 * 60);
/// How long one verify may hold its claim.
const LEASE: Duration = Duration::from_secs(120);
/// The prefix of the per-order cookies.
const PREFIX: &str = "order_";
const COOKIE_PATH: &str = "/pay/callback";

type HmacSha256 = Hmac<Sha256>;

struct Checked {
    novinpal: NovinPalByHand,
    next: AtomicU64,
    /// Keyed once; each use starts from a clone.
    mac: HmacSha256,
    claims: Mutex<HashMap<String, Claim>>,
}

enum Claim {
    Verifying(Instant),
    Fulfilled,
}

/// The order as its cookie carries it: `order_id|amount|ref_id|expires|nonce`, then `.`
/// and the base64url HMAC tag of the cookie's name, `=` and that payload.
struct OrderCookie<'a> {
    order_id: &'a str,
    amount: u64,
    ref_id: &'a str,
    expires: u64,
}

/// The app: `GET /buy` and `GET /pay/callback/novinpal`.
pub(crate) fn app(serve: &ServeArgs) -> Result<Router, Box<dyn std::error::Error>> {
    let state = Arc::new(Checked {
        novinpal: NovinPalByHand::new(serve)?,
        next: AtomicU64::new(1),
        mac: HmacSha256::new_from_slice(KEY)?,
        claims: Mutex::new(HashMap::new()),
    });
    Ok(Router::new()
        .route("/buy", get(buy))
        .route("/pay/callback/novinpal", get(callback))
        .with_state(state))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Checked {
    fn mac(&self, name: &str, payload: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(name.as_bytes());
        mac.update(b"=");
        mac.update(payload.as_bytes());
        mac
    }

    /// A signed cookie value for `order`.
    fn seal(&self, name: &str, order: &OrderCookie<'_>, nonce: &str) -> String {
        let payload = format!(
            "{}|{}|{}|{}|{nonce}",
            order.order_id, order.amount, order.ref_id, order.expires
        );
        let tag = self.mac(name, &payload).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The cookie's order, if its tag is ours (compared in constant time).
    fn open<'v>(&self, name: &str, value: &'v str) -> Option<OrderCookie<'v>> {
        let (payload, tag) = value.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(name, payload).verify_slice(&tag).ok()?;
        let mut fields = payload.split('|');
        let order = OrderCookie {
            order_id: fields.next()?,
            amount: fields.next()?.parse().ok()?,
            ref_id: fields.next()?,
            expires: fields.next()?.parse().ok()?,
        };
        Some(order)
    }

    /// Takes `key` for one verify; refused while another holds it or once fulfilled.
    fn claim(&self, key: &str) -> Result<(), &'static str> {
        let mut claims = self.claims.lock().unwrap_or_else(|e| e.into_inner());
        match claims.get(key) {
            Some(Claim::Fulfilled) => Err("already fulfilled"),
            Some(Claim::Verifying(since)) if since.elapsed() < LEASE => Err("being verified"),
            _ => {
                claims.insert(key.to_owned(), Claim::Verifying(Instant::now()));
                Ok(())
            }
        }
    }

    /// Records `key` as fulfilled, or frees it for a retry.
    fn settle(&self, key: &str, fulfilled: bool) {
        let mut claims = self.claims.lock().unwrap_or_else(|e| e.into_inner());
        if fulfilled {
            claims.insert(key.to_owned(), Claim::Fulfilled);
        } else {
            claims.remove(key);
        }
    }
}

async fn buy(State(app): State<Arc<Checked>>) -> Response {
    let id = format!("C-{}", app.next.fetch_add(1, Ordering::Relaxed));
    let Some(ref_id) = app.novinpal.create(&id).await else {
        return (StatusCode::BAD_GATEWAY, "could not start the payment").into_response();
    };
    let mut nonce = [0u8; 16];
    if getrandom::fill(&mut nonce).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness").into_response();
    }
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    // One cookie per order, so that two tabs paying two orders keep both.
    let name = format!("{PREFIX}{}", &nonce[..12]);
    let order = OrderCookie {
        order_id: &id,
        amount: AMOUNT,
        ref_id: &ref_id,
        expires: unix_now() + STATE_TTL.as_secs(),
    };
    let cookie = format!(
        "{name}={}; Path={COOKIE_PATH}; Max-Age={}; HttpOnly; SameSite=Lax",
        app.seal(&name, &order, &nonce),
        STATE_TTL.as_secs()
    );
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, app.novinpal.start_url(&ref_id)),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}

#[derive(Deserialize)]
struct Callback {
    #[serde(rename = "refId")]
    ref_id: String,
    success: Option<String>,
    #[serde(rename = "invoiceNumber")]
    order_id: Option<String>,
    amount: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyAnswer {
    status: i64,
    order_id: Option<String>,
    amount: Option<u64>,
    ref_number: Option<String>,
    card_number: Option<String>,
}

/// An answer that also removes the order's cookie and is not to be stored.
fn answer(status: StatusCode, body: String, cookie_name: Option<&str>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(name) = cookie_name
        && let Ok(value) = HeaderValue::try_from(format!(
            "{name}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Lax"
        ))
    {
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    (status, headers, body).into_response()
}

async fn callback(
    State(app): State<Arc<Checked>>,
    Query(cb): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    // The order's cookie: the one whose tag is ours and whose reference is the callback's.
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.starts_with(PREFIX));
    let Some((name, order)) = cookies
        .filter_map(|(name, value)| Some((name, app.open(name, value)?)))
        .find(|(_, order)| order.ref_id == cb.ref_id)
    else {
        return answer(
            StatusCode::BAD_REQUEST,
            "no order for this payment".into(),
            None,
        );
    };
    if order.expires <= unix_now() {
        return answer(StatusCode::BAD_REQUEST, "order expired".into(), Some(name));
    }
    if cb
        .order_id
        .as_deref()
        .is_some_and(|id| id != order.order_id)
        || cb.amount.is_some_and(|a| a != order.amount)
    {
        return answer(
            StatusCode::BAD_REQUEST,
            "callback does not match".into(),
            None,
        );
    }
    if cb.success.as_deref() != Some("1") {
        return answer(StatusCode::PAYMENT_REQUIRED, "not paid".into(), Some(name));
    }
    if let Err(why) = app.claim(&cb.ref_id) {
        return answer(StatusCode::CONFLICT, why.into(), None);
    }
    match app.novinpal.verify::<VerifyAnswer>(&cb.ref_id).await {
        Ok(VerifyAnswer {
            status: 1,
            order_id: Some(order_id),
            amount: Some(amount),
            ref_number,
            card_number,
        }) if order_id == order.order_id && amount == order.amount => {
            app.settle(&cb.ref_id, true);
            // What a shop records with the order; the answer says only that it is paid.
            let _receipt = (ref_number, card_number);
            answer(StatusCode::OK, format!("paid {order_id}"), Some(name))
        }
        Ok(VerifyAnswer { status: 1, .. }) => {
            app.settle(&cb.ref_id, false);
            answer(
                StatusCode::BAD_GATEWAY,
                "verified another payment".into(),
                None,
            )
        }
        Ok(_) => {
            app.settle(&cb.ref_id, false);
            answer(StatusCode::PAYMENT_REQUIRED, "not paid".into(), Some(name))
        }
        Err(_) => {
            app.settle(&cb.ref_id, false);
            answer(StatusCode::BAD_GATEWAY, "gateway unavailable".into(), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use payment_sandbox::{Sandbox, SandboxConfig};
    use reqwest::{StatusCode, header::HeaderMap as Headers};

    use super::*;

    /// The sandbox and the checked app on loopback: (app URL, sandbox URL, client).
    async fn serve() -> (
        String,
        String,
        reqwest::Client,
        payment_sandbox::RunningSandbox,
    ) {
        let sandbox = Sandbox::spawn_on_loopback(SandboxConfig::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let serve = ServeArgs {
            port: listener.local_addr().unwrap().port(),
            sandbox: sandbox.base_url.clone(),
        };
        let router = app(&serve).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        (serve.public_url(), sandbox.base_url.clone(), http, sandbox)
    }

    /// Sends a callback line (`PATH?QUERY<TAB>COOKIE`), its cookie replaced by `cookie`.
    async fn send(
        http: &reqwest::Client,
        app: &str,
        path: &str,
        cookie: &str,
    ) -> (StatusCode, Headers, String) {
        let mut request = http.get(format!("{app}{path}"));
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    #[tokio::test]
    async fn makes_the_checks_it_stands_for() {
        let (app, sandbox, http, _sandbox) = serve().await;
        let line = crate::prepare::one(&http, &app, &sandbox).await.unwrap();
        let (path, cookie) = line.split_once('\t').unwrap();
        assert!(cookie.starts_with(PREFIX), "{cookie}");
        let name = cookie.split_once('=').unwrap().0;

        // Before the real one: none of these may fulfil the payment or hold its claim.
        let (status, _, body) = send(&http, &app, path, "").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::BAD_REQUEST, "no order for this payment")
        );
        let forged = format!("{}x", &cookie[..cookie.len() - 1]);
        let (status, _, _) = send(&http, &app, path, &forged).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let swapped = path.replace("amount=120000", "amount=1200");
        assert_ne!(swapped, path);
        let (status, _, body) = send(&http, &app, &swapped, cookie).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::BAD_REQUEST, "callback does not match")
        );

        let (status, headers, body) = send(&http, &app, path, cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with("paid C-"), "{body}");
        assert_eq!(
            headers[header::SET_COOKIE],
            format!("{name}=; Path=/pay/callback; Max-Age=0; HttpOnly; SameSite=Lax").as_str()
        );
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");

        let (status, _, body) = send(&http, &app, path, cookie).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::CONFLICT, "already fulfilled")
        );
    }

    #[test]
    fn a_cookie_opens_only_under_its_own_name() {
        let serve = ServeArgs {
            port: 1,
            sandbox: "http://127.0.0.1:2".into(),
        };
        let checked = Checked {
            novinpal: NovinPalByHand::new(&serve).unwrap(),
            next: AtomicU64::new(1),
            mac: HmacSha256::new_from_slice(KEY).unwrap(),
            claims: Mutex::new(HashMap::new()),
        };
        let order = OrderCookie {
            order_id: "C-1",
            amount: 120_000,
            ref_id: "42",
            expires: 7,
        };
        let value = checked.seal("order_a", &order, "nonce");
        let opened = checked.open("order_a", &value).unwrap();
        assert_eq!(
            (
                opened.order_id,
                opened.amount,
                opened.ref_id,
                opened.expires
            ),
            ("C-1", 120_000, "42", 7)
        );
        assert!(checked.open("order_b", &value).is_none());
        let raised = value.replacen("120000", "120001", 1);
        assert!(checked.open("order_a", &raised).is_none());
    }
}
