//! Refunds of verified payments, at the gateways that have them.

use tracing::Instrument;

use super::Payments;
use crate::{
    Error,
    ledger::{PaymentRecord, PaymentStatus},
    state::StateError,
};

/// Why a payment was not refunded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefundError {
    /// Only a paid payment can be refunded.
    #[error("only a paid payment can be refunded; this one is {0}")]
    NotPaid(PaymentStatus),
    /// The record's signed state does not open, or names another payment.
    #[error("the payment's record cannot be used: {0}")]
    Unusable(String),
    /// The gateway has no refund ([`Error::Unsupported`]), refused it (too late, say:
    /// [`Error::Gateway`]) or did not answer ([`Error::Transport`]).
    #[error(transparent)]
    Gateway(#[from] Error),
}

impl Payments {
    /// Refunds a paid payment to the buyer, from its ledger record, at a gateway that can:
    /// NovinPal (within 120 minutes of the payment) and Zarinpal (within 30). The record's
    /// signed state is checked as the reconciler checks it; nothing is sent for a record
    /// that is not [`PaymentStatus::Paid`]. The ledger keeps the payment `Paid`: record
    /// the refund with the order, as the app records the fulfilment.
    ///
    /// ```no_run
    /// # async fn demo(payments: payment_core::Payments, order: payment_core::OrderId)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// use payment_core::ledger::PaymentStatus;
    /// let ledger = payments.ledger().expect("a ledger");
    /// for record in ledger.for_order(&order).await? {
    ///     if record.status == PaymentStatus::Paid {
    ///         payments.refund(&record).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn refund(&self, record: &PaymentRecord) -> Result<(), RefundError> {
        if record.status != PaymentStatus::Paid {
            return Err(RefundError::NotPaid(record.status));
        }
        let state = self
            .inner
            .codec
            .open_ignoring_expiry(&record.state, &record.state_name)
            .map_err(|e: StateError| RefundError::Unusable(e.to_string()))?;
        if state.account() != &record.account || state.gateway_ref() != record.gateway_ref {
            return Err(RefundError::Unusable(
                "the record's state names another payment".to_owned(),
            ));
        }
        let adapter = self.adapter(state.account()).ok_or_else(|| {
            RefundError::Unusable(format!("{} is not configured", record.account))
        })?;
        let span = tracing::info_span!(
            "payment_refund",
            account = %record.account,
            order_id = %record.order_id
        );
        match adapter.refund(&state).instrument(span.clone()).await {
            Ok(_) => {
                tracing::info!(parent: &span, "payment refunded");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(parent: &span, error = %e, "payment not refunded");
                Err(e.into())
            }
        }
    }
}
