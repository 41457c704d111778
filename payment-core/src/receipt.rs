//! The proof of a verified payment.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use crate::{AccountId, GatewayId, OrderId, Rial, state::OrderState};

/// What an adapter learned from a successful verify.
///
/// Adapters return it; the pipeline compares it with the signed order state and only
/// then turns it into a [`Receipt`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Verified {
    /// The order id the gateway reports, if it reports one.
    pub order_id: Option<String>,
    /// The amount the gateway reports, if it reports one.
    pub amount: Option<Rial>,
    /// The bank's or gateway's reference for the money movement (NovinPal `refNumber`,
    /// IDPay `track_id`, CanPay `reference`, GardeshPay `refNumber`, Inopal's
    /// `tracking_code` from the callback, Zarinpal `ref_id`, Zibal `refNumber`).
    pub bank_reference: Option<String>,
    /// The masked card number, as the gateway shows it.
    pub card_mask: Option<String>,
    /// When the gateway says the buyer paid, as it formats it.
    pub paid_at: Option<String>,
    /// The gateway said this payment had been verified before (NovinPal and GardeshPay
    /// `verifiedBefore`, IDPay 101, Inopal -16, Zarinpal 101, Zibal 201). Fulfilment is still decided by the
    /// replay guard: a verify whose first answer was lost to a timeout comes back this way.
    pub already_verified: bool,
}

impl Verified {
    /// An empty result, to be filled by an adapter.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A payment that a gateway confirmed and that matched the shop's signed order state.
///
/// There is no public constructor: a `Receipt` only ever comes out of the callback
/// pipeline after a successful verify, so holding one means "paid".
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    account: AccountId,
    order_id: OrderId,
    amount: Rial,
    gateway_ref: String,
    bank_reference: Option<String>,
    card_mask: Option<String>,
    paid_at: Option<String>,
    #[serde(with = "time::serde::timestamp")]
    verified_at: OffsetDateTime,
}

impl Receipt {
    pub(crate) fn new(state: OrderState, verified: Verified, verified_at: OffsetDateTime) -> Self {
        Self {
            account: state.account,
            order_id: state.order_id,
            amount: state.amount,
            gateway_ref: state.gateway_ref,
            bank_reference: verified.bank_reference,
            card_mask: verified.card_mask,
            paid_at: verified.paid_at,
            verified_at,
        }
    }

    /// The gateway that took the payment.
    pub fn gateway(&self) -> GatewayId {
        self.account.gateway()
    }

    /// The gateway account that took the payment.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The shop's order id.
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// The amount paid, as the shop decided it and the gateway confirmed it.
    pub fn amount(&self) -> Rial {
        self.amount
    }

    /// The gateway's reference from create; unique per payment, so a shop can store it
    /// under a unique constraint.
    pub fn gateway_ref(&self) -> &str {
        &self.gateway_ref
    }

    /// The bank's reference, to show the buyer for support.
    pub fn bank_reference(&self) -> Option<&str> {
        self.bank_reference.as_deref()
    }

    /// The masked card number, e.g. `6104-33**-****-6047`.
    pub fn card_mask(&self) -> Option<&str> {
        self.card_mask.as_deref()
    }

    /// When the gateway says the buyer paid, in its own format.
    pub fn paid_at(&self) -> Option<&str> {
        self.paid_at.as_deref()
    }

    /// When this library confirmed the payment.
    pub fn verified_at(&self) -> OffsetDateTime {
        self.verified_at
    }
}

// The gateway reference is a bearer value at CanPay and GardeshPay; the card is masked
// already, but kept out of logs all the same.
impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receipt")
            .field("account", &self.account)
            .field("order_id", &self.order_id)
            .field("amount", &self.amount)
            .field("gateway_ref", &crate::redact::partial(&self.gateway_ref))
            .field("bank_reference", &self.bank_reference)
            .field("paid_at", &self.paid_at)
            .field("verified_at", &self.verified_at)
            .finish_non_exhaustive()
    }
}
