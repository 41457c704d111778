//! Who holds a payment while one request verifies it: the replay guard, or, when the app
//! keeps a ledger and set no guard, the payment's own ledger record. Either way the
//! ledger hears of every step.

use std::{sync::Arc, time::Duration as StdDuration};

use time::{Duration, OffsetDateTime};

use super::Payments;
use crate::{
    ReplayGuard,
    callback::CallbackData,
    ledger::{PaymentRecord, PaymentStatus, PaymentStore},
    replay::{Claim, ClaimTicket},
    state::OrderState,
};

/// Where claims live.
pub(super) enum Claims {
    /// A replay guard claims; the ledger, if there is one, records each step beside it.
    Guard(Arc<dyn ReplayGuard>),
    /// The ledger claims each payment on its record, in the same write as the step.
    Ledger(Arc<dyn PaymentStore>),
}

/// Who verifies a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Asker {
    /// The buyer's return, which the ledger records.
    Return,
    /// [`Payments::retry`]: what it decides is recorded, as for a return.
    Retry,
    /// The reconciler, without the buyer: only paid is recorded, since a gateway's "no"
    /// may mean "not paid yet" while the buyer is still on its page.
    Reconciler,
}

/// The payment a claim is about: its signed state, the cookie it came in, and what the
/// callback (or the ledger) says verify is called with.
pub(super) struct Claimed<'a> {
    pub(super) state: &'a OrderState,
    pub(super) state_name: &'a str,
    pub(super) state_value: &'a str,
    pub(super) callback: &'a CallbackData,
}

impl Claimed<'_> {
    fn verify_reference(&self) -> Option<&str> {
        self.callback.verify_reference.as_deref()
    }

    /// The guard's key: the account and what verify is called with, so that a forged
    /// GardeshPay reference cannot hold up the real one.
    fn guard_key(&self) -> String {
        let reference = self.verify_reference().unwrap_or(self.state.gateway_ref());
        format!("{}:{reference}", self.state.account())
    }

    fn record(&self, status: PaymentStatus, now: OffsetDateTime) -> PaymentRecord {
        let state = self.state;
        PaymentRecord {
            account: state.account().clone(),
            order_id: state.order_id().clone(),
            amount: state.amount(),
            gateway_ref: state.gateway_ref().to_owned(),
            status,
            created_at: OffsetDateTime::from_unix_timestamp(state.issued_at()).unwrap_or(now),
            updated_at: now,
            state: self.state_value.to_owned(),
            state_name: self.state_name.to_owned(),
            verify_reference: self.verify_reference().map(str::to_owned),
        }
    }
}

impl Payments {
    /// Claims the payment for one verify, for `asker`.
    pub(super) async fn claim(&self, claimed: &Claimed<'_>, asker: Asker) -> Result<Claim, String> {
        let returned = asker == Asker::Return;
        let lease = self.inner.verify_lease;
        match &self.inner.claims {
            Claims::Guard(guard) => {
                if returned {
                    self.record(
                        claimed.state,
                        PaymentStatus::Returned,
                        claimed.verify_reference(),
                    )
                    .await;
                }
                guard
                    .claim(&claimed.guard_key(), lease)
                    .await
                    .map_err(|e| e.to_string())
            }
            Claims::Ledger(ledger) => {
                let status = if returned {
                    PaymentStatus::Returned
                } else {
                    PaymentStatus::Started
                };
                ledger
                    .claim_payment(&claimed.record(status, self.now()), lease)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Marks a claimed payment fulfilled. An `Err` means it could not be recorded.
    pub(super) async fn complete(
        &self,
        claimed: &Claimed<'_>,
        ticket: &ClaimTicket,
    ) -> Result<(), String> {
        match &self.inner.claims {
            Claims::Guard(guard) => {
                let done = guard
                    .complete(ticket, self.keep_claims_for())
                    .await
                    .map_err(|e| e.to_string());
                self.record(claimed.state, PaymentStatus::Paid, None).await;
                done
            }
            Claims::Ledger(ledger) => {
                let state = claimed.state;
                ledger
                    .transition(
                        state.account(),
                        state.gateway_ref(),
                        PaymentStatus::Paid,
                        self.now(),
                        None,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Gives the claim back, recording the payment as `to` when given. A claim that
    /// cannot be given back lapses with its lease.
    pub(super) async fn release(
        &self,
        claimed: &Claimed<'_>,
        ticket: &ClaimTicket,
        to: Option<PaymentStatus>,
    ) {
        let released = match &self.inner.claims {
            Claims::Guard(guard) => {
                let released = guard.release(ticket).await.map_err(|e| e.to_string());
                if let Some(to) = to {
                    self.record(claimed.state, to, claimed.verify_reference())
                        .await;
                }
                released
            }
            Claims::Ledger(ledger) => {
                let state = claimed.state;
                ledger
                    .release_payment(state.account(), state.gateway_ref(), ticket, to, self.now())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        };
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release claim");
        }
    }

    /// How long the guard remembers a fulfilled payment: past every state's life and the
    /// pending window, so a replay is refused as long as it could still verify.
    fn keep_claims_for(&self) -> StdDuration {
        let inner = &self.inner;
        let keep = inner.state_ttl.max(inner.pending_window) + Duration::days(1);
        StdDuration::try_from(keep).unwrap_or(StdDuration::from_secs(3 * 24 * 3600))
    }
}
