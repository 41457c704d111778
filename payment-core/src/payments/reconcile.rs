//! One ledger record checked again without its buyer: the reconciler's step, on the same
//! claim-verify-fulfil path as a callback.

use super::{Payments, claims::Asker};
use crate::{
    callback::{CallbackData, CallbackStatus},
    ledger::{PaymentRecord, PaymentStatus},
    outcome::{NotPaid, Rejection},
};

/// What checking one open payment again found.
#[derive(Debug)]
pub(crate) enum Checked {
    /// Verified and handed to the app's hook now.
    Paid,
    /// Fulfilled already (the replay guard says so); the ledger had missed it.
    PaidBefore,
    /// Not paid, or not known yet: still open (the outcome's kind, for the log).
    Open(&'static str),
    /// The record cannot be checked: its state does not open, or its account is gone.
    Unusable(String),
}

impl Payments {
    /// Verifies an open payment from its ledger record: the signed state in the record is
    /// checked as a cookie would be (its expiry aside), the payment is claimed under the
    /// same key as the buyer's return would claim it, and a paid one goes to the app's
    /// fulfilment hook. Nothing here makes a payment final but paid.
    pub(crate) async fn check_again(&self, record: &PaymentRecord) -> Checked {
        let state = match self
            .inner
            .codec
            .open_ignoring_expiry(&record.state, &record.state_name)
        {
            Ok(state)
                if state.account() == &record.account
                    && state.gateway_ref() == record.gateway_ref =>
            {
                state
            }
            Ok(_) => return Checked::Unusable("the record's state names another payment".into()),
            Err(e) => return Checked::Unusable(format!("the record's state does not open: {e}")),
        };
        let Some(adapter) = self.adapter(state.account()) else {
            return Checked::Unusable(format!("{} is not configured", record.account));
        };
        // What the buyer's return would have said, as far as the ledger knows it: the
        // reference from create, and the one only a return carries (GardeshPay).
        let mut callback = CallbackData::new(state.gateway(), CallbackStatus::Unknown);
        callback.reference = Some(record.gateway_ref.clone());
        callback.order_id = Some(state.invoice_id().into_owned());
        callback.verify_reference = record.verify_reference.clone();
        let outcome = self
            .claim_and_verify(
                adapter,
                state,
                &callback,
                &record.state_name,
                &record.state,
                Asker::Reconciler,
            )
            .await;
        match outcome {
            Ok(_) => Checked::Paid,
            Err(NotPaid::Rejected(Rejection::Replay)) => {
                self.record_for(
                    &record.account,
                    &record.gateway_ref,
                    PaymentStatus::Paid,
                    None,
                )
                .await;
                Checked::PaidBefore
            }
            Err(not_paid) => Checked::Open(not_paid.kind()),
        }
    }
}
