//! A stand-in gateway whose verify answers from a script, for the tests that drive the
//! pipeline, the ledger and the reconciler through the public API.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use payment_core::{
    CallbackRequest, Error, GatewayId, KeyRing, Order, Rial, SigningKey,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Redirect, Verified, parse_amount},
    error::{GatewayCode, Operation, TransportError, TransportErrorKind},
    gateways::novinpal::NovinPalCode,
    state::OrderState,
    url::Url,
};

/// A stand-in gateway: `create` hands out `ref-{order id}`; the callback is
/// `ref`, `order`, `amount`, `ok`; `verify` answers from a script (default: paid, echoing
/// the state's order id and amount).
#[derive(Clone, Default)]
pub(crate) struct Scripted {
    pub(crate) answers: Arc<Mutex<VecDeque<Result<Verified, Error>>>>,
    pub(crate) verify_calls: Arc<AtomicUsize>,
    pub(crate) verified_refs: Arc<Mutex<Vec<String>>>,
    pub(crate) callback_urls: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    pub(crate) fn then(&self, answer: Result<Verified, Error>) -> &Self {
        self.answers.lock().unwrap().push_back(answer);
        self
    }

    pub(crate) fn calls(&self) -> usize {
        self.verify_calls.load(Ordering::SeqCst)
    }
}

pub(crate) fn paid(order_id: &str, amount: u64) -> Verified {
    let mut v = Verified::new();
    v.order_id = Some(order_id.to_owned());
    v.amount = Some(Rial::new(amount));
    v.bank_reference = Some("638060399619297999".into());
    v.card_mask = Some("6104-33**-****-6047".into());
    v
}

pub(crate) fn timeout() -> Error {
    Error::Transport(TransportError {
        gateway: GatewayId::NovinPal,
        operation: Operation::Verify,
        kind: TransportErrorKind::Timeout,
    })
}

impl Gateway for Scripted {
    const ID: GatewayId = GatewayId::NovinPal;

    fn check_order(&self, _order: &Order) -> Result<(), Error> {
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.callback_urls
            .lock()
            .unwrap()
            .push(callback_url.to_string());
        Ok(Created {
            gateway_ref: format!("ref-{}", order.id()),
            redirect: Redirect::Get(Url::parse("https://gateway.test/start").unwrap()),
            payable_amount: None,
        })
    }

    fn parse_callback(&self, req: &CallbackRequest) -> Result<CallbackData, Error> {
        let ok = req.required("ok")?;
        let status = if ok == "1" {
            CallbackStatus::Paid
        } else {
            CallbackStatus::Failed {
                code: Some(GatewayCode::NovinPal(NovinPalCode::TransactionFailed)),
                raw_code: Some(109),
            }
        };
        let mut data = CallbackData::new(GatewayId::NovinPal, status);
        data.reference = Some(req.required("ref")?.to_owned());
        data.order_id = req.param("order").map(str::to_owned);
        data.amount = req
            .param("amount")
            .map(|a| parse_amount(a, "amount"))
            .transpose()?;
        Ok(data)
    }

    async fn verify(&self, state: &OrderState, _cb: &CallbackData) -> Result<Verified, Error> {
        self.verify_calls.fetch_add(1, Ordering::SeqCst);
        self.verified_refs
            .lock()
            .unwrap()
            .push(state.gateway_ref().to_owned());
        let scripted = self.answers.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| Ok(paid(state.order_id().as_str(), state.amount().get())))
    }
}

/// The signing keys of a test shop, all bytes `fill`.
pub(crate) fn keys(fill: u8) -> KeyRing {
    KeyRing::new(SigningKey::new(1, vec![fill; 32]).unwrap())
}
