//! What a gateway sends back through the buyer's browser, before anything is trusted.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{GatewayId, Rial, error::CallbackError, error::GatewayCode};

/// The most query or form fields a callback may carry before it is refused as not a
/// gateway's (and, apart from them, the most cookies read).
pub(crate) const MAX_FIELDS: usize = 64;
/// The longest a single callback field (name or value) may be, in bytes.
pub(crate) const MAX_FIELD_LEN: usize = 2048;

/// How the callback arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMethod {
    /// A `GET` with the fields in the query string.
    Get,
    /// A `POST` with the fields in a form body (and possibly some in the query).
    Post,
}

/// A callback request in a framework-neutral form: method, query pairs, form-body pairs
/// and the request's cookies. The framework crates build it; the pipeline reads it.
///
/// A callback with more than 64 query and form fields, or a field (name or value) longer
/// than 2 KiB, is refused as [`CallbackError::TooLarge`]: no gateway sends one. Cookies
/// past the 64th are ignored.
///
/// ```
/// use payment_core::CallbackRequest;
/// let req = CallbackRequest::from_get("refId=9&success=1&code=100&invoiceNumber=88&amount=10000")
///     .unwrap()
///     .with_cookie_header("a=1; b=2");
/// assert_eq!(req.param("refId"), Some("9"));
/// assert_eq!(req.cookie("b"), Some("2"));
/// assert_eq!(req.query().count(), 5);
/// ```
#[derive(Clone)]
pub struct CallbackRequest {
    method: CallbackMethod,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
}

impl CallbackRequest {
    /// The largest callback body a framework crate reads, in bytes (gateways post a few
    /// hundred); a larger one is refused as [`CallbackError::TooLarge`].
    pub const MAX_BODY: usize = 64 * 1024;

    /// A request from its parts. Refuses oversized input.
    pub fn new(
        method: CallbackMethod,
        query: Vec<(String, String)>,
        form: Vec<(String, String)>,
    ) -> Result<Self, CallbackError> {
        let fields = query.len() + form.len();
        let too_long = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .any(|(k, v)| k.len() > MAX_FIELD_LEN || v.len() > MAX_FIELD_LEN)
        };
        if fields > MAX_FIELDS || too_long(&query) || too_long(&form) {
            return Err(CallbackError::TooLarge);
        }
        Ok(Self {
            method,
            query,
            form,
            cookies: Vec::new(),
        })
    }

    /// A `GET` callback from its raw query string (without `?`).
    pub fn from_get(query: &str) -> Result<Self, CallbackError> {
        Self::new(CallbackMethod::Get, decode(query)?, Vec::new())
    }

    /// A `POST` callback from its raw query string and its
    /// `application/x-www-form-urlencoded` body.
    pub fn from_post(query: &str, body: &[u8]) -> Result<Self, CallbackError> {
        let body = std::str::from_utf8(body).map_err(|_| CallbackError::MalformedField("body"))?;
        Self::new(CallbackMethod::Post, decode(query)?, decode(body)?)
    }

    /// A callback as a framework crate sees it: the request method's name, the raw query
    /// string and the body (empty for a `GET`). Gateways only ever send `GET` or `POST`;
    /// any other method (a `HEAD` from a link checker, say) is refused, so that it cannot
    /// use up the payment.
    pub fn read(method: &str, query: &str, body: &[u8]) -> Result<Self, CallbackError> {
        match method {
            "GET" => Self::from_get(query),
            "POST" => Self::from_post(query, body),
            _ => Err(CallbackError::MalformedField("method")),
        }
    }

    /// Adds the cookies of a `Cookie` request header (`a=1; b=2`). Malformed pairs are
    /// skipped; a later pair with the same name does not replace an earlier one.
    pub fn with_cookie_header(mut self, header: &str) -> Self {
        for pair in header.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                let name = name.trim();
                if !name.is_empty() {
                    self.push_cookie(name, value.trim().trim_matches('"'));
                }
            }
        }
        self
    }

    /// Adds one cookie.
    pub fn with_cookie(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.push_cookie(name.as_ref(), value.as_ref());
        self
    }

    fn push_cookie(&mut self, name: &str, value: &str) {
        if self.cookies.len() < MAX_FIELDS {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    /// How the request arrived.
    pub fn method(&self) -> CallbackMethod {
        self.method
    }

    /// A field by name: from the form body first, then the query string.
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.form, name).or_else(|| find(&self.query, name))
    }

    /// A field that must be present and non-empty.
    pub fn required(&self, name: &'static str) -> Result<&str, CallbackError> {
        match self.param(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(CallbackError::MissingField(name)),
        }
    }

    /// The query-string pairs, in order.
    pub fn query(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        pairs(&self.query)
    }

    /// The form-body pairs, in order.
    pub fn form(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        pairs(&self.form)
    }

    /// A cookie by name (the first of that name).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        find(&self.cookies, name)
    }

    /// All cookies, in order.
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        pairs(&self.cookies)
    }
}

/// Decodes `a=1&b=2` (percent-encoded, `+` for space), refusing input no gateway sends.
fn decode(raw: &str) -> Result<Vec<(String, String)>, CallbackError> {
    if raw.len() > MAX_FIELDS * MAX_FIELD_LEN {
        return Err(CallbackError::TooLarge);
    }
    // Percent-decoding is lossy: invalid UTF-8 becomes U+FFFD.
    Ok(url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect())
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn pairs(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

// Values may be bearer tokens (CanPay's `token`, a signed state): names only.
impl fmt::Debug for CallbackRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().map(|(k, _)| k.clone()).collect()
        };
        f.debug_struct("CallbackRequest")
            .field("method", &self.method)
            .field("query", &names(&self.query))
            .field("form", &names(&self.form))
            .field("cookies", &names(&self.cookies))
            .finish()
    }
}

/// What the callback says about the payment. Only a hint: verify decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CallbackStatus {
    /// The gateway says the buyer paid; verify must confirm it.
    Paid,
    /// The callback does not say (GardeshPay's callback carries no result).
    Unknown,
    /// The buyer cancelled or the payment failed at the bank.
    Failed {
        /// The gateway's code, where it sent one.
        #[serde(skip)]
        code: Option<GatewayCode>,
        /// The code as a number, for storage.
        raw_code: Option<i64>,
    },
}

impl CallbackStatus {
    /// A failure, with `gateway`'s code for it where the callback carries one.
    pub fn failed(gateway: GatewayId, code: Option<i64>) -> Self {
        CallbackStatus::Failed {
            code: code.map(|c| GatewayCode::lookup(gateway, c)),
            raw_code: code,
        }
    }
}

/// A parsed callback: the documented fields of one gateway, still untrusted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallbackData {
    /// The gateway the callback is for.
    pub gateway: GatewayId,
    /// The order id the callback names, if it names one.
    pub order_id: Option<String>,
    /// The gateway reference from create that the callback echoes (NovinPal `refId`,
    /// IDPay `id`, Inopal `ref_num`, CanPay `token`, Zarinpal `Authority`, Zibal
    /// `trackId`); `None` where the callback carries
    /// none (GardeshPay).
    pub reference: Option<String>,
    /// A reference that exists only from the callback on and that verify needs
    /// (GardeshPay `trackingNumber`).
    pub verify_reference: Option<String>,
    /// The amount the callback states, if any.
    pub amount: Option<Rial>,
    /// What the callback says happened.
    pub status: CallbackStatus,
    /// The gateway's own tracking number from the callback, if any (IDPay `track_id`,
    /// Inopal `tracking_code`).
    pub tracking_code: Option<String>,
    /// The masked card number from the callback, if any.
    pub card_mask: Option<String>,
}

impl CallbackData {
    /// An empty callback for `gateway` with the given status, to be filled by a parser.
    pub fn new(gateway: GatewayId, status: CallbackStatus) -> Self {
        Self {
            gateway,
            order_id: None,
            reference: None,
            verify_reference: None,
            amount: None,
            status,
            tracking_code: None,
            card_mask: None,
        }
    }
}

// The references are bearer values at CanPay and GardeshPay: not printed in full.
impl fmt::Debug for CallbackData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partial = |v: &Option<String>| v.as_deref().map(crate::redact::partial);
        f.debug_struct("CallbackData")
            .field("gateway", &self.gateway)
            .field("order_id", &self.order_id)
            .field("reference", &partial(&self.reference))
            .field("verify_reference", &partial(&self.verify_reference))
            .field("amount", &self.amount)
            .field("status", &self.status)
            .field("tracking_code", &self.tracking_code)
            .field("card_mask", &self.card_mask)
            .finish()
    }
}

/// Parses an amount field that must be a whole number of rial.
pub fn parse_amount(value: &str, field: &'static str) -> Result<Rial, CallbackError> {
    value
        .trim()
        .parse::<u64>()
        .map(Rial::new)
        .map_err(|_| CallbackError::MalformedField(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_wins_over_query_and_sizes_are_capped() {
        let req = CallbackRequest::from_post("id=q", b"id=f&x=%D8%B3").unwrap();
        assert_eq!(req.param("id"), Some("f"));
        assert_eq!(req.param("x"), Some("س"));
        assert_eq!(
            req.required("nope"),
            Err(CallbackError::MissingField("nope"))
        );
        let long = format!("a={}", "x".repeat(MAX_FIELD_LEN + 1));
        assert_eq!(
            CallbackRequest::from_get(&long).unwrap_err(),
            CallbackError::TooLarge
        );
        let many: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            CallbackRequest::from_get(&many.join("&")).unwrap_err(),
            CallbackError::TooLarge
        );
        assert_eq!(
            CallbackRequest::from_post("", &[0xff]).unwrap_err(),
            CallbackError::MalformedField("body")
        );
    }

    #[test]
    fn only_get_and_post_are_read() {
        let get = CallbackRequest::read("GET", "a=1", b"b=2").unwrap();
        assert_eq!((get.method(), get.param("b")), (CallbackMethod::Get, None));
        let post = CallbackRequest::read("POST", "a=1", b"b=2").unwrap();
        assert_eq!(post.method(), CallbackMethod::Post);
        assert_eq!((post.param("a"), post.param("b")), (Some("1"), Some("2")));
        assert_eq!(
            CallbackRequest::read("HEAD", "a=1", b"").unwrap_err(),
            CallbackError::MalformedField("method")
        );
    }

    #[test]
    fn cookies_are_capped_apart_from_fields() {
        let header: Vec<String> = (0..MAX_FIELDS + 5).map(|i| format!("c{i}={i}")).collect();
        let query: Vec<String> = (0..MAX_FIELDS).map(|i| format!("q{i}=v")).collect();
        let request = CallbackRequest::from_get(&query.join("&"))
            .unwrap()
            .with_cookie_header(&header.join("; "))
            .with_cookie("late", "1");
        assert_eq!(request.query().count(), MAX_FIELDS);
        assert_eq!(request.cookies().count(), MAX_FIELDS);
        assert_eq!(request.cookie("late"), None);
        let last = MAX_FIELDS - 1;
        assert_eq!(
            request.cookie(&format!("c{last}")),
            Some(last.to_string().as_str())
        );
    }

    #[test]
    fn cookie_header_parsing() {
        let req = CallbackRequest::from_get("")
            .unwrap()
            .with_cookie_header(" a=1;b=\"2\"; junk; =x; a=3");
        assert_eq!(req.cookie("a"), Some("1"));
        assert_eq!(req.cookie("b"), Some("2"));
        assert_eq!(
            req.cookies().collect::<Vec<_>>(),
            [("a", "1"), ("b", "2"), ("a", "3")]
        );
    }

    #[test]
    fn debug_shows_names_not_values() {
        let req = CallbackRequest::from_post("", b"token=SNHQA1TYFGSFARZUM5B7")
            .unwrap()
            .with_cookie("pay_canpay_1", "signed-state");
        let printed = format!("{req:?}");
        assert!(printed.contains("token") && printed.contains("pay_canpay_1"));
        assert!(!printed.contains("SNHQ") && !printed.contains("signed-state"));
        let mut data = CallbackData::new(GatewayId::CanPay, CallbackStatus::Paid);
        data.reference = Some("SNHQA1TYFGSFARZUM5B7".into());
        assert!(!format!("{data:?}").contains("SNHQA1TYFGSF"));
    }

    #[test]
    fn amount_must_be_whole_rial() {
        assert_eq!(parse_amount(" 10000 ", "amount"), Ok(Rial::new(10_000)));
        assert!(parse_amount("10.5", "amount").is_err());
        assert!(parse_amount("-1", "amount").is_err());
    }
}
