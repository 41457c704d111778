//! The whole callback pipeline (`Payments::handle_callback`) on arbitrary callbacks,
//! cookie headers and signed states, with gateways whose verify decodes an arbitrary
//! answer through the real decoder: never panics, and `Paid` only ever comes with a
//! valid signed state for the same gateway, order and amount.
#![no_main]

use std::cell::RefCell;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use payment_core::{
    CallbackRequest, Error, GatewayId, KeyRing, NotPaid, Order, OrderId, Payments, Rial,
    SigningKey,
    adapter::{CallbackData, Created, Gateway, Verified},
    clock::ManualClock,
    error::Operation,
    fuzzing,
    state::{NONCE_LEN, OrderState, StateCodec},
    time::{Duration, OffsetDateTime},
    url::Url,
};
use payment_core_fuzz::{CallbackInput, callback_names};
use serde_json::json;

thread_local! {
    static ANSWER: RefCell<Answer> = const { RefCell::new(Answer::Raw { status: 200, body: Vec::new() }) };
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
}

macro_rules! fake {
    ($name:ident, $id:ident) => {
        /// Parses callbacks with the real adapter; verify decodes the fuzzed answer.
        struct $name;

        impl Gateway for $name {
            const ID: GatewayId = GatewayId::$id;

            fn check_order(&self, _order: &Order) -> Result<(), Error> {
                Ok(())
            }

            async fn create(&self, _order: &Order, _url: &Url) -> Result<Created, Error> {
                Err(Error::Unsupported {
                    gateway: Self::ID,
                    operation: Operation::Create,
                })
            }

            fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
                fuzzing::parse_callback(Self::ID, request)
            }

            async fn verify(
                &self,
                state: &OrderState,
                callback: &CallbackData,
            ) -> Result<Verified, Error> {
                let (status, body) = ANSWER.with(|a| a.borrow().to_http(state));
                fuzzing::decode_verify(state, callback, status, &body)
            }
        }
    };
}

fake!(FakeIdPay, IdPay);
fake!(FakeNovinPal, NovinPal);
fake!(FakeInopal, Inopal);
fake!(FakeCanPay, CanPay);
fake!(FakeGardeshPay, GardeshPay);
fake!(FakeZarinpal, Zarinpal);
fake!(FakeZibal, Zibal);

/// What verify answers: any HTTP status and body, or the gateway's documented success
/// for the state, with the order id or amount it reports changed if given.
#[derive(Arbitrary, Debug, Clone)]
enum Answer {
    Raw {
        status: u16,
        body: Vec<u8>,
    },
    Success {
        order_id: Option<String>,
        amount: Option<u64>,
        before: bool,
    },
}

impl Answer {
    fn to_http(&self, state: &OrderState) -> (u16, Vec<u8>) {
        let (order_id, amount, before) = match self {
            Answer::Raw { status, body } => return (*status, body.clone()),
            Answer::Success {
                order_id,
                amount,
                before,
            } => (
                order_id
                    .clone()
                    .unwrap_or_else(|| state.order_id().to_string()),
                amount.unwrap_or(state.amount().get()),
                *before,
            ),
        };
        let reference = state.gateway_ref();
        let body = match state.gateway() {
            GatewayId::IdPay => json!({
                "status": if before { 101 } else { 100 }, "id": reference, "order_id": order_id,
                "amount": amount.to_string(), "track_id": "10012",
                "payment": {"track_id": "888001", "amount": amount, "card_no": "123456******1234"},
            }),
            GatewayId::NovinPal => json!({
                "status": 1, "refId": reference, "orderId": order_id, "amount": amount,
                "refNumber": "638060399619297999", "verifiedBefore": before,
            }),
            GatewayId::Inopal if before => {
                json!({"status": -16, "message": "retryVerification", "data": []})
            }
            GatewayId::Inopal => json!({
                "status": 1, "message": "Ok", "data": {"ref_num": reference, "price": amount},
            }),
            GatewayId::CanPay => json!({
                "status": true, "data": {"card": "6037997412345678", "reference": "123456789"},
            }),
            GatewayId::GardeshPay => json!({
                "success": true, "amount": amount, "verifiedBefore": before,
                "data": {"invoiceNumber": order_id, "refNumber": "111"},
            }),
            GatewayId::Zarinpal => json!({
                "data": {"code": if before { 101 } else { 100 }, "message": "Paid",
                    "ref_id": 201, "card_pan": "502229******5995", "order_id": order_id},
                "errors": [],
            }),
            GatewayId::Zibal => json!({
                "result": if before { 201 } else { 100 }, "status": 1, "amount": amount,
                "orderId": order_id, "refNumber": 12312, "cardNumber": "62741****44",
            }),
            _ => json!({}),
        };
        (200, serde_json::to_vec(&body).unwrap())
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    gateway: u8,
    callback: CallbackInput,
    cookie_header: String,
    states: Vec<StateSpec>,
    answer: Answer,
}

/// A signed state to send along; `None` fields take the callback's values.
#[derive(Arbitrary, Debug)]
struct StateSpec {
    other_gateway: Option<u8>,
    order_id: Option<String>,
    amount: Option<u64>,
    gateway_ref: Option<String>,
    nonce: [u8; NONCE_LEN],
    issued_minutes_ago: i16,
    ttl_minutes: i16,
    name_suffix: Option<String>,
    tamper: Option<(u16, u8)>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
}

fuzz_target!(|input: Input| {
    let gateway = GatewayId::ALL[usize::from(input.gateway) % GatewayId::ALL.len()];
    let Some(request) = input.callback.request(callback_names(gateway)) else {
        return;
    };
    let codec = StateCodec::new(KeyRing::new(SigningKey::new(1, vec![0x42; 32]).unwrap()));
    let payments = Payments::builder("https://shop.example", codec.keys().clone())
        .clock(ManualClock::at(now()))
        .gateway(FakeIdPay)
        .gateway(FakeNovinPal)
        .gateway(FakeInopal)
        .gateway(FakeCanPay)
        .gateway(FakeGardeshPay)
        .gateway(FakeZarinpal)
        .gateway(FakeZibal)
        .build()
        .unwrap();

    // What the callback says, to make states that match it.
    let parsed = fuzzing::parse_callback(gateway, &request).ok();
    let mut header = input.cookie_header.clone();
    let mut good_states = Vec::new();
    for spec in input.states.iter().take(4) {
        let state_gateway = spec.other_gateway.map_or(gateway, |g| {
            GatewayId::ALL[usize::from(g) % GatewayId::ALL.len()]
        });
        let order_id = spec
            .order_id
            .clone()
            .or_else(|| parsed.as_ref().and_then(|p| p.order_id.clone()))
            .unwrap_or_else(|| "A1001".to_owned());
        let Ok(order_id) = OrderId::new(order_id) else {
            continue;
        };
        let amount = spec
            .amount
            .or_else(|| parsed.as_ref().and_then(|p| p.amount).map(Rial::get))
            .unwrap_or(120_000);
        let gateway_ref = spec
            .gateway_ref
            .clone()
            .or_else(|| parsed.as_ref().and_then(|p| p.reference.clone()))
            .unwrap_or_default();
        let issued_at = now().unix_timestamp() - i64::from(spec.issued_minutes_ago) * 60;
        let state = fuzzing::state(
            state_gateway,
            order_id,
            Rial::new(amount),
            gateway_ref,
            spec.nonce,
            issued_at,
            issued_at + i64::from(spec.ttl_minutes) * 60,
        );
        let hex: String = spec
            .nonce
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = match &spec.name_suffix {
            None => format!("pay_{}_{hex}", state_gateway.as_str()),
            Some(suffix) => format!("pay_{}_{suffix}", state_gateway.as_str()),
        };
        let sealed = codec.seal(&state, &name);
        let mut value = sealed.clone();
        if let Some((at, byte)) = spec.tamper {
            let mut bytes = value.into_bytes();
            let i = usize::from(at) % bytes.len();
            bytes[i] = byte;
            value = String::from_utf8_lossy(&bytes).into_owned();
        }
        if value == sealed {
            good_states.push(state);
        }
        header.push_str(&format!("; {name}={value}"));
    }
    let request = request.with_cookie_header(&header);
    ANSWER.with(|a| *a.borrow_mut() = input.answer.clone());

    let result = RUNTIME.with(|rt| rt.block_on(payments.handle_callback(gateway, &request)));
    let _ = result.reply();
    match &result.outcome {
        Ok(receipt) => {
            assert_eq!(receipt.gateway(), gateway);
            assert!(
                good_states.iter().any(|s| s.gateway() == gateway
                    && s.order_id() == receipt.order_id()
                    && s.amount() == receipt.amount()
                    && s.gateway_ref() == receipt.gateway_ref()
                    && !s.is_expired(now())),
                "paid without a matching valid state: {receipt:?}"
            );
            // An answer that reports another order or amount than the state's is never
            // paid, where the gateway reports them.
            if let Answer::Success {
                order_id,
                amount,
                before,
            } = &input.answer
            {
                let reports_order = matches!(
                    gateway,
                    GatewayId::IdPay
                        | GatewayId::NovinPal
                        | GatewayId::GardeshPay
                        | GatewayId::Zarinpal
                        | GatewayId::Zibal
                );
                let reports_amount = matches!(
                    gateway,
                    GatewayId::IdPay
                        | GatewayId::NovinPal
                        | GatewayId::GardeshPay
                        | GatewayId::Zibal
                ) || (gateway == GatewayId::Inopal && !before);
                if reports_order && let Some(id) = order_id {
                    assert_eq!(id.as_str(), receipt.order_id().as_str());
                }
                if reports_amount && let Some(amount) = amount {
                    assert_eq!(*amount, receipt.amount().get());
                }
            }
        }
        Err(NotPaid::Resubmit(form)) => {
            // A path on our own origin: browsers read `//host` and `/\host` as another
            // host, and drop tabs and newlines from URLs before reading them.
            let action = form.action.as_bytes();
            assert_eq!(action.first(), Some(&b'/'), "action {:?}", form.action);
            assert!(
                !matches!(action.get(1), Some(b'/' | b'\\')),
                "action {:?}",
                form.action
            );
            assert!(
                action.iter().all(u8::is_ascii_graphic),
                "action {:?}",
                form.action
            );
            let page = result.reply().body;
            assert_eq!(page.matches("<form").count(), 1);
            assert_eq!(page.matches("<script").count(), 1);
        }
        _ => {}
    }
    if show_outcomes() {
        let kind = result.outcome.as_ref().map_or_else(NotPaid::kind, |_| "paid");
        eprintln!("outcome: {kind}");
    }
});

/// `FUZZ_SHOW_OUTCOMES=1` prints each outcome, to see which ones a corpus reaches:
/// `FUZZ_SHOW_OUTCOMES=1 cargo fuzz run handle_callback corpus/handle_callback -- -runs=0 2>&1 | grep -c 'outcome: paid'`.
fn show_outcomes() -> bool {
    static SHOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("FUZZ_SHOW_OUTCOMES").is_some())
}
