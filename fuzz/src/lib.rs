//! What the fuzz targets share: building callback requests from fuzz input, the fixed
//! order states the decoders are checked against, and the checks every result must pass.

use arbitrary::Arbitrary;
use payment_core::{
    CallbackRequest, Error, GatewayId, OrderId, Rial,
    adapter::{CallbackData, CallbackMethod, CallbackStatus, Created, Redirect, Verified},
    fuzzing,
    gateways::idpay::IdPayVersion,
    state::OrderState,
    time::{Duration, OffsetDateTime},
};

/// Field values worth trying in every callback field.
const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "10",
    "100",
    "101",
    "109",
    "200",
    "2",
    "7",
    "-12",
    "-16",
    "A1001",
    "447515262",
    "120000",
    " 120000 ",
    "10.5",
    "1e3",
    "+1",
    "true",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "9223372036854775808",
    "6104337712345678",
    "6104-33**-****-6047",
    "٠١٢",
    "س",
];

/// A field name: one the gateway reads, or any string.
#[derive(Arbitrary, Debug)]
pub enum Name {
    Known(u8),
    Other(String),
}

/// A field value: one of [`VALUES`], or any string.
#[derive(Arbitrary, Debug)]
pub enum Value {
    Known(u8),
    Other(String),
}

/// One field of a callback: in the form body or the query string.
#[derive(Arbitrary, Debug)]
pub struct Field {
    pub in_form: bool,
    pub name: Name,
    pub value: Value,
}

/// A callback as fuzz input: raw query and body text, or a list of fields.
#[derive(Arbitrary, Debug)]
pub enum CallbackInput {
    Raw {
        post: bool,
        query: String,
        body: Vec<u8>,
    },
    Fields {
        post: bool,
        fields: Vec<Field>,
    },
}

impl CallbackInput {
    /// The request, or `None` when the request parser refused the input (which the
    /// `callback_request` target checks on its own).
    pub fn request(&self, names: &[&str]) -> Option<CallbackRequest> {
        match self {
            CallbackInput::Raw {
                post: false, query, ..
            } => CallbackRequest::from_get(query).ok(),
            CallbackInput::Raw {
                post: true,
                query,
                body,
            } => CallbackRequest::from_post(query, body).ok(),
            CallbackInput::Fields { post, fields } => {
                let (mut query, mut form) = (Vec::new(), Vec::new());
                for field in fields {
                    let name = match &field.name {
                        Name::Known(i) if !names.is_empty() => {
                            names[usize::from(*i) % names.len()].to_owned()
                        }
                        Name::Known(_) => String::new(),
                        Name::Other(s) => s.clone(),
                    };
                    let value = match &field.value {
                        Value::Known(i) => VALUES[usize::from(*i) % VALUES.len()].to_owned(),
                        Value::Other(s) => s.clone(),
                    };
                    if field.in_form { &mut form } else { &mut query }.push((name, value));
                }
                let method = if *post {
                    CallbackMethod::Post
                } else {
                    CallbackMethod::Get
                };
                CallbackRequest::new(method, query, form).ok()
            }
        }
    }
}

/// The callback fields each gateway reads (and a few it does not).
pub fn callback_names(gateway: GatewayId) -> &'static [&'static str] {
    match gateway {
        GatewayId::IdPay => &[
            "status", "id", "order_id", "track_id", "amount", "card_no", "date",
        ],
        GatewayId::NovinPal => &["success", "refId", "code", "invoiceNumber", "amount"],
        GatewayId::Inopal => &[
            "status",
            "order_id",
            "ref_num",
            "tracking_code",
            "card_number",
        ],
        GatewayId::CanPay => &["success", "token", "amount", "invoice_id"],
        GatewayId::GardeshPay => &["trackingNumber", "invoiceNumber", "token"],
        GatewayId::Zarinpal => &["Authority", "Status"],
        GatewayId::Zibal => &["success", "trackId", "orderId", "status"],
        _ => &[],
    }
}

/// Parses `input` as a callback for `gateway` and checks the result.
pub fn fuzz_callback(gateway: GatewayId, data: &[u8]) {
    let Ok(input) = CallbackInput::arbitrary(&mut arbitrary::Unstructured::new(data)) else {
        return;
    };
    let Some(request) = input.request(callback_names(gateway)) else {
        return;
    };
    match fuzzing::parse_callback(gateway, &request) {
        Ok(parsed) => check_callback(gateway, &request, &parsed),
        Err(Error::Callback(_)) => {}
        Err(other) => panic!("parse_callback returned a non-callback error: {other:?}"),
    }
}

/// What every parsed callback must satisfy.
pub fn check_callback(gateway: GatewayId, request: &CallbackRequest, parsed: &CallbackData) {
    assert_eq!(parsed.gateway, gateway);
    // Every value came from the request, trimmed, and is not empty.
    for value in [
        &parsed.order_id,
        &parsed.reference,
        &parsed.verify_reference,
        &parsed.tracking_code,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!value.is_empty(), "empty value kept: {parsed:?}");
        assert_eq!(value.trim(), value, "untrimmed value kept: {parsed:?}");
        assert!(
            request
                .query()
                .chain(request.form())
                .any(|(_, v)| v.contains(value.as_str())),
            "a value that is not in the request: {value:?}"
        );
    }
    // Something to match the state with.
    assert!(
        parsed.reference.is_some() || parsed.order_id.is_some(),
        "neither reference nor order id: {parsed:?}"
    );
}

/// The reference each gateway's fixed state carries.
pub fn state_ref(gateway: GatewayId) -> &'static str {
    match gateway {
        GatewayId::IdPay => "d2e353189823079e1e4181772cff5292",
        GatewayId::NovinPal => "447515262",
        GatewayId::Inopal => "REF123",
        GatewayId::CanPay => "tok-canpay-1",
        GatewayId::GardeshPay => "tok-gardeshpay-1",
        GatewayId::Zarinpal => "A0000000000000000000000000000wwOGYpd",
        GatewayId::Zibal => "15966442233311",
        other => panic!("no fixed state for {other}"),
    }
}

/// The order state the decoders are checked against.
pub fn fixed_state(gateway: GatewayId) -> OrderState {
    OrderState::new(
        gateway,
        OrderId::new("A1001").expect("valid order id"),
        Rial::new(120_000),
        state_ref(gateway),
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000),
        Duration::minutes(30),
    )
}

/// Splits decoder input: the operation selector, the HTTP status and the body.
pub fn split_answer(data: &[u8]) -> Option<(u8, u16, &[u8])> {
    let (&[op, hi, lo], body) = data.split_first_chunk::<3>()?;
    Some((op, u16::from_be_bytes([hi, lo]), body))
}

/// Decodes `data` as an answer of `gateway` and checks the result.
pub fn fuzz_decode(gateway: GatewayId, data: &[u8]) {
    let Some((op, status, body)) = split_answer(data) else {
        return;
    };
    let state = fixed_state(gateway);
    let mut callback = CallbackData::new(gateway, CallbackStatus::Paid);
    callback.reference = Some(state_ref(gateway).to_owned());
    callback.tracking_code = Some("tracking-1".to_owned());
    match op % 4 {
        0 => check_created(gateway, fuzzing::decode_create(gateway, status, body)),
        1 => check_verified(
            gateway,
            status,
            fuzzing::decode_verify(&state, &callback, status, body),
        ),
        2 if gateway == GatewayId::IdPay => {
            let version = IdPayVersion::V1;
            check_verified(
                gateway,
                status,
                fuzzing::decode_idpay_verify(version, &state, status, body),
            );
            check_verified(
                gateway,
                status,
                fuzzing::decode_idpay_inquiry(version, &state, status, body),
            );
        }
        3 if gateway == GatewayId::IdPay => {
            let version = IdPayVersion::V1_1;
            check_verified(
                gateway,
                status,
                fuzzing::decode_idpay_inquiry(version, &state, status, body),
            );
        }
        _ if gateway == GatewayId::NovinPal => check_verified(
            gateway,
            status,
            fuzzing::decode_novinpal_reverse(&state, status, body),
        ),
        _ => check_verified(
            gateway,
            status,
            fuzzing::decode_verify(&state, &callback, status, body),
        ),
    }
}

fn check_created(gateway: GatewayId, result: Result<Created, Error>) {
    match result {
        Ok(created) => {
            assert!(!created.gateway_ref.is_empty());
            assert_eq!(created.gateway_ref.trim(), created.gateway_ref);
            assert!(matches!(created.redirect.url().scheme(), "http" | "https"));
            if gateway == GatewayId::Inopal {
                assert!(matches!(created.redirect, Redirect::PostForm { .. }));
            }
        }
        Err(e) => check_error(&e),
    }
}

fn check_verified(gateway: GatewayId, status: u16, result: Result<Verified, Error>) {
    match result {
        Ok(verified) => {
            // A success is a 2xx answer (or, at Inopal, "verified before").
            assert!(
                (200..300).contains(&status) || gateway == GatewayId::Inopal,
                "success from HTTP {status}"
            );
            // Where the pipeline compares the answer with the state, the answer must
            // carry what is compared.
            if matches!(
                gateway,
                GatewayId::IdPay | GatewayId::NovinPal | GatewayId::GardeshPay
            ) {
                assert!(verified.order_id.is_some(), "no order id: {verified:?}");
                assert!(verified.amount.is_some(), "no amount: {verified:?}");
            }
        }
        Err(e) => check_error(&e),
    }
}

/// No error shows our credential, and gateway messages are bounded.
pub fn check_error(error: &Error) {
    assert!(
        !error.to_string().contains(fuzzing::SECRET),
        "secret in {error}"
    );
    assert!(
        !format!("{error:?}").contains(fuzzing::SECRET),
        "secret in {error:?}"
    );
    if let Error::Gateway(g) = error
        && let Some(message) = &g.message
    {
        assert!(
            message.chars().count() <= 300,
            "message of {} chars",
            message.chars().count()
        );
        assert!(!message.is_empty());
    }
    assert!(
        matches!(error, Error::Transport(_) | Error::Gateway(_)),
        "a decoder returned {error:?}"
    );
}
