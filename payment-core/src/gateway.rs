//! The contract every gateway adapter fulfils, and the object-safe form the pipeline holds.

use std::{fmt, future::Future, pin::Pin};

use url::Url;

use crate::{
    CallbackRequest, Error, GatewayId, Order, Rial, callback::CallbackData, receipt::Verified,
    state::OrderState,
};

/// Where to send the buyer after a payment was created.
#[derive(Clone, PartialEq, Eq)]
pub enum Redirect {
    /// A plain `GET` link (IDPay, NovinPal, CanPay, GardeshPay, Zarinpal, Zibal).
    Get(Url),
    /// A form the browser must `POST` (Inopal): answer with an auto-submitting page.
    PostForm {
        /// The form's action.
        action: Url,
        /// The form's fields.
        fields: Vec<(String, String)>,
    },
}

impl Redirect {
    /// The URL the buyer is sent to.
    pub fn url(&self) -> &Url {
        match self {
            Redirect::Get(url) => url,
            Redirect::PostForm { action, .. } => action,
        }
    }
}

// The link or the form carries the gateway's token, a bearer value at CanPay and
// GardeshPay: only the host is printed.
impl fmt::Debug for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.url().host_str().unwrap_or_default();
        match self {
            Redirect::Get(_) => write!(f, "Get({host}/…)"),
            Redirect::PostForm { fields, .. } => {
                let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                write!(f, "PostForm({host}/…, fields: {names:?})")
            }
        }
    }
}

/// A payment that a gateway created.
#[derive(Clone, PartialEq, Eq)]
pub struct Created {
    /// The gateway's reference for the payment, kept in the order state and needed by
    /// verify (IDPay `id`, NovinPal `refId`, Inopal `ref_num`, CanPay and GardeshPay
    /// `token`, Zarinpal `authority`, Zibal `trackId`).
    pub gateway_ref: String,
    /// Where to send the buyer.
    pub redirect: Redirect,
    /// What the buyer will pay, where the gateway adds a fee (Inopal `payment_amount`).
    pub payable_amount: Option<Rial>,
}

impl Created {
    /// A payment whose buyer is sent to `url` with a `GET`, paying the order's amount.
    pub fn redirect_to(gateway_ref: String, url: Url) -> Self {
        Self {
            gateway_ref,
            redirect: Redirect::Get(url),
            payable_amount: None,
        }
    }
}

impl fmt::Debug for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Created")
            .field("gateway_ref", &crate::redact::partial(&self.gateway_ref))
            .field("redirect", &self.redirect)
            .field("payable_amount", &self.payable_amount)
            .finish()
    }
}

/// A gateway adapter: [`IdPay`](crate::IdPay), [`NovinPal`](crate::NovinPal),
/// [`Inopal`](crate::Inopal), [`CanPay`](crate::CanPay),
/// [`GardeshPay`](crate::GardeshPay), [`Zarinpal`](crate::Zarinpal) and
/// [`Zibal`](crate::Zibal), or a stand-in for one of them in an app's tests.
///
/// Adapters speak the wire protocol only; the rules about which callback to trust live
/// once in [`Payments`](crate::Payments). Its methods can be called directly, to create or
/// verify a payment outside the pipeline; then compare what verify reports with your own
/// record before trusting it.
pub trait Gateway: Send + Sync + 'static {
    /// Which gateway this is.
    const ID: GatewayId;

    /// Checks the order against the gateway's documented limits (amount range, order id
    /// rules, field lengths) without any network call.
    fn check_order(&self, order: &Order) -> Result<(), Error>;

    /// Creates the payment at the gateway and returns its reference and the redirect.
    fn create(
        &self,
        order: &Order,
        callback_url: &Url,
    ) -> impl Future<Output = Result<Created, Error>> + Send;

    /// Reads the gateway's documented callback fields. Nothing here is trusted yet.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error>;

    /// Confirms the payment, using the state's amount and reference. `Ok` means paid;
    /// a refusal is [`Error::Gateway`], an unknown result [`Error::Transport`].
    fn verify(
        &self,
        state: &OrderState,
        callback: &CallbackData,
    ) -> impl Future<Output = Result<Verified, Error>> + Send;

    /// Where the gateway can tell without confirming (IDPay's, Zarinpal's and Zibal's
    /// inquiry): whether this
    /// payment is confirmed already. `Ok` only for a confirmed payment.
    ///
    /// The pipeline asks only after verify gave a final "no" to a callback that said
    /// "paid", to recognise a payment whose earlier verify went through but whose answer
    /// was lost (IDPay refuses a second verify once its 10-minute window has passed).
    /// The default answers [`Error::Unsupported`].
    fn confirmed_status(
        &self,
        state: &OrderState,
    ) -> impl Future<Output = Result<Verified, Error>> + Send {
        let _ = state;
        std::future::ready(Err(Error::Unsupported {
            gateway: Self::ID,
            operation: crate::error::Operation::Inquiry,
        }))
    }

    /// Where the gateway can refund a verified payment ([`Reverse`]: NovinPal, Zarinpal),
    /// refunds it; what [`Payments::refund`](crate::Payments::refund) calls. The default
    /// answers [`Error::Unsupported`].
    fn refund(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send {
        let _ = state;
        std::future::ready(Err(Error::Unsupported {
            gateway: Self::ID,
            operation: crate::error::Operation::Reverse,
        }))
    }
}

/// Names the receipt of a gateway type: always [`Receipt`](crate::Receipt). It lets the
/// framework crates' `PaymentCallback<P>` be a one-field tuple struct that is still
/// generic over the gateway, so a handler can take
/// `PaymentCallback(receipt): PaymentCallback<NovinPal>`.
pub trait GatewayReceipt: Gateway {
    /// Always [`Receipt`](crate::Receipt).
    type Receipt;
}

impl<G: Gateway> GatewayReceipt for G {
    type Receipt = crate::Receipt;
}

/// A gateway that can report a payment's status without confirming it (IDPay, Zarinpal,
/// Zibal).
pub trait Inquiry: Gateway {
    /// The gateway's view of the payment; `Ok` only if it is confirmed as paid.
    fn inquiry(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send;
}

/// A gateway that can refund a verified payment (NovinPal, within 120 minutes; Zarinpal,
/// within 30 minutes).
pub trait Reverse: Gateway {
    /// Refunds the payment to the buyer.
    fn reverse(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send;
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Gateway`] in an object-safe form: what [`Payments`](crate::Payments) holds for each
/// configured account.
pub(crate) trait AnyGateway: Send + Sync + 'static {
    fn check_order(&self, order: &Order) -> Result<(), Error>;
    fn create<'a>(
        &'a self,
        order: &'a Order,
        callback_url: &'a Url,
    ) -> BoxFuture<'a, Result<Created, Error>>;
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error>;
    fn verify<'a>(
        &'a self,
        state: &'a OrderState,
        callback: &'a CallbackData,
    ) -> BoxFuture<'a, Result<Verified, Error>>;
    fn confirmed_status<'a>(
        &'a self,
        state: &'a OrderState,
    ) -> BoxFuture<'a, Result<Verified, Error>>;
    fn refund<'a>(&'a self, state: &'a OrderState) -> BoxFuture<'a, Result<Verified, Error>>;
}

impl<G: Gateway> AnyGateway for G {
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        Gateway::check_order(self, order)
    }

    fn create<'a>(
        &'a self,
        order: &'a Order,
        callback_url: &'a Url,
    ) -> BoxFuture<'a, Result<Created, Error>> {
        Box::pin(Gateway::create(self, order, callback_url))
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        Gateway::parse_callback(self, request)
    }

    fn verify<'a>(
        &'a self,
        state: &'a OrderState,
        callback: &'a CallbackData,
    ) -> BoxFuture<'a, Result<Verified, Error>> {
        Box::pin(Gateway::verify(self, state, callback))
    }

    fn confirmed_status<'a>(
        &'a self,
        state: &'a OrderState,
    ) -> BoxFuture<'a, Result<Verified, Error>> {
        Box::pin(Gateway::confirmed_status(self, state))
    }

    fn refund<'a>(&'a self, state: &'a OrderState) -> BoxFuture<'a, Result<Verified, Error>> {
        Box::pin(Gateway::refund(self, state))
    }
}
