//! The order a shop asks a gateway to collect: validated id, amount and buyer details.

use std::{fmt, str::FromStr};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Rial;

/// The longest order id any supported gateway accepts (Inopal: 128 characters).
pub(crate) const MAX_ORDER_ID_LEN: usize = 128;

/// A merchant's order id: 1 to 128 ASCII letters, digits, `-` or `_`.
///
/// These are the characters every gateway takes in a URL and a form without escaping.
/// Gateways with stricter rules (IDPay: at most 50 characters; Inopal: letters and digits
/// only) check them again before sending.
///
/// ```
/// use payment_core::OrderId;
/// let id: OrderId = "INV-1001".parse().unwrap();
/// assert_eq!(id.as_str(), "INV-1001");
/// assert!("".parse::<OrderId>().is_err());
/// assert!("a b".parse::<OrderId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrderId(String);

/// Why a string is not a valid [`OrderId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderIdError {
    /// The id is empty.
    #[error("order id is empty")]
    Empty,
    /// The id is longer than 128 characters.
    #[error("order id is {0} characters long; at most {MAX_ORDER_ID_LEN} are allowed")]
    TooLong(usize),
    /// The id has a character other than ASCII letters, digits, `-` and `_`.
    #[error("order id may hold only ASCII letters, digits, '-' and '_'")]
    BadCharacter,
}

impl OrderId {
    /// Checks and wraps an order id.
    pub fn new(id: impl AsRef<str>) -> Result<Self, OrderIdError> {
        let id = id.as_ref();
        if id.is_empty() {
            return Err(OrderIdError::Empty);
        }
        if id.len() > MAX_ORDER_ID_LEN {
            return Err(OrderIdError::TooLong(id.len()));
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(OrderIdError::BadCharacter);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as sent to gateways.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrderId {
    type Err = OrderIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderId::new(s)
    }
}

/// A numeric order id, such as a database row's: digits are always valid.
///
/// ```
/// use payment_core::OrderId;
/// assert_eq!(OrderId::from(1001).as_str(), "1001");
/// ```
impl From<u64> for OrderId {
    fn from(id: u64) -> Self {
        Self(id.to_string())
    }
}

impl TryFrom<String> for OrderId {
    type Error = OrderIdError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        OrderId::new(s)
    }
}

impl<'de> Deserialize<'de> for OrderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OrderId::new(s).map_err(serde::de::Error::custom)
    }
}

/// A full card number the buyer must pay with (NovinPal's `card_number`).
///
/// Held as a secret: it never appears in `Debug`, logs or error text.
#[derive(Clone)]
pub struct CardNumber(SecretString);

impl CardNumber {
    /// Wraps a 16-digit card number; spaces and dashes are removed. `None` if what
    /// remains is not 16 ASCII digits.
    pub fn new(number: &str) -> Option<Self> {
        let digits: String = number.chars().filter(|c| *c != ' ' && *c != '-').collect();
        (digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(SecretString::from(digits)))
    }

    /// The digits, for the one request that must carry them.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardNumber([redacted])")
    }
}

/// What a shop asks a gateway to collect. The amount is decided by the shop on the server,
/// never taken from the buyer.
///
/// ```
/// use payment_core::{Order, Rial};
/// let order = Order::new("INV-1001".parse().unwrap(), Rial::new(120_000))
///     .with_description("Two notebooks")
///     .with_mobile("09121234567");
/// assert_eq!(order.amount(), Rial::new(120_000));
/// ```
#[derive(Debug, Clone)]
pub struct Order {
    id: OrderId,
    amount: Rial,
    description: Option<String>,
    mobile: Option<String>,
    email: Option<String>,
    payer_name: Option<String>,
    card_number: Option<CardNumber>,
    attempt: Option<u8>,
}

impl Order {
    /// An order with the required parts only.
    pub fn new(id: OrderId, amount: Rial) -> Self {
        Self {
            id,
            amount,
            description: None,
            mobile: None,
            email: None,
            payer_name: None,
            card_number: None,
            attempt: None,
        }
    }

    /// A description shown on the gateway's page, where the gateway takes one.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The buyer's mobile number (`09xxxxxxxxx`); some gateways show saved cards for it.
    pub fn with_mobile(mut self, mobile: impl Into<String>) -> Self {
        self.mobile = Some(mobile.into());
        self
    }

    /// The buyer's e-mail address, where the gateway takes one.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The buyer's name, where the gateway takes one.
    pub fn with_payer_name(mut self, name: impl Into<String>) -> Self {
        self.payer_name = Some(name.into());
        self
    }

    /// The only card the buyer may pay with (NovinPal); other gateways ignore it.
    pub fn with_card_number(mut self, card: CardNumber) -> Self {
        self.card_number = Some(card);
        self
    }

    /// Says which payment of the order this is: 1 for the first (0 is taken as 1). A
    /// later attempt is sent to the gateway under its own id (see
    /// [`OrderState::invoice_id`](crate::state::OrderState::invoice_id)), since several
    /// gateways refuse an order id they have seen. Without it, a
    /// [ledger](crate::PaymentsBuilder::ledger) counts the order's earlier payments (one
    /// read per start), and without a ledger the payment is a first attempt. An app that
    /// knows (an order made just now is a first attempt) saves the ledger that read.
    ///
    /// ```
    /// use payment_core::{Order, Rial};
    /// let order = Order::new("A-1001".parse().unwrap(), Rial::new(120_000));
    /// assert_eq!(order.attempt(), None);
    /// assert_eq!(order.with_attempt(2).attempt(), Some(2));
    /// ```
    pub fn with_attempt(mut self, attempt: u8) -> Self {
        self.attempt = Some(attempt.max(1));
        self
    }

    /// Which payment of the order this is, if the app said
    /// ([`with_attempt`](Self::with_attempt)).
    pub fn attempt(&self) -> Option<u8> {
        self.attempt
    }

    /// The same order under another id: what is sent to the gateway for a later attempt.
    pub(crate) fn with_id(&self, id: OrderId) -> Self {
        Self { id, ..self.clone() }
    }

    /// The order id.
    pub fn id(&self) -> &OrderId {
        &self.id
    }

    /// The amount to collect.
    pub fn amount(&self) -> Rial {
        self.amount
    }

    /// The description, if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The buyer's mobile number, if any.
    pub fn mobile(&self) -> Option<&str> {
        self.mobile.as_deref()
    }

    /// The buyer's e-mail address, if any.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// The buyer's name, if any.
    pub fn payer_name(&self) -> Option<&str> {
        self.payer_name.as_deref()
    }

    /// The card the buyer must pay with, if any.
    pub fn card_number(&self) -> Option<&CardNumber> {
        self.card_number.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_id_rules() {
        assert!(OrderId::new("A-1_b").is_ok());
        assert_eq!(OrderId::new(""), Err(OrderIdError::Empty));
        assert_eq!(
            OrderId::new("x".repeat(129)),
            Err(OrderIdError::TooLong(129))
        );
        assert!(OrderId::new("x".repeat(128)).is_ok());
        assert_eq!(OrderId::new("a/b"), Err(OrderIdError::BadCharacter));
        assert_eq!(OrderId::new("سفارش"), Err(OrderIdError::BadCharacter));
    }

    #[test]
    fn order_ids_read_print_and_round_trip() {
        for len in [1, 24, 64, MAX_ORDER_ID_LEN] {
            let text = "A".repeat(len);
            let id = OrderId::new(&text).unwrap();
            assert_eq!(id.as_str(), text);
            assert_eq!(id.to_string(), text);
            assert_eq!(id, text.parse().unwrap());
            assert_eq!(format!("{id:?}"), format!("OrderId({text:?})"));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), id);
        }
        // An escaped JSON string is decoded before the id is checked.
        assert_eq!(
            serde_json::from_str::<OrderId>("\"A\\u002d1\"")
                .unwrap()
                .as_str(),
            "A-1"
        );
        assert!(serde_json::from_str::<OrderId>("\"a b\"").is_err());
        assert!(serde_json::from_str::<OrderId>("\"\"").is_err());
    }

    #[test]
    fn card_number_is_redacted_and_normalised() {
        let card = CardNumber::new("6104-3377 1234 5678").expect("16 digits");
        assert_eq!(card.expose(), "6104337712345678");
        assert_eq!(format!("{card:?}"), "CardNumber([redacted])");
        assert!(CardNumber::new("6104").is_none());
        let order = Order::new(OrderId::new("1").unwrap(), Rial::new(1)).with_card_number(card);
        assert!(!format!("{order:?}").contains("6104"));
    }
}
