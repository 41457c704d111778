//! Starting a payment: create it at the gateway, sign the order state into a cookie.

use std::fmt;

use tracing::Instrument;

use super::Payments;
use crate::{
    AccountId, ConfigError, Error, Order, OrderId, Rial,
    adapter::{Created, Redirect},
    error::{Operation, TransportError, TransportErrorKind},
    ledger::{PaymentRecord, PaymentStatus},
    pages,
    reply::{Reply, SameSite, StateCookie},
    state::{MAX_STATE_LEN, OrderState},
};

/// A started payment: where to send the buyer, and the cookie that carries its signed
/// order state. [`StartedPayment::reply`] is the whole answer.
#[derive(Clone)]
pub struct StartedPayment {
    account: AccountId,
    redirect: Redirect,
    cookie: StateCookie,
    gateway_ref: String,
    payable_amount: Option<Rial>,
}

impl StartedPayment {
    /// The gateway account the payment was created with.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The gateway's reference for the payment; store it with the order if you want to
    /// find the payment later (the receipt carries it too).
    pub fn gateway_ref(&self) -> &str {
        &self.gateway_ref
    }

    /// What the buyer will pay, where the gateway adds a fee (Inopal).
    pub fn payable_amount(&self) -> Option<Rial> {
        self.payable_amount
    }

    /// Where the buyer is sent.
    pub fn redirect(&self) -> &Redirect {
        &self.redirect
    }

    /// The signed order state's cookie.
    pub fn cookie(&self) -> &StateCookie {
        &self.cookie
    }

    /// The answer that sends the buyer to the gateway: `302 Found` for a `GET` gateway,
    /// or `200` with an auto-submitting form for a gateway that takes a `POST` (Inopal);
    /// with the state cookie and `Cache-Control: no-store`.
    pub fn reply(&self) -> Reply {
        let cookies = std::slice::from_ref(&self.cookie);
        match &self.redirect {
            Redirect::Get(url) => Reply::redirect(url.as_str(), cookies),
            Redirect::PostForm { action, fields } => Reply::page(
                200,
                pages::auto_submit("POST", action.as_str(), fields),
                cookies,
            ),
        }
    }
}

// The redirect and the reference carry the gateway's token, a bearer value at CanPay and
// GardeshPay.
impl fmt::Debug for StartedPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartedPayment")
            .field("account", &self.account)
            .field("redirect", &self.redirect)
            .field("cookie", &self.cookie)
            .field("gateway_ref", &crate::redact::partial(&self.gateway_ref))
            .field("payable_amount", &self.payable_amount)
            .finish()
    }
}

impl Payments {
    /// Creates the payment at `account` (a gateway, for its default account) and signs
    /// the order state into a cookie.
    ///
    /// The order's amount is what verify will use: decide it on the server. A failure is
    /// logged here (a configuration problem as an error, a refused order as info, a
    /// gateway that refused or did not answer as a warning); answer it with
    /// [`Error::reply`].
    pub async fn start(
        &self,
        account: impl Into<AccountId>,
        order: &Order,
    ) -> Result<StartedPayment, Error> {
        let account = account.into();
        let span = tracing::info_span!("payment_start", account = %account, order_id = %order.id());
        let result = self.create(&account, order).instrument(span.clone()).await;
        match &result {
            Ok(_) => tracing::info!(parent: &span, "payment started"),
            Err(error @ (Error::Config(_) | Error::Unsupported { .. })) => {
                tracing::error!(parent: &span, %error, "payment could not be started");
            }
            Err(error @ Error::InvalidOrder(_)) => {
                tracing::info!(parent: &span, %error, "order refused before start");
            }
            Err(error) => tracing::warn!(parent: &span, %error, "payment could not be started"),
        }
        result
    }

    async fn create(&self, account: &AccountId, order: &Order) -> Result<StartedPayment, Error> {
        let adapter = self
            .adapter(account)
            .ok_or_else(|| ConfigError::GatewayNotConfigured(account.clone()))?;
        let attempt = self.attempt(account, order).await?;
        // A later attempt goes to the gateway under its own id; the state keeps the
        // shop's id and the attempt, which give that id back.
        let invoice_id = crate::state::invoice_id(account.gateway(), order.id(), attempt);
        let sent = match invoice_id {
            std::borrow::Cow::Borrowed(_) => std::borrow::Cow::Borrowed(order),
            std::borrow::Cow::Owned(id) => {
                let id = OrderId::new(&id).map_err(|_| {
                    Error::InvalidOrder(crate::error::InvalidOrder {
                        gateway: account.gateway(),
                        reason: crate::error::OrderProblem::OrderIdTooLong {
                            len: id.len(),
                            max: crate::order::MAX_ORDER_ID_LEN,
                        },
                    })
                })?;
                std::borrow::Cow::Owned(order.with_id(id))
            }
        };
        adapter.check_order(&sent)?;
        let callback_url = self.callback_url(account.clone());
        let Created {
            gateway_ref,
            redirect,
            payable_amount,
        } = adapter.create(&sent, &callback_url).await?;
        let inner = &self.inner;
        let now = self.now();
        let state = OrderState::new(
            account.clone(),
            order.id().clone(),
            order.amount(),
            gateway_ref.clone(),
            now,
            inner.state_ttl,
        )
        .with_attempt(attempt);
        let state = match payable_amount {
            Some(payable) => state.with_payable_amount(payable),
            None => state,
        };
        let name = self.cookie_name(account, &state);
        let value = inner.codec.seal(&state, &name);
        if value.len() > MAX_STATE_LEN {
            // A reference this long could not be read back from the cookie when the buyer
            // returns, after paying: refuse now, before the buyer is sent to pay.
            return Err(TransportError {
                gateway: account.gateway(),
                operation: Operation::Create,
                kind: TransportErrorKind::Malformed(format!(
                    "the gateway's reference ({} bytes) is too long to carry in the order state",
                    gateway_ref.len()
                )),
            }
            .into());
        }
        if let Some(ledger) = &inner.ledger {
            // Before the buyer is sent to pay: a payment the ledger does not know could
            // not be found again if the buyer never returns.
            let record = PaymentRecord {
                account: account.clone(),
                order_id: order.id().clone(),
                amount: order.amount(),
                gateway_ref: gateway_ref.clone(),
                status: PaymentStatus::Started,
                created_at: now,
                updated_at: now,
                state: value.clone(),
                state_name: name.clone(),
                verify_reference: None,
            };
            ledger.insert(&record).await?;
        }
        Ok(StartedPayment {
            account: account.clone(),
            redirect,
            cookie: self.cookie(name, value, inner.state_ttl.whole_seconds()),
            gateway_ref,
            payable_amount,
        })
    }

    /// Which payment of the order this is: what the app said, or one more than the
    /// payments of the order that the ledger has at this account, or the first.
    async fn attempt(&self, account: &AccountId, order: &Order) -> Result<u8, Error> {
        if let Some(attempt) = order.attempt() {
            return Ok(attempt);
        }
        let Some(ledger) = &self.inner.ledger else {
            return Ok(1);
        };
        let earlier = ledger
            .for_order(order.id())
            .await?
            .iter()
            .filter(|record| record.account == *account)
            .count();
        Ok(u8::try_from(earlier.saturating_add(1)).unwrap_or(u8::MAX))
    }

    /// The prefix of `account`'s state cookie names.
    pub(super) fn cookie_prefix(&self, account: &AccountId) -> String {
        format!("{}{account}_", self.inner.cookie_prefix)
    }

    /// One cookie per pending order, so two tabs paying two orders keep both states.
    fn cookie_name(&self, account: &AccountId, state: &OrderState) -> String {
        let nonce: String = state
            .nonce()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{}{nonce}", self.cookie_prefix(account))
    }

    fn cookie(&self, name: String, value: String, max_age: i64) -> StateCookie {
        StateCookie {
            name,
            value,
            path: format!("{}/callback", self.inner.public_mount_path),
            max_age,
            secure: self.inner.secure_cookies,
            http_only: true,
            same_site: SameSite::Lax,
        }
    }

    /// The cookie that removes the state cookie called `name`.
    pub(super) fn removal(&self, name: &str) -> StateCookie {
        self.cookie(name.to_owned(), String::new(), 0)
    }
}
