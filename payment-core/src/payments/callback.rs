//! A returning buyer's callback: find the order state it belongs to and check it, before
//! any claim or verify.

use std::future::Future;

use tracing::Instrument;

use super::{Payments, claims::Asker, verify::binds};
use crate::{
    AccountId, CallbackRequest, GatewayId,
    callback::{CallbackData, CallbackMethod},
    error::{CallbackError, Error, StateError},
    outcome::{self, NotPaid, Rejection, ResubmitForm},
    reply::{CallbackResult, StateCookie},
    state::OrderState,
};

/// The form field that marks a callback we re-posted ourselves (see
/// [`NotPaid::Resubmit`]); a second arrival without the cookie is then refused instead of
/// re-posted again.
const RESUBMIT_FIELD: &str = "_payment_resubmit";

impl Payments {
    /// Handles a callback as a framework crate receives it: finds the account from the
    /// request's `path` ([`Payments::gateway_for_path`], with `gateway` for an extractor
    /// typed for one gateway), then reads the request with `read` (so that a route mounted
    /// at the wrong path is refused before its body is read), then
    /// [`handles`](Payments::handle_callback) it.
    pub async fn handle_request(
        &self,
        path: &str,
        gateway: Option<GatewayId>,
        read: impl Future<Output = Result<CallbackRequest, CallbackError>>,
    ) -> CallbackResult {
        let account = match self.gateway_for_path(path, gateway) {
            Ok(account) => account,
            Err(rejection) => return CallbackResult::rejected(rejection),
        };
        match read.await {
            Ok(request) => self.handle_callback(account, &request).await,
            Err(e) => CallbackResult::rejected(Rejection::MalformedCallback(e)),
        }
    }

    /// Handles a callback for `account` (a gateway, for its default account): finds and
    /// checks the order state, claims the payment, verifies it with the state's amount,
    /// compares the answer with the state, and returns the outcome with the cookies to
    /// set.
    pub async fn handle_callback(
        &self,
        account: impl Into<AccountId>,
        request: &CallbackRequest,
    ) -> CallbackResult {
        let account = account.into();
        let span = tracing::info_span!(
            "payment_callback",
            account = %account,
            order_id = tracing::field::Empty
        );
        let result = self
            .check_callback(&account, request)
            .instrument(span.clone())
            .await;
        // A refusal an operator must act on is a warning; an ordinary one (a reload, a
        // lost cookie, a replay) is routine, so a burst of them does not flood the log.
        let (kind, status) = (outcome::kind(&result.outcome), result.http_status());
        match &result.outcome {
            Err(NotPaid::Rejected(rejection)) if rejection.needs_attention() => tracing::warn!(
                parent: &span,
                outcome = kind,
                rejection = rejection.kind(),
                status,
                "callback refused"
            ),
            Err(NotPaid::Rejected(rejection)) => tracing::debug!(
                parent: &span,
                outcome = kind,
                rejection = rejection.kind(),
                status,
                "callback refused"
            ),
            _ => tracing::info!(parent: &span, outcome = kind, status, "callback handled"),
        }
        result
    }

    async fn check_callback(
        &self,
        account: &AccountId,
        request: &CallbackRequest,
    ) -> CallbackResult {
        let Some(adapter) = self.adapter(account) else {
            return CallbackResult::rejected(Rejection::UnknownGateway);
        };
        let callback = match adapter.parse_callback(request) {
            Ok(c) => c,
            Err(Error::Callback(e)) => {
                return CallbackResult::rejected(Rejection::MalformedCallback(e));
            }
            Err(e) => return CallbackResult::rejected(Rejection::Misconfigured(e.to_string())),
        };
        if let Some(order_id) = &callback.order_id {
            tracing::Span::current().record("order_id", order_id.as_str());
        }
        let found = self.find_state(account, request, &callback);
        let mut cookies: Vec<StateCookie> = found
            .invalid
            .iter()
            .map(|name| self.removal(name))
            .collect();
        let reject = |rejection, cookies| CallbackResult {
            outcome: Err(NotPaid::Rejected(rejection)),
            cookies,
        };
        let Some((name, value, state)) = found.selected else {
            if !found.any_cookie
                && request.method() == CallbackMethod::Post
                && request.param(RESUBMIT_FIELD).is_none()
            {
                return CallbackResult {
                    outcome: Err(NotPaid::Resubmit(self.resubmit_form(account, request))),
                    cookies,
                };
            }
            let rejection = if let Some(e) = found.tampered {
                Rejection::TamperedState(e)
            } else if found.expired_match {
                Rejection::ExpiredState
            } else if found.any_valid {
                Rejection::ForeignState
            } else {
                Rejection::MissingState
            };
            return reject(rejection, cookies);
        };
        // The callback is only a hint, but a hint that contradicts the state is an attack
        // or a mix-up: refuse it before any claim or verify.
        if callback
            .order_id
            .as_deref()
            .is_some_and(|id| *id != state.invoice_id())
        {
            return reject(Rejection::OrderMismatch, cookies);
        }
        if callback.amount.is_some_and(|a| a != state.amount()) {
            return reject(Rejection::AmountMismatch, cookies);
        }
        let bound = binds(&state, &callback);
        let outcome = self
            .claim_and_verify(adapter, state, &callback, name, value, Asker::Return)
            .await;
        // A pending payment keeps its state for a retry; so does one another request is
        // verifying right now, and one whose callback named a reference the state does not
        // bind (a forged callback must not end the buyer's real payment).
        let keeps_state = match &outcome {
            Ok(_) => false,
            Err(NotPaid::Pending(_) | NotPaid::Rejected(Rejection::InProgress)) => true,
            Err(_) => !bound,
        };
        if !keeps_state {
            cookies.push(self.removal(name));
        }
        CallbackResult { outcome, cookies }
    }

    /// The same-origin re-post of a cross-site `POST` that came without its cookie: to
    /// the callback path the buyer's browser sees, with the same query and fields.
    fn resubmit_form(&self, account: &AccountId, request: &CallbackRequest) -> ResubmitForm {
        let mut action = self.public_callback_path(account);
        let query: Vec<(&str, &str)> = request.query().collect();
        if !query.is_empty()
            && let Ok(query) = serde_urlencoded::to_string(&query)
        {
            action = format!("{action}?{query}");
        }
        let mut fields: Vec<(String, String)> = request
            .form()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        fields.push((RESUBMIT_FIELD.to_owned(), "1".to_owned()));
        ResubmitForm { action, fields }
    }

    fn find_state<'r>(
        &self,
        account: &AccountId,
        request: &'r CallbackRequest,
        callback: &CallbackData,
    ) -> FoundState<'r> {
        let prefix = self.cookie_prefix(account);
        let now = self.now();
        let mut found = FoundState::default();
        for (name, value) in request.cookies() {
            if !name.starts_with(&prefix) {
                continue;
            }
            found.any_cookie = true;
            match self.inner.codec.open_ignoring_expiry(value, name) {
                Ok(state) => {
                    let matches = state.account() == account && belongs(&state, callback);
                    if state.is_expired(now) {
                        found.invalid.push(name);
                        found.expired_match |= matches;
                    } else if matches && found.selected.is_none() {
                        found.selected = Some((name, value, state));
                    } else {
                        found.any_valid = true;
                    }
                }
                Err(e) => {
                    found.invalid.push(name);
                    found.tampered.get_or_insert(e);
                }
            }
        }
        found
    }
}

/// Whether `state` is the order state this callback is about: the reference the callback
/// echoes must be the state's; where it echoes none (GardeshPay) the order id must match.
pub(super) fn belongs(state: &OrderState, callback: &CallbackData) -> bool {
    match (&callback.reference, &callback.order_id) {
        (Some(reference), _) => reference == state.gateway_ref(),
        (None, Some(order_id)) => *order_id == state.invoice_id(),
        (None, None) => false,
    }
}

/// The state cookies of a callback request, sorted out. Borrows from the request.
#[derive(Default)]
struct FoundState<'r> {
    selected: Option<(&'r str, &'r str, OrderState)>,
    invalid: Vec<&'r str>,
    tampered: Option<StateError>,
    expired_match: bool,
    any_valid: bool,
    any_cookie: bool,
}
