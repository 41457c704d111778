//! What a gateway sends back through the buyer's browser, before anything is trusted.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

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
/// assert_eq!(req.query().count(), 5);
/// ```
#[derive(Clone)]
pub struct CallbackRequest {
    method: CallbackMethod,
    // Every decoded name and value back to back, with `fields` pointing into it: a
    // callback is read once and dropped, and one allocation serves all of its fields
    // instead of two per field. The table itself is inline for a usual callback (a
    // gateway's fields and a few cookies): the request is held across verify, and what
    // is held across that call is often freed by another worker than the one that
    // allocated it (BENCHMARKS.md).
    text: String,
    fields: SmallVec<[Field; INLINE_FIELDS]>,
    /// How many of `fields` are query or form fields, and how many are cookies (each
    /// capped at [`MAX_CALLBACK_FIELDS`]).
    params: usize,
    cookie_count: usize,
}

/// Where a field came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Query,
    Form,
    Cookie,
}

/// How many fields a request holds without an allocation of their own: IDPay's `POST`,
/// the longest callback, has eight, and a state cookie and a few of the shop's follow.
const INLINE_FIELDS: usize = 12;

/// One field: its name is `text[start..split]`, its value `text[split..end]`. Offsets
/// are 32-bit so that a field takes 16 bytes; [`CallbackRequest::push`] refuses text
/// beyond that.
#[derive(Debug, Clone, Copy)]
struct Field {
    part: Part,
    start: u32,
    split: u32,
    end: u32,
}

impl CallbackRequest {
    /// A request from its parts. Refuses oversized input.
    pub fn new(
        method: CallbackMethod,
        query: Vec<(String, String)>,
        form: Vec<(String, String)>,
    ) -> Result<Self, CallbackError> {
        let mut request = Self::empty(method, 0, query.len() + form.len());
        for (part, pairs) in [(Part::Query, query), (Part::Form, form)] {
            for (name, value) in pairs {
                request.push_field(part, &name, &value)?;
            }
        }
        Ok(request)
    }

    /// A `GET` callback from its raw query string (without `?`).
    pub fn from_get(query: &str) -> Result<Self, CallbackError> {
        let mut request = Self::empty(CallbackMethod::Get, query.len(), estimate_pairs(query));
        request.push_pairs(Part::Query, query)?;
        Ok(request)
    }

    /// A `POST` callback from its raw query string and its
    /// `application/x-www-form-urlencoded` body.
    pub fn from_post(query: &str, body: &[u8]) -> Result<Self, CallbackError> {
        let body = std::str::from_utf8(body).map_err(|_| CallbackError::MalformedField("body"))?;
        let mut request = Self::empty(
            CallbackMethod::Post,
            query.len() + body.len(),
            estimate_pairs(query) + estimate_pairs(body),
        );
        request.push_pairs(Part::Query, query)?;
        request.push_pairs(Part::Form, body)?;
        Ok(request)
    }

    fn empty(method: CallbackMethod, text: usize, fields: usize) -> Self {
        // Room for a few cookies too, which usually follow.
        Self {
            method,
            text: String::with_capacity(text + 512),
            fields: SmallVec::with_capacity(fields.min(MAX_CALLBACK_FIELDS) + 4),
            params: 0,
            cookie_count: 0,
        }
    }

    /// Decodes `raw` (`a=1&b=2`, percent-encoded, `+` for space) into fields of `part`.
    fn push_pairs(&mut self, part: Part, raw: &str) -> Result<(), CallbackError> {
        if raw.len() > MAX_CALLBACK_FIELDS * MAX_CALLBACK_FIELD_LEN {
            return Err(CallbackError::TooLarge);
        }
        // One pass over each pair's bytes finds its end, its first `=` and whether it has
        // anything to decode: gateway callbacks are a handful of short pairs, for which
        // `str` splitting and searching cost more than the copying.
        let bytes = raw.as_bytes();
        let mut start = 0;
        while start <= bytes.len() {
            let rest = bytes.get(start..).unwrap_or_default();
            let mut len = rest.len();
            let mut equals = None;
            let mut encoded = false;
            for (i, &b) in rest.iter().enumerate() {
                match b {
                    b'&' => {
                        len = i;
                        break;
                    }
                    b'=' if equals.is_none() => equals = Some(i),
                    b'%' | b'+' => encoded = true,
                    _ => {}
                }
            }
            // `&`, `=`, `%` and `+` are ASCII, so every offset here is a char boundary.
            let end = start + len;
            let pair = raw.get(start..end).unwrap_or_default();
            if encoded {
                // Percent-decoding is lossy: invalid UTF-8 becomes U+FFFD.
                for (name, value) in url::form_urlencoded::parse(pair.as_bytes()) {
                    self.push_field(part, &name, &value)?;
                }
            } else if !pair.is_empty() {
                // Most gateway fields (digits, letters, `-`) have nothing to decode: taken
                // as they are, which is what decoding gives.
                let (name, value) = match equals {
                    Some(at) => (
                        raw.get(start..start + at).unwrap_or_default(),
                        raw.get(start + at + 1..end).unwrap_or_default(),
                    ),
                    None => (pair, ""),
                };
                self.push_field(part, name, value)?;
            }
            start = end + 1;
        }
        Ok(())
    }

    /// Adds a query or form field, refusing a callback with too many or too long ones.
    fn push_field(&mut self, part: Part, name: &str, value: &str) -> Result<(), CallbackError> {
        if self.params >= MAX_CALLBACK_FIELDS
            || name.len() > MAX_CALLBACK_FIELD_LEN
            || value.len() > MAX_CALLBACK_FIELD_LEN
        {
            return Err(CallbackError::TooLarge);
        }
        if !self.push(part, name, value) {
            return Err(CallbackError::TooLarge);
        }
        self.params += 1;
        Ok(())
    }

    /// Adds a field; `false` (and nothing added) if the text would outgrow 32-bit offsets,
    /// which only a cookie header of gigabytes could make it.
    fn push(&mut self, part: Part, name: &str, value: &str) -> bool {
        let offset = |len: usize| u32::try_from(len).ok();
        let start = self.text.len();
        let split = start.saturating_add(name.len());
        let (Some(start32), Some(split), Some(end)) = (
            offset(start),
            offset(split),
            offset(split.saturating_add(value.len())),
        ) else {
            return false;
        };
        self.text.push_str(name);
        self.text.push_str(value);
        self.fields.push(Field {
            part,
            start: start32,
            split,
            end,
        });
        true
    }

    /// Adds the cookies of a `Cookie` request header (`a=1; b=2`). Malformed pairs are
    /// skipped; a later pair with the same name does not replace an earlier one.
    pub fn with_cookie_header(mut self, header: &str) -> Self {
        for pair in header.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=') {
                let value = value.trim().trim_matches('"');
                let name = name.trim();
                if !name.is_empty()
                    && self.cookie_count < MAX_CALLBACK_FIELDS
                    && self.push(Part::Cookie, name, value)
                {
                    self.cookie_count += 1;
                }
            }
        }
        self
    }

    /// Adds one cookie.
    pub fn with_cookie(mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        if self.cookie_count < MAX_CALLBACK_FIELDS
            && self.push(Part::Cookie, name.as_ref(), value.as_ref())
        {
            self.cookie_count += 1;
        }
        self
    }

    /// How the request arrived.
    pub fn method(&self) -> CallbackMethod {
        self.method
    }

    /// A field by name: from the form body first, then the query string.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.find(Part::Form, name)
            .or_else(|| self.find(Part::Query, name))
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
        self.pairs(Part::Query)
    }

    /// The form-body pairs, in order.
    pub fn form(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.pairs(Part::Form)
    }

    /// A cookie by name (the first of that name).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.find(Part::Cookie, name)
    }

    /// All cookies, in order.
    pub fn cookies(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.pairs(Part::Cookie)
    }

    fn pairs(&self, part: Part) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.fields
            .iter()
            .filter(move |f| f.part == part)
            .map(|f| self.pair(f))
    }

    fn find(&self, part: Part, name: &str) -> Option<&str> {
        // Names are compared as bytes before any field is sliced: most fields differ in
        // length already.
        let text = self.text.as_bytes();
        self.fields
            .iter()
            .find(|f| f.part == part && text.get(f.name_range()) == Some(name.as_bytes()))
            .map(|f| self.pair(f).1)
    }

    fn pair(&self, field: &Field) -> (&str, &str) {
        // The offsets were taken at char boundaries of this same string.
        (
            self.text.get(field.name_range()).unwrap_or_default(),
            self.text.get(field.value_range()).unwrap_or_default(),
        )
    }
}

impl Field {
    fn name_range(&self) -> std::ops::Range<usize> {
        // Offsets are u32, which widen losslessly to usize on every target this builds for.
        self.start as usize..self.split as usize
    }

    fn value_range(&self) -> std::ops::Range<usize> {
        self.split as usize..self.end as usize
    }
}

impl std::fmt::Debug for CallbackRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Pairs<'a>(&'a CallbackRequest, Part);
        impl std::fmt::Debug for Pairs<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.0.pairs(self.1)).finish()
            }
        }
        f.debug_struct("CallbackRequest")
            .field("method", &self.method)
            .field("query", &Pairs(self, Part::Query))
            .field("form", &Pairs(self, Part::Form))
            .field("cookies", &Pairs(self, Part::Cookie))
            .finish()
    }
}

/// How many pairs `raw` holds at most (one more than its separators).
fn estimate_pairs(raw: &str) -> usize {
    if raw.is_empty() {
        0
    } else {
        raw.bytes().filter(|b| *b == b'&').count() + 1
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
    fn query_pairs_are_what_form_decoding_gives() {
        for raw in [
            "",
            "&",
            "&&a=1&&",
            "a",
            "a=",
            "=x",
            "a=1=2",
            "a=1&a=2",
            "refId=9&success=1&code=100",
            "x=%D8%B3&y=a+b&z=plain",
            "%zz=1&k=%",
            "n=1&amp;m=2",
            "سلام=دنیا&b=2",
        ] {
            let request = CallbackRequest::from_get(raw).unwrap();
            let expected: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect();
            let got: Vec<(String, String)> = request
                .query()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            assert_eq!(got, expected, "{raw:?}");
        }
    }

    #[test]
    fn cookies_are_capped_apart_from_fields() {
        let header: Vec<String> = (0..MAX_CALLBACK_FIELDS + 5)
            .map(|i| format!("c{i}={i}"))
            .collect();
        let query: Vec<String> = (0..MAX_CALLBACK_FIELDS)
            .map(|i| format!("q{i}=v"))
            .collect();
        let request = CallbackRequest::from_get(&query.join("&"))
            .unwrap()
            .with_cookie_header(&header.join("; "))
            .with_cookie("late", "1");
        assert_eq!(request.query().count(), MAX_CALLBACK_FIELDS);
        assert_eq!(request.cookies().count(), MAX_CALLBACK_FIELDS);
        assert_eq!(request.cookie("late"), None);
        let last = MAX_CALLBACK_FIELDS - 1;
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
    fn amount_must_be_whole_rial() {
        assert_eq!(parse_amount(" 10000 ", "amount"), Ok(Rial::new(10_000)));
        assert!(parse_amount("10.5", "amount").is_err());
        assert!(parse_amount("-1", "amount").is_err());
    }
}
