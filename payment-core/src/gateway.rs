//! The contract every gateway adapter fulfils, in a static form (for extractors generic
//! over a gateway type) and an object-safe form (for choosing a gateway at run time).

use std::{future::Future, pin::Pin};

use url::Url;

use crate::{
    CallbackData, CallbackRequest, Error, GatewayId, Order, Rial, Verified, state::OrderState,
};

/// A boxed, sendable future, as returned by the object-safe traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where to send the buyer after a payment was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// A plain `GET` link (IDPay, NovinPal, CanPay, GardeshPay).
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

    /// A small HTML page that submits the form on load (with a button when scripts are
    /// off). For [`Redirect::Get`] the same page follows the link.
    pub fn auto_submit_page(&self) -> String {
        match self {
            Redirect::Get(url) => crate::html::auto_submit_page("GET", url.as_str(), &[]),
            Redirect::PostForm { action, fields } => {
                crate::html::auto_submit_page("POST", action.as_str(), fields)
            }
        }
    }
}

/// A payment that a gateway created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The gateway's reference for the payment, kept in the order state and needed by
    /// verify (IDPay `id`, NovinPal `refId`, Inopal `ref_num`, CanPay and GardeshPay
    /// `token`).
    pub gateway_ref: String,
    /// Where to send the buyer.
    pub redirect: Redirect,
    /// What the buyer will pay, where the gateway adds a fee (Inopal `payment_amount`).
    pub payable_amount: Option<Rial>,
}

/// A gateway adapter. Implemented by [`IdPay`](crate::IdPay),
/// [`NovinPal`](crate::NovinPal), [`Inopal`](crate::Inopal), [`CanPay`](crate::CanPay)
/// and [`GardeshPay`](crate::GardeshPay).
///
/// Adapters speak the wire protocol only; the rules about which callback to trust live
/// once in [`Payments`](crate::Payments).
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

    /// Where the gateway can tell without confirming (IDPay's inquiry): whether this
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
            operation: crate::Operation::Inquiry,
        }))
    }
}

/// The object-safe form of [`Gateway`], implemented for every `Gateway`: what
/// [`Payments`](crate::Payments) holds, one `Arc<dyn DynGateway>` per configured gateway.
///
/// Its methods carry a `dyn_` prefix so that they never clash with [`Gateway`]'s: with
/// both traits in scope (`use payment_core::*`), `novinpal.verify(..)` is the adapter's
/// own method, not an ambiguous call.
///
/// ```
/// use std::sync::Arc;
/// use payment_core::*;
///
/// let novinpal = NovinPal::new("my-api-key");
/// let order = Order::new("A-1".parse().unwrap(), Rial::new(120_000));
/// // The adapter's own method, with both traits imported.
/// assert!(novinpal.check_order(&order).is_ok());
/// // The same adapter behind the object-safe trait, as `Payments` holds it.
/// let chosen: Arc<dyn DynGateway> = Arc::new(novinpal);
/// assert_eq!(chosen.id(), GatewayId::NovinPal);
/// assert!(chosen.dyn_check_order(&order).is_ok());
/// ```
pub trait DynGateway: Send + Sync + 'static {
    /// Which gateway this is.
    fn id(&self) -> GatewayId;
    /// See [`Gateway::check_order`].
    fn dyn_check_order(&self, order: &Order) -> Result<(), Error>;
    /// See [`Gateway::create`].
    fn dyn_create<'a>(
        &'a self,
        order: &'a Order,
        callback_url: &'a Url,
    ) -> BoxFuture<'a, Result<Created, Error>>;
    /// See [`Gateway::parse_callback`].
    fn dyn_parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error>;
    /// See [`Gateway::verify`].
    fn dyn_verify<'a>(
        &'a self,
        state: &'a OrderState,
        callback: &'a CallbackData,
    ) -> BoxFuture<'a, Result<Verified, Error>>;
    /// See [`Gateway::confirmed_status`].
    fn dyn_confirmed_status<'a>(
        &'a self,
        state: &'a OrderState,
    ) -> BoxFuture<'a, Result<Verified, Error>>;
}

impl<G: Gateway> DynGateway for G {
    fn id(&self) -> GatewayId {
        G::ID
    }

    fn dyn_check_order(&self, order: &Order) -> Result<(), Error> {
        Gateway::check_order(self, order)
    }

    fn dyn_create<'a>(
        &'a self,
        order: &'a Order,
        callback_url: &'a Url,
    ) -> BoxFuture<'a, Result<Created, Error>> {
        Box::pin(Gateway::create(self, order, callback_url))
    }

    fn dyn_parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        Gateway::parse_callback(self, request)
    }

    fn dyn_verify<'a>(
        &'a self,
        state: &'a OrderState,
        callback: &'a CallbackData,
    ) -> BoxFuture<'a, Result<Verified, Error>> {
        Box::pin(Gateway::verify(self, state, callback))
    }

    fn dyn_confirmed_status<'a>(
        &'a self,
        state: &'a OrderState,
    ) -> BoxFuture<'a, Result<Verified, Error>> {
        Box::pin(Gateway::confirmed_status(self, state))
    }
}

/// A gateway that can report a payment's status without confirming it (IDPay).
pub trait Inquiry: Gateway {
    /// The gateway's view of the payment; `Ok` only if it is confirmed as paid.
    fn inquiry(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send;
}

/// A gateway that can refund a verified payment (NovinPal, within 120 minutes).
pub trait Reverse: Gateway {
    /// Refunds the payment to the buyer.
    fn reverse(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send;
}
