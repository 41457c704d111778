//! The order state a payment carries from start to callback, and the codec that signs it.

use std::fmt;

use time::{Duration, OffsetDateTime};

pub use crate::codec::{MAX_STATE_LEN, StateCodec, StateError};
use crate::{AccountId, GatewayId, OrderId, Rial};

/// Size of the random nonce in every state: 128 bits.
pub const NONCE_LEN: usize = 16;

/// What the shop decided when the payment started, signed into a cookie and checked
/// when the buyer returns: the gateway account, order id, amount, the gateway's reference,
/// a random nonce and the validity window.
///
/// Verify always uses this amount, never one from the callback.
///
/// ```
/// use payment_core::{GatewayId, Rial, state::OrderState};
/// use payment_core::time::{Duration, OffsetDateTime};
/// let state = OrderState::new(GatewayId::NovinPal, "A-1".parse().unwrap(), Rial::new(50_000),
///     "447515262", OffsetDateTime::now_utc(), Duration::minutes(30));
/// assert_eq!(state.gateway(), GatewayId::NovinPal);
/// assert_eq!(state.account().to_string(), "novinpal");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OrderState {
    pub(crate) account: AccountId,
    pub(crate) order_id: OrderId,
    pub(crate) amount: Rial,
    pub(crate) payable_amount: Option<Rial>,
    pub(crate) gateway_ref: String,
    pub(crate) attempt: u8,
    pub(crate) nonce: [u8; NONCE_LEN],
    pub(crate) issued_at: i64,
    pub(crate) expires_at: i64,
}

impl OrderState {
    /// A new state with a fresh random nonce, valid for `ttl` from `now`.
    pub fn new(
        account: impl Into<AccountId>,
        order_id: OrderId,
        amount: Rial,
        gateway_ref: impl Into<String>,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Self {
        let issued_at = now.unix_timestamp();
        Self {
            account: account.into(),
            order_id,
            amount,
            payable_amount: None,
            gateway_ref: gateway_ref.into(),
            attempt: 1,
            nonce: crate::random::nonce(),
            issued_at,
            expires_at: issued_at.saturating_add(ttl.whole_seconds()),
        }
    }

    /// The same state for the `attempt`-th payment of its order (1 for the first; 0 is
    /// taken as 1). See [`OrderState::invoice_id`].
    pub fn with_attempt(mut self, attempt: u8) -> Self {
        self.attempt = attempt.max(1);
        self
    }

    /// The same state with what the buyer pays where the gateway adds its fee to the
    /// amount (Inopal's `payment_amount`). Equal to the amount, it is not kept.
    pub fn with_payable_amount(mut self, payable: Rial) -> Self {
        self.payable_amount = (payable != self.amount).then_some(payable);
        self
    }

    /// What the buyer pays: the amount, plus the fee where the gateway reported one at
    /// create.
    pub fn payable_amount(&self) -> Rial {
        self.payable_amount.unwrap_or(self.amount)
    }

    /// Which payment of its order this is: 1 for the first, 2 after one that did not end
    /// paid, and so on.
    pub fn attempt(&self) -> u8 {
        self.attempt
    }

    /// The order id the gateway knows this payment by. The first attempt sends the shop's
    /// order id as it is; a later one adds the attempt's number (`A-1001-2`; `A1001R2` at
    /// Inopal, which takes letters and digits only), because CanPay, NovinPal and
    /// GardeshPay require a new id for every transaction. A callback and a verify answer
    /// name this id; receipts name the shop's [`order_id`](Self::order_id).
    pub fn invoice_id(&self) -> std::borrow::Cow<'_, str> {
        invoice_id(self.gateway(), &self.order_id, self.attempt)
    }

    /// The gateway the payment was created at.
    pub fn gateway(&self) -> GatewayId {
        self.account.gateway()
    }

    /// The gateway account the payment was created with.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The shop's order id.
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// The amount the shop decided.
    pub fn amount(&self) -> Rial {
        self.amount
    }

    /// The reference the gateway returned from create (IDPay `id`, NovinPal `refId`,
    /// Inopal `ref_num`, CanPay and GardeshPay `token`).
    pub fn gateway_ref(&self) -> &str {
        &self.gateway_ref
    }

    /// The random nonce that makes every state unique.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// When the state was issued (Unix seconds).
    pub fn issued_at(&self) -> i64 {
        self.issued_at
    }

    /// When the state stops being accepted (Unix seconds).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Whether the state is past its expiry at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now.unix_timestamp() >= self.expires_at
    }
}

// The gateway reference is a bearer value at CanPay and GardeshPay (the token verifies
// the payment), so it is not printed in full.
impl fmt::Debug for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderState")
            .field("account", &self.account)
            .field("order_id", &self.order_id)
            .field("amount", &self.amount)
            .field("payable_amount", &self.payable_amount)
            .field("gateway_ref", &crate::redact::partial(&self.gateway_ref))
            .field("attempt", &self.attempt)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The order id `gateway` is sent for the `attempt`-th payment of `order_id`.
pub(crate) fn invoice_id(
    gateway: GatewayId,
    order_id: &OrderId,
    attempt: u8,
) -> std::borrow::Cow<'_, str> {
    if attempt <= 1 {
        return std::borrow::Cow::Borrowed(order_id.as_str());
    }
    let separator = if gateway == GatewayId::Inopal {
        "R"
    } else {
        "-"
    };
    std::borrow::Cow::Owned(format!("{}{separator}{attempt}", order_id.as_str()))
}
