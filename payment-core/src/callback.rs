//! What a gateway sends back through the buyer's browser, before anything is trusted.

use serde::{Deserialize, Serialize};

use crate::{CallbackError, GatewayCode, GatewayId, Rial};

/// The most fields a callback may carry before it is refused as not a gateway's.
pub const MAX_CALLBACK_FIELDS: usize = 64;
/// The longest a single callback field (name or value) may be, in bytes.
pub const MAX_CALLBACK_FIELD_LEN: usize = 2048;

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
/// ```
/// use payment_core::CallbackRequest;
/// let req = CallbackRequest::from_get("refId=9&success=1&code=100&invoiceNumber=88&amount=10000")
///     .unwrap()
///     .with_cookie_header("a=1; b=2");
/// assert_eq!(req.param("refId"), Some("9"));
/// assert_eq!(req.cookie("b"), Some("2"));
/// ```
#[derive(Debug, Clone)]
pub struct CallbackRequest {
    method: CallbackMethod,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
}

impl CallbackRequest {
    /// A request from its parts. Refuses oversized input.
    pub fn new(
        method: CallbackMethod,
        query: Vec<(String, String)>,
        form: Vec<(String, String)>,
    ) -> Result<Self, CallbackError> {
        let fields = query.iter().chain(form.iter());
        if query.len() + form.len() > MAX_CALLBACK_FIELDS
            || fields
                .clone()
                .any(|(k, v)| k.len() > MAX_CALLBACK_FIELD_LEN || v.len() > MAX_CALLBACK_FIELD_LEN)
        {
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
        Self::new(CallbackMethod::Get, parse_pairs(query)?, Vec::new())
    }

    /// A `POST` callback from its raw query string and its
    /// `application/x-www-form-urlencoded` body.
    pub fn from_post(query: &str, body: &[u8]) -> Result<Self, CallbackError> {
        let body = std::str::from_utf8(body).map_err(|_| CallbackError::MalformedField("body"))?;
        Self::new(
            CallbackMethod::Post,
            parse_pairs(query)?,
            parse_pairs(body)?,
        )
    }

    /// Adds the cookies of a `Cookie` request header (`a=1; b=2`). Malformed pairs are
    /// skipped; a later pair with the same name does not replace an earlier one.
    pub fn with_cookie_header(mut self, header: &str) -> Self {
        for pair in header.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                let value = value.trim().trim_matches('"');
                if !name.is_empty() && self.cookies.len() < MAX_CALLBACK_FIELDS {
                    self.cookies
                        .push((name.trim().to_owned(), value.to_owned()));
                }
            }
        }
        self
    }

    /// Adds one cookie.
    pub fn with_cookie(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if self.cookies.len() < MAX_CALLBACK_FIELDS {
            self.cookies.push((name.into(), value.into()));
        }
        self
    }

    /// How the request arrived.
    pub fn method(&self) -> CallbackMethod {
        self.method
    }

    /// A field by name: from the form body first, then the query string.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .chain(self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field that must be present and non-empty.
    pub fn required(&self, name: &'static str) -> Result<&str, CallbackError> {
        match self.param(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(CallbackError::MissingField(name)),
        }
    }

    /// The query-string pairs.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The form-body pairs.
    pub fn form(&self) -> &[(String, String)] {
        &self.form
    }

    /// A cookie by name.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All cookies.
    pub fn cookies(&self) -> &[(String, String)] {
        &self.cookies
    }
}

fn parse_pairs(s: &str) -> Result<Vec<(String, String)>, CallbackError> {
    if s.len() > MAX_CALLBACK_FIELDS * MAX_CALLBACK_FIELD_LEN {
        return Err(CallbackError::TooLarge);
    }
    // What `serde_urlencoded` does for a list of pairs, without its generic machinery
    // (percent-decoding is lossy: invalid UTF-8 becomes U+FFFD, as it did there).
    Ok(url::form_urlencoded::parse(s.as_bytes())
        .into_owned()
        .collect())
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

/// A parsed callback: the documented fields of one gateway, still untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackData {
    /// The gateway the callback is for.
    pub gateway: GatewayId,
    /// The order id the callback names, if it names one.
    pub order_id: Option<String>,
    /// The gateway reference from create that the callback echoes (NovinPal `refId`,
    /// IDPay `id`, Inopal `ref_num`, CanPay `token`); `None` where the callback carries
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
        let long = format!("a={}", "x".repeat(MAX_CALLBACK_FIELD_LEN + 1));
        assert_eq!(
            CallbackRequest::from_get(&long).unwrap_err(),
            CallbackError::TooLarge
        );
        let many: Vec<String> = (0..=MAX_CALLBACK_FIELDS)
            .map(|i| format!("k{i}=v"))
            .collect();
        assert_eq!(
            CallbackRequest::from_get(&many.join("&")).unwrap_err(),
            CallbackError::TooLarge
        );
    }

    #[test]
    fn cookie_header_parsing() {
        let req = CallbackRequest::from_get("")
            .unwrap()
            .with_cookie_header(" a=1;b=\"2\"; junk; =x; a=3");
        assert_eq!(req.cookie("a"), Some("1"));
        assert_eq!(req.cookie("b"), Some("2"));
        assert_eq!(req.cookies().len(), 3);
    }

    #[test]
    fn amount_must_be_whole_rial() {
        assert_eq!(parse_amount(" 10000 ", "amount"), Ok(Rial::new(10_000)));
        assert!(parse_amount("10.5", "amount").is_err());
        assert!(parse_amount("-1", "amount").is_err());
    }
}
