//! Claim, verify, compare, complete: the steps that make a callback a receipt, once.

use tracing::Instrument;

use super::{
    Payments,
    callback::belongs,
    claims::{Asker, Claimed},
};
use crate::{
    Error, Receipt,
    callback::{CallbackData, CallbackStatus},
    gateway::AnyGateway,
    ledger::PaymentStatus,
    outcome::{
        self, FailedPayment, FailureReason, NotPaid, Outcome, PendingPayment, PendingReason,
        Rejection,
    },
    receipt::Verified,
    replay::Claim,
    state::OrderState,
};

impl Payments {
    /// Claims the payment, verifies it and compares the answer with the state. Every way
    /// out but a recorded fulfilment gives the claim back, here, in one place.
    pub(super) async fn claim_and_verify(
        &self,
        adapter: &dyn AnyGateway,
        state: OrderState,
        callback: &CallbackData,
        name: &str,
        value: &str,
        asker: Asker,
    ) -> Outcome {
        let pending = |state: &OrderState, reason| {
            NotPaid::Pending(PendingPayment {
                account: state.account().clone(),
                order_id: state.order_id().clone(),
                amount: state.amount(),
                reason,
                state: value.to_owned(),
                state_name: name.to_owned(),
                callback: callback.clone(),
            })
        };
        let claimed = Claimed {
            state: &state,
            state_name: name,
            state_value: value,
            callback,
        };
        let verify_reference = callback.verify_reference.as_deref();
        let ticket = match self.claim(&claimed, asker).await {
            Ok(Claim::Acquired(ticket)) => ticket,
            Ok(Claim::Completed) => return Err(NotPaid::Rejected(Rejection::Replay)),
            Ok(Claim::InProgress) => return Err(NotPaid::Rejected(Rejection::InProgress)),
            Err(e) => {
                tracing::warn!(error = %e, "replay guard unavailable; verify not attempted");
                self.record(&state, PaymentStatus::Pending, verify_reference)
                    .await;
                return Err(pending(&state, PendingReason::GuardUnavailable));
            }
        };
        let verified = match self.verify_claimed(adapter, &state, callback).await {
            Ok(verified) => verified,
            Err(decided) => {
                let (to, not_paid) = match decided {
                    // Anyone can name a reference the state does not bind: the gateway's
                    // "no" to it says nothing final about this order.
                    Decided::NotPaid(NotPaid::Failed(_)) if !binds(&state, callback) => {
                        (None, NotPaid::Rejected(Rejection::UnconfirmedPayment))
                    }
                    Decided::NotPaid(failed @ NotPaid::Failed(_)) => {
                        (Some(PaymentStatus::Failed), failed)
                    }
                    Decided::NotPaid(not_paid) => (None, not_paid),
                    Decided::Pending(reason) => {
                        (Some(PaymentStatus::Pending), pending(&state, reason))
                    }
                };
                let to = to.filter(|_| asker != Asker::Reconciler);
                self.release(&claimed, &ticket, to).await;
                return Err(not_paid);
            }
        };
        let receipt = Receipt::new(state.clone(), verified, self.now());
        if let Err(e) = self.run_fulfil(&receipt).await {
            // Verified but not fulfilled: a retry or the reconciler verifies again (the
            // gateway answers "verified before") and hands it to the app again.
            tracing::error!(error = %e, "the app could not fulfil a verified payment; pending");
            let to = Some(PaymentStatus::Pending).filter(|_| asker != Asker::Reconciler);
            self.release(&claimed, &ticket, to).await;
            return Err(pending(&state, PendingReason::Fulfilment));
        }
        if let Err(e) = self.complete(&claimed, &ticket).await {
            if self.inner.fulfil.is_some() {
                // The app has fulfilled it; what was recorded is what still stands
                // between a replay after the lease and a second verify.
                tracing::error!(error = %e, "could not record a fulfilled payment");
            } else {
                // Verified at the gateway but not recorded as fulfilled: reporting it
                // paid could let a replay pay twice once the lease lapses. Pending is
                // safe: a retry gets the gateway's "verified before" and completes. The
                // claim is not given back; it lapses with its lease.
                tracing::warn!(error = %e, "could not record fulfilment; reporting pending");
                self.record(&state, PaymentStatus::Pending, verify_reference)
                    .await;
                return Err(pending(&state, PendingReason::GuardUnavailable));
            }
        }
        Ok(receipt)
    }

    /// Verify for a claimed payment, and what its answer means.
    async fn verify_claimed(
        &self,
        adapter: &dyn AnyGateway,
        state: &OrderState,
        callback: &CallbackData,
    ) -> Result<Verified, Decided> {
        let failed = |reason| {
            Decided::NotPaid(NotPaid::Failed(FailedPayment {
                account: state.account().clone(),
                order_id: state.order_id().clone(),
                amount: state.amount(),
                reason,
            }))
        };
        let rejected = |rejection| Decided::NotPaid(NotPaid::Rejected(rejection));
        if let CallbackStatus::Failed { code, .. } = &callback.status {
            // Claimed first so that a "cancelled" callback replayed after a fulfilled
            // payment is a replay, not a failure that could downgrade a paid order.
            return Err(failed(FailureReason::NotPaid { code: *code }));
        }
        let mut answer = adapter.verify(state, callback).await;
        if matches!(&answer, Err(Error::Gateway(_))) {
            // A final "no" to a payment the callback did not call failed: if the gateway
            // can tell, check whether an earlier verify of ours went through and only its
            // answer was lost.
            if let Ok(confirmed) = adapter.confirmed_status(state).await {
                tracing::info!("verify refused, but the gateway reports the payment confirmed");
                answer = Ok(confirmed);
            }
        }
        match answer {
            Ok(verified)
                if verified
                    .order_id
                    .as_deref()
                    .is_some_and(|id| *id != state.invoice_id()) =>
            {
                Err(rejected(Rejection::VerifiedOrderMismatch))
            }
            Ok(verified) if verified.amount.is_some_and(|a| a != state.amount()) => {
                Err(rejected(Rejection::AmountMismatch))
            }
            Ok(verified) => Ok(verified),
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "verify did not finish; payment pending");
                Err(Decided::Pending(match &e {
                    Error::Gateway(g) => PendingReason::GatewayBusy(g.code.code()),
                    other => PendingReason::Transport(other.to_string()),
                }))
            }
            Err(Error::Gateway(g)) => Err(failed(FailureReason::Declined(g))),
            Err(Error::Callback(e)) => Err(rejected(Rejection::MalformedCallback(e))),
            Err(e) => Err(rejected(Rejection::Misconfigured(e.to_string()))),
        }
    }

    /// Verifies a pending payment again. Gives the receipt once (and
    /// [`Rejection::Replay`] for any later retry of the same payment), a failure when the
    /// gateway gives a final no, or the payment pending again.
    ///
    /// The signed state inside is checked again; its expiry is not, but the payment must
    /// have started within the pending window (24 hours by default).
    pub async fn retry(&self, pending: &PendingPayment) -> Outcome {
        let span = tracing::info_span!(
            "payment_retry",
            account = %pending.account,
            order_id = %pending.order_id
        );
        let outcome = self.retry_inner(pending).instrument(span.clone()).await;
        tracing::info!(parent: &span, outcome = outcome::kind(&outcome), "pending payment retried");
        outcome
    }

    async fn retry_inner(&self, pending: &PendingPayment) -> Outcome {
        let state = match self
            .inner
            .codec
            .open_ignoring_expiry(&pending.state, &pending.state_name)
        {
            Ok(state) => state,
            Err(e) => return Err(NotPaid::Rejected(Rejection::TamperedState(e))),
        };
        if *state.account() != pending.account
            || state.gateway() != pending.callback.gateway
            || !belongs(&state, &pending.callback)
        {
            return Err(NotPaid::Rejected(Rejection::ForeignState));
        }
        let deadline = state
            .issued_at()
            .saturating_add(self.inner.pending_window.whole_seconds());
        if self.now().unix_timestamp() >= deadline {
            return Err(NotPaid::Rejected(Rejection::ExpiredState));
        }
        let Some(adapter) = self.adapter(state.account()) else {
            return Err(NotPaid::Rejected(Rejection::UnknownGateway));
        };
        self.claim_and_verify(
            adapter,
            state,
            &pending.callback,
            &pending.state_name,
            &pending.state,
            Asker::Retry,
        )
        .await
    }
}

/// What a claimed payment's verify decided, short of paid.
// Made and matched once per callback: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Decided {
    /// Final: failed or refused.
    NotPaid(NotPaid),
    /// Unknown: try again later.
    Pending(PendingReason),
}

/// Whether the signed state binds what verify is called with: the state's own reference,
/// or (GardeshPay) a reference only the callback names, which anyone could have forged.
pub(super) fn binds(state: &OrderState, callback: &CallbackData) -> bool {
    callback
        .verify_reference
        .as_deref()
        .is_none_or(|reference| reference == state.gateway_ref())
}
