//! Who may do what: each buyer's own signed session cookie, the admin's password, and the
//! same-origin rule for every form that changes something.
//!
//! A buyer sees their own orders only; an order of someone else's is "not found", never
//! "forbidden", so order ids cannot be probed. The all-orders view needs the admin
//! password (HTTP Basic, compared in constant time). State-changing forms are refused
//! when the browser says they came from another site; the payment callbacks are not
//! behind this rule, because a gateway's return is cross-site by nature.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use base64::{Engine, engine::general_purpose::STANDARD};
use subtle::ConstantTimeEq;

use crate::routes::AppState;

/// The buyer session cookie.
pub const BUYER_COOKIE: &str = "shop_buyer";

/// A buyer session lasts a year: long enough to come back to an order.
const BUYER_COOKIE_DAYS: i64 = 365;

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        state.access.cookie_key.clone()
    }
}

/// What [`AppState`] knows about access: the cookie key, the admin password and the
/// shop's own origin.
#[derive(Clone)]
pub struct Access {
    cookie_key: Key,
    admin_password: String,
    origin: String,
    https: bool,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Access {
    /// `session_key` signs buyer cookies (64 bytes or more); `public_url` is the shop's
    /// origin, e.g. `https://shop.example`.
    pub fn new(session_key: &[u8], admin_password: String, public_url: &str) -> Option<Access> {
        let cookie_key = Key::try_from(session_key).ok()?;
        let origin = public_url.trim_end_matches('/').to_owned();
        Some(Access {
            cookie_key,
            admin_password,
            https: origin.starts_with("https://"),
            origin,
        })
    }

    /// Whether the shop is served over https (its cookies are then `Secure`).
    pub fn https(&self) -> bool {
        self.https
    }
}

/// The buyer asking, known by their signed session cookie, if they have one yet.
#[derive(Debug)]
pub struct BuyerSession {
    id: Option<String>,
    jar: SignedCookieJar,
    https: bool,
}

impl BuyerSession {
    /// The session's id, if the browser sent a valid session cookie.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The session's id, making a new session when there is none; the jar sets its
    /// cookie and goes into the answer. Fails only when the host has no randomness.
    pub fn ensure(self) -> Result<(String, SignedCookieJar), getrandom::Error> {
        if let Some(id) = self.id {
            return Ok((id, self.jar));
        }
        let id = crate::random_token(16)?;
        let cookie = Cookie::build((BUYER_COOKIE, id.clone()))
            .path("/")
            .http_only(true)
            // Lax: the top-level return from a gateway carries it.
            .same_site(SameSite::Lax)
            .secure(self.https)
            .max_age(time::Duration::days(BUYER_COOKIE_DAYS));
        Ok((id, self.jar.add(cookie)))
    }

    /// Whether `owner` (an order's buyer) is this session.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        matches!((self.id(), owner), (Some(me), Some(owner)) if me == owner)
    }
}

impl FromRequestParts<AppState> for BuyerSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = SignedCookieJar::from_headers(&parts.headers, state.access.cookie_key.clone());
        let id = jar.get(BUYER_COOKIE).map(|c| c.value().to_owned());
        Ok(BuyerSession {
            id,
            jar,
            https: state.access.https,
        })
    }
}

/// Proof that the request carries the admin password.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// The answer to a request without the admin password: the browser asks for it.
#[derive(Debug)]
pub struct AdminRequired;

impl IntoResponse for AdminRequired {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"shop admin\", charset=\"UTF-8\""),
            )],
            "The admin view needs the admin password (SHOP_ADMIN_PASSWORD).",
        )
            .into_response()
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AdminRequired;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let given = basic_password(&parts.headers).ok_or(AdminRequired)?;
        let expected = state.access.admin_password.as_bytes();
        if bool::from(given.as_bytes().ct_eq(expected)) {
            Ok(Admin)
        } else {
            Err(AdminRequired)
        }
    }
}

/// The password of an `Authorization: Basic` header (any user name).
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (_, password) = decoded.split_once(':')?;
    Some(password.to_owned())
}

/// Proof that a state-changing form came from the shop's own pages.
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

/// A form posted from another site.
#[derive(Debug)]
pub struct CrossSite;

impl IntoResponse for CrossSite {
    fn into_response(self) -> Response {
        (
            StatusCode::FORBIDDEN,
            "Cross-site form posts are refused. / درخواست از سایت دیگر پذیرفته نمی‌شود.",
        )
            .into_response()
    }
}

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = CrossSite;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if is_same_origin(&parts.headers, &state.access.origin) {
            Ok(SameOrigin)
        } else {
            tracing::info!(
                origin = ?parts.headers.get(header::ORIGIN),
                path = parts.uri.path(),
                "cross-site form post refused"
            );
            Err(CrossSite)
        }
    }
}

/// Browsers say where a request came from in `Sec-Fetch-Site` (every current one) and
/// `Origin` (on every POST). Either one naming another site refuses the request; a client
/// that sends neither is not a browser, and no browser's cookies ride on it.
fn is_same_origin(headers: &HeaderMap, own_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none": typed into the address bar or a bookmark.
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return false;
        }
    }
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => origin.as_bytes() == own_origin.as_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_the_shops_own_origin_may_post() {
        let own = "http://localhost:8080";
        assert!(is_same_origin(&headers(&[]), own));
        assert!(is_same_origin(
            &headers(&[
                ("origin", "http://localhost:8080"),
                ("sec-fetch-site", "same-origin")
            ]),
            own
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://evil.example")]),
            own
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            own
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            own
        ));
        // A form on a page opened from a file or a sandboxed frame.
        assert!(!is_same_origin(&headers(&[("origin", "null")]), own));
    }

    #[test]
    fn basic_credentials_are_read_whatever_the_user_name() {
        let map = headers(&[("authorization", "Basic YWRtaW46czNjcmV0OnBhc3M=")]);
        assert_eq!(basic_password(&map).as_deref(), Some("s3cret:pass"));
        assert_eq!(
            basic_password(&headers(&[("authorization", "Bearer x")])),
            None
        );
        assert_eq!(
            basic_password(&headers(&[("authorization", "Basic !!!")])),
            None
        );
    }
}
