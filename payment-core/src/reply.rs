//! What the payment routes answer, decided here once and rendered as it is by the
//! framework crates: the status, the page, the cookies and the cache headers of every
//! answer, and which of the app's hooks an outcome goes to.
//!
//! An app rarely needs this module: `payment-axum` and `payment-actix` use it.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

pub use crate::cookie::{SameSite, StateCookie};
use crate::{
    Receipt,
    outcome::{FailedPayment, NotPaid, Outcome, PendingPayment, Rejection},
    pages,
};

/// An HTTP answer the library decided on, to be sent as it is: status, headers (in order;
/// a name may repeat, as `Set-Cookie` does) and body.
///
/// ```
/// use payment_core::{Error, error::InvalidOrder, error::OrderProblem, GatewayId};
/// let error = Error::InvalidOrder(InvalidOrder {
///     gateway: GatewayId::IdPay,
///     reason: OrderProblem::AmountTooLow { amount: 5, min: 10_000 },
/// });
/// let reply = error.reply();
/// assert_eq!(reply.status, 422);
/// assert!(reply.headers.contains(&("cache-control", "no-store".to_owned())));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers, lowercase names first.
    pub headers: Vec<(&'static str, String)>,
    /// The body (HTML, or empty for a redirect).
    pub body: String,
}

impl Reply {
    /// An HTML page that no cache may keep, with the cookies to set.
    pub(crate) fn page(status: u16, body: String, cookies: &[StateCookie]) -> Self {
        let mut headers = vec![
            ("content-type", "text/html; charset=utf-8".to_owned()),
            (CACHE_CONTROL, NO_STORE.to_owned()),
            ("content-security-policy", crate::pages::PAGE_CSP.to_owned()),
        ];
        headers.extend(set_cookies(cookies));
        Self {
            status,
            headers,
            body,
        }
    }

    /// A `302 Found` to `location`, with the cookies to set.
    pub(crate) fn redirect(location: &str, cookies: &[StateCookie]) -> Self {
        let mut headers = vec![
            ("location", location.to_owned()),
            (CACHE_CONTROL, NO_STORE.to_owned()),
        ];
        headers.extend(set_cookies(cookies));
        Self {
            status: 302,
            headers,
            body: String::new(),
        }
    }
}

// A redirect's location and the cookies carry tokens and signed states: names only.
impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

const CACHE_CONTROL: &str = "cache-control";
/// Receipts, re-post forms and redirects with a fresh state cookie belong to one buyer at
/// one moment: no cache may keep them.
const NO_STORE: &str = "no-store";

fn set_cookies(cookies: &[StateCookie]) -> impl Iterator<Item = (&'static str, String)> + '_ {
    cookies.iter().map(|c| ("set-cookie", c.to_header_value()))
}

/// What the library adds to an app's own answer on a payment route (a hook's response,
/// or a handler's after the extractor): the outcome's status where the app left `200`,
/// the state cookies to set or remove, and `Cache-Control: no-store` where the app set no
/// cache policy of its own.
#[derive(Debug, Clone, Default)]
pub struct ReplyParts {
    status: u16,
    cookies: Vec<StateCookie>,
}

impl ReplyParts {
    /// The status to answer with when the app's answer has `app_status`: a hook that did
    /// not pick one (a plain page, `200 OK`) answers with the outcome's status; any other
    /// status (a redirect, or one the app chose) is kept.
    pub fn status(&self, app_status: u16) -> u16 {
        if app_status == 200 && self.status != 0 {
            self.status
        } else {
            app_status
        }
    }

    /// The headers to add to the app's answer: a `Set-Cookie` per state cookie, and
    /// `Cache-Control: no-store` unless the answer `has_cache_control` already.
    pub fn headers(&self, has_cache_control: bool) -> Vec<(&'static str, String)> {
        let mut headers: Vec<_> = set_cookies(&self.cookies).collect();
        if !has_cache_control {
            headers.push((CACHE_CONTROL, NO_STORE.to_owned()));
        }
        headers
    }

    /// The state cookies to set or remove.
    pub fn cookies(&self) -> &[StateCookie] {
        &self.cookies
    }
}

/// What [`Payments::handle_callback`](crate::Payments::handle_callback) returns: the
/// outcome, and the cookies to set or remove on the answer.
#[derive(Debug, Clone)]
pub struct CallbackResult {
    /// What happened: a receipt only for a verified payment that matched the state.
    pub outcome: Outcome,
    /// Cookies to put on the answer (removals of used or invalid states).
    pub cookies: Vec<StateCookie>,
}

impl CallbackResult {
    /// A refused callback, with no cookies to set.
    pub fn rejected(rejection: Rejection) -> Self {
        Self {
            outcome: Err(NotPaid::Rejected(rejection)),
            cookies: Vec::new(),
        }
    }

    /// The HTTP status of the default answer: 200 paid, otherwise
    /// [`NotPaid::http_status`].
    pub fn http_status(&self) -> u16 {
        match &self.outcome {
            Ok(_) => 200,
            Err(not_paid) => not_paid.http_status(),
        }
    }

    /// The library's own answer: the outcome's page in Persian and English (the receipt,
    /// or why not), its status, and the cookies.
    pub fn reply(&self) -> Reply {
        Reply::page(
            self.http_status(),
            pages::outcome(&self.outcome),
            &self.cookies,
        )
    }

    /// The receipt with what the app's answer needs added, or the reason there is none.
    // Once per request: not worth boxing.
    #[allow(clippy::result_large_err)]
    pub fn into_receipt(self) -> Result<(Receipt, ReplyParts), Unpaid> {
        let status = self.http_status();
        match self.outcome {
            Ok(receipt) => Ok((
                receipt,
                ReplyParts {
                    status,
                    cookies: self.cookies,
                },
            )),
            Err(not_paid) => Err(Unpaid {
                not_paid,
                cookies: self.cookies,
            }),
        }
    }
}

/// A callback that yielded no receipt, with the cookies its answer sets: what the
/// framework crates' `PaymentRejection` carries.
#[derive(Debug, Clone)]
pub struct Unpaid {
    not_paid: NotPaid,
    cookies: Vec<StateCookie>,
}

impl Unpaid {
    /// Why there is no receipt.
    pub fn not_paid(&self) -> &NotPaid {
        &self.not_paid
    }

    /// Why there is no receipt, by value.
    pub fn into_not_paid(self) -> NotPaid {
        self.not_paid
    }

    /// The cookies the answer sets (removals of used or invalid states).
    pub fn cookies(&self) -> &[StateCookie] {
        &self.cookies
    }

    /// The status of the default answer ([`NotPaid::http_status`]).
    pub fn http_status(&self) -> u16 {
        self.not_paid.http_status()
    }

    /// The library's own answer: the page, its status and the cookies. Always answer a
    /// [`NotPaid::Resubmit`] with it: it recovers the state cookie a browser withholds on
    /// a cross-site `POST`.
    pub fn reply(&self) -> Reply {
        let outcome = Err(self.not_paid.clone());
        Reply::page(self.http_status(), pages::outcome(&outcome), &self.cookies)
    }

    /// What the app's own answer needs added (see [`ReplyParts`]).
    pub fn reply_parts(&self) -> ReplyParts {
        ReplyParts {
            status: self.http_status(),
            cookies: self.cookies.clone(),
        }
    }
}

impl fmt::Display for Unpaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.not_paid.fmt(f)
    }
}

/// One of the app's hooks: called with the outcome's value and what the framework passes
/// along (`A`), it returns the framework's future of an answer (`F`).
pub type Hook<T, A, F> = Arc<dyn Fn(T, A) -> F + Send + Sync>;

/// The app's own answers to callback outcomes, one optional hook per outcome, kept the
/// way a framework crate boxes them.
///
/// [`Hooks::answer`] decides who answers a callback: the paid outcome goes to the paid
/// hook, a failed one to the failed hook, and so on; without the hook, or for the re-post
/// page (never handed to the app), the library answers itself.
pub struct Hooks<A, F> {
    paid: Option<Hook<Receipt, A, F>>,
    failed: Option<Hook<FailedPayment, A, F>>,
    pending: Option<Hook<PendingPayment, A, F>>,
    rejected: Option<Hook<Rejection, A, F>>,
    /// The payment service fulfils verified payments itself
    /// ([`PaymentsBuilder::fulfil`](crate::PaymentsBuilder::fulfil)).
    fulfilled_by_service: bool,
    /// A paid outcome that nothing fulfils is logged once.
    unhandled_paid_logged: Arc<AtomicBool>,
}

/// Who answers a callback: the app, with a hook's future (add [`ReplyParts`] to what it
/// gives), or the library, with its own [`Reply`].
pub enum Answer<F> {
    /// The app's hook answers; add these parts to its answer.
    App(F, ReplyParts),
    /// The library answers.
    Library(Reply),
}

impl<A, F> Hooks<A, F> {
    /// No hooks: the library answers every outcome.
    pub fn new() -> Self {
        Self {
            paid: None,
            failed: None,
            pending: None,
            rejected: None,
            fulfilled_by_service: false,
            unhandled_paid_logged: Arc::new(AtomicBool::new(false)),
        }
    }

    /// No hooks, for the routes of `payments`: whether it fulfils verified payments
    /// itself decides whether a paid outcome without a paid hook deserves a warning.
    pub fn for_payments(payments: &crate::Payments) -> Self {
        Self {
            fulfilled_by_service: payments.has_fulfil_hook(),
            ..Self::new()
        }
    }

    /// Sets the hook for a verified payment.
    pub fn set_paid(&mut self, hook: Hook<Receipt, A, F>) {
        self.paid = Some(hook);
    }

    /// Sets the hook for a failed payment.
    pub fn set_failed(&mut self, hook: Hook<FailedPayment, A, F>) {
        self.failed = Some(hook);
    }

    /// Sets the hook for a pending payment.
    pub fn set_pending(&mut self, hook: Hook<PendingPayment, A, F>) {
        self.pending = Some(hook);
    }

    /// Sets the hook for a refused callback.
    pub fn set_rejected(&mut self, hook: Hook<Rejection, A, F>) {
        self.rejected = Some(hook);
    }

    /// Who answers `result`, given `arg` for the hook.
    pub fn answer(&self, result: CallbackResult, arg: A) -> Answer<F> {
        let parts = ReplyParts {
            status: result.http_status(),
            cookies: result.cookies,
        };
        let unanswered = match result.outcome {
            Ok(receipt) => match &self.paid {
                Some(hook) => return Answer::App(hook(receipt, arg), parts),
                None => {
                    if !self.fulfilled_by_service
                        && !self.unhandled_paid_logged.swap(true, Ordering::Relaxed)
                    {
                        tracing::warn!(
                            "a payment was verified but no paid hook is set: nothing fulfils the order"
                        );
                    }
                    Ok(receipt)
                }
            },
            Err(NotPaid::Failed(failed)) => match &self.failed {
                Some(hook) => return Answer::App(hook(failed, arg), parts),
                None => Err(NotPaid::Failed(failed)),
            },
            Err(NotPaid::Pending(pending)) => match &self.pending {
                Some(hook) => return Answer::App(hook(pending, arg), parts),
                None => Err(NotPaid::Pending(pending)),
            },
            Err(NotPaid::Rejected(rejection)) => match &self.rejected {
                Some(hook) => return Answer::App(hook(rejection, arg), parts),
                None => Err(NotPaid::Rejected(rejection)),
            },
            // The re-post page is never the app's to answer.
            Err(other) => Err(other),
        };
        let result = CallbackResult {
            outcome: unanswered,
            cookies: parts.cookies,
        };
        Answer::Library(result.reply())
    }
}

impl<A, F> Default for Hooks<A, F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A, F> Clone for Hooks<A, F> {
    fn clone(&self) -> Self {
        Self {
            paid: self.paid.clone(),
            failed: self.failed.clone(),
            pending: self.pending.clone(),
            rejected: self.rejected.clone(),
            fulfilled_by_service: self.fulfilled_by_service,
            unhandled_paid_logged: self.unhandled_paid_logged.clone(),
        }
    }
}

impl<A, F> fmt::Debug for Hooks<A, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("paid", &self.paid.is_some())
            .field("failed", &self.failed.is_some())
            .field("pending", &self.pending.is_some())
            .field("rejected", &self.rejected.is_some())
            .finish()
    }
}
