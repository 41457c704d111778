//! Small helpers shared by the adapters: optional callback fields, card masking and
//! gateway messages with secrets cut out. (Numbers that arrive as strings are read with
//! [`Scalar`](super::Scalar).)

use serde_json::Value;

use super::scalar::Scalar;
use crate::{
    CallbackRequest, Rial, callback::parse_amount, error::CallbackError, http::RawResponse,
};

/// The longest gateway message kept in an error, in characters.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// A callback field that may be absent or empty.
pub(crate) fn optional<'r>(request: &'r CallbackRequest, name: &str) -> Option<&'r str> {
    request.param(name).map(str::trim).filter(|v| !v.is_empty())
}

/// An amount field that may be absent or empty, but must be whole rial when present.
pub(crate) fn optional_amount(
    request: &CallbackRequest,
    name: &'static str,
) -> Result<Option<Rial>, CallbackError> {
    optional(request, name)
        .map(|a| parse_amount(a, name))
        .transpose()
}

/// The code of a documented error answer (`{"status": false, "code": …}`); without one,
/// the HTTP status stands in for it.
pub(crate) fn error_code(code: Option<&Scalar>, raw: &RawResponse) -> i64 {
    code.and_then(Scalar::as_i64)
        .unwrap_or(i64::from(raw.status))
}

/// A callback field that must be present and hold a whole number.
pub(crate) fn required_number(
    request: &CallbackRequest,
    name: &'static str,
) -> Result<i64, CallbackError> {
    request
        .required(name)?
        .parse()
        .map_err(|_| CallbackError::MalformedField(name))
}

/// A card number as shown to people: a full number (only digits) is masked to its first
/// six and last four digits; an already masked one is kept as sent.
pub(crate) fn mask_card(card: &str) -> String {
    let card = card.trim();
    let len = card.len();
    if len >= 12 && card.bytes().all(|b| b.is_ascii_digit()) {
        let head = card.get(..6).unwrap_or_default();
        let tail = card.get(len - 4..).unwrap_or_default();
        format!("{head}{}{tail}", "*".repeat(len - 10))
    } else {
        card.to_owned()
    }
}

/// A gateway's own text for an error (a JSON string), shortened, with `secret` cut out
/// should the gateway ever echo it back. `None` when there is no non-empty string.
pub(crate) fn message(value: Option<&Value>, secret: Option<&str>) -> Option<String> {
    let Some(Value::String(text)) = value else {
        return None;
    };
    let text = match secret.filter(|s| !s.is_empty()) {
        Some(secret) => text.replace(secret, "[redacted]"),
        None => text.clone(),
    };
    let text: String = text.trim().chars().take(MAX_MESSAGE_CHARS).collect();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cards_are_masked_and_secrets_cut() {
        assert_eq!(mask_card("6104337712345678"), "610433******5678");
        assert_eq!(mask_card("5022-29**-****-7122"), "5022-29**-****-7122");
        assert_eq!(mask_card("1234"), "1234");
        assert_eq!(
            message(Some(&json!("bad key abc-123")), Some("abc-123")).as_deref(),
            Some("bad key [redacted]")
        );
        assert_eq!(
            message(Some(&json!("x".repeat(400))), None).map(|m| m.len()),
            Some(MAX_MESSAGE_CHARS)
        );
        assert_eq!(message(Some(&json!(" ")), None), None);
        assert_eq!(message(Some(&json!({"a": 1})), None), None);
    }
}
