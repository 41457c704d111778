//! The app's fulfilment hook, and the ledger's record of each step of a payment.

use std::{future::Future, sync::Arc};

use crate::{AccountId, Receipt, ledger::PaymentStatus, replay::BoxFuture, state::OrderState};

use super::Payments;

/// The app's hook, boxed: its error is kept as text, for the log.
pub(crate) type FulfilHook =
    Arc<dyn Fn(Receipt) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

pub(super) fn hook<F, Fut, E>(hook: F) -> FulfilHook
where
    F: Fn(Receipt) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display + 'static,
{
    Arc::new(move |receipt| {
        let done = hook(receipt);
        Box::pin(async move { done.await.map_err(|e| e.to_string()) })
    })
}

impl Payments {
    /// Hands a verified payment to the app's hook, if it set one.
    pub(super) async fn run_fulfil(&self, receipt: &Receipt) -> Result<(), String> {
        match &self.inner.fulfil {
            Some(hook) => hook(receipt.clone()).await,
            None => Ok(()),
        }
    }

    /// Records a step of the payment `state` names in the ledger, if there is one. A
    /// ledger that cannot be written is logged and otherwise ignored here: the buyer's
    /// answer does not wait for it, and the reconciler finds the payment again by its
    /// last recorded step.
    pub(crate) async fn record(
        &self,
        state: &OrderState,
        to: PaymentStatus,
        verify_reference: Option<&str>,
    ) {
        self.record_for(state.account(), state.gateway_ref(), to, verify_reference)
            .await;
    }

    pub(crate) async fn record_for(
        &self,
        account: &AccountId,
        gateway_ref: &str,
        to: PaymentStatus,
        verify_reference: Option<&str>,
    ) {
        let Some(ledger) = &self.inner.ledger else {
            return;
        };
        let moved = ledger
            .transition(account, gateway_ref, to, self.now(), verify_reference)
            .await;
        match moved {
            Ok(true) => tracing::debug!(status = %to, "payment recorded"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, status = %to, "could not record a payment's step"),
        }
    }
}
