//! **Unstable, behind the `fuzzing` feature**: hooks for the fuzz targets (`fuzz/`), the
//! property tests and the benchmarks. Each adapter's answer decoding as a plain function
//! of an HTTP status and a body, so it can be driven without a network. The functions
//! call exactly the code the adapters run after their HTTP call. May change or go away in
//! any release.

use crate::{
    AccountId, CanPay, Error, GardeshPay, GatewayId, IdPay, Inopal, NovinPal, Zarinpal, Zibal,
    adapter::{CallbackData, Created, Verified},
    error::Operation,
    gateways::{idpay::IdPayVersion, zarinpal::UnverifiedPayment},
    http::RawResponse,
    state::OrderState,
};

/// The most query and form fields a callback request keeps, and the most cookies.
pub const MAX_CALLBACK_FIELDS: usize = crate::callback::MAX_FIELDS;
/// The longest a callback field's name or value may be, in bytes.
pub const MAX_CALLBACK_FIELD_LEN: usize = crate::callback::MAX_FIELD_LEN;

/// The credential every hook's adapter is built with. A decoder must never echo it in an
/// error message.
pub const SECRET: &str = "fuzz-secret-credential";

fn raw(status: u16, body: &[u8]) -> RawResponse {
    RawResponse {
        status,
        body: body.to_vec(),
    }
}

/// A callback for `gateway`, parsed as its adapter does.
pub fn parse_callback(
    gateway: GatewayId,
    request: &crate::CallbackRequest,
) -> Result<CallbackData, Error> {
    use crate::adapter::Gateway as _;
    match gateway {
        GatewayId::IdPay => IdPay::new(SECRET).parse_callback(request),
        GatewayId::NovinPal => NovinPal::new(SECRET).parse_callback(request),
        GatewayId::Inopal => Inopal::new(SECRET).parse_callback(request),
        GatewayId::CanPay => CanPay::new(SECRET).parse_callback(request),
        GatewayId::GardeshPay => GardeshPay::new()
            .with_merchant_token(SECRET)
            .parse_callback(request),
        GatewayId::Zarinpal => Zarinpal::new(SECRET).parse_callback(request),
        GatewayId::Zibal => Zibal::new(SECRET).parse_callback(request),
    }
}

/// `gateway`'s answer to create, decoded as its adapter does.
pub fn decode_create(gateway: GatewayId, status: u16, body: &[u8]) -> Result<Created, Error> {
    let raw = raw(status, body);
    match gateway {
        GatewayId::IdPay => IdPay::new(SECRET).created(&raw),
        GatewayId::NovinPal => NovinPal::new(SECRET).created(&raw),
        GatewayId::Inopal => Inopal::new(SECRET).created(&raw),
        GatewayId::CanPay => CanPay::new(SECRET).created(&raw),
        GatewayId::GardeshPay => GardeshPay::new().with_merchant_token(SECRET).created(&raw),
        GatewayId::Zarinpal => Zarinpal::new(SECRET).created(&raw),
        GatewayId::Zibal => Zibal::new(SECRET).created(&raw),
    }
}

/// The answer to verify for `state` (at `state.gateway()`, IDPay in its default v1.1),
/// decoded as its adapter does. `callback` is the parsed callback (Inopal takes the card
/// and tracking code from it).
pub fn decode_verify(
    state: &OrderState,
    callback: &CallbackData,
    status: u16,
    body: &[u8],
) -> Result<Verified, Error> {
    let raw = raw(status, body);
    match state.gateway() {
        GatewayId::IdPay => IdPay::new(SECRET).answered(Operation::Verify, state, &raw),
        GatewayId::NovinPal => NovinPal::new(SECRET).verified(Operation::Verify, state, &raw),
        GatewayId::Inopal => Inopal::new(SECRET).verified(state, callback, &raw),
        GatewayId::CanPay => CanPay::new(SECRET).verified(&raw),
        GatewayId::GardeshPay => GardeshPay::new().with_merchant_token(SECRET).verified(&raw),
        GatewayId::Zarinpal => Zarinpal::new(SECRET).verified(&raw),
        GatewayId::Zibal => Zibal::new(SECRET).verified(&raw),
    }
}

/// IDPay's answer to verify in `version`.
pub fn decode_idpay_verify(
    version: IdPayVersion,
    state: &OrderState,
    status: u16,
    body: &[u8],
) -> Result<Verified, Error> {
    IdPay::new(SECRET)
        .with_version(version)
        .answered(Operation::Verify, state, &raw(status, body))
}

/// IDPay's answer to an inquiry in `version`.
pub fn decode_idpay_inquiry(
    version: IdPayVersion,
    state: &OrderState,
    status: u16,
    body: &[u8],
) -> Result<Verified, Error> {
    IdPay::new(SECRET)
        .with_version(version)
        .answered(Operation::Inquiry, state, &raw(status, body))
}

/// NovinPal's answer to reverse.
pub fn decode_novinpal_reverse(
    state: &OrderState,
    status: u16,
    body: &[u8],
) -> Result<Verified, Error> {
    NovinPal::new(SECRET).verified(Operation::Reverse, state, &raw(status, body))
}

/// Zarinpal's answer to an inquiry.
pub fn decode_zarinpal_inquiry(status: u16, body: &[u8]) -> Result<Verified, Error> {
    Zarinpal::new(SECRET).inquiry_answer(&raw(status, body))
}

/// Zarinpal's answer to reverse.
pub fn decode_zarinpal_reverse(status: u16, body: &[u8]) -> Result<Verified, Error> {
    Zarinpal::new(SECRET).reversed(&raw(status, body))
}

/// Zarinpal's answer to `unVerified.json`.
pub fn decode_zarinpal_unverified(
    status: u16,
    body: &[u8],
) -> Result<Vec<UnverifiedPayment>, Error> {
    Zarinpal::new(SECRET).unverified_list(&raw(status, body))
}

/// Zibal's answer to an inquiry.
pub fn decode_zibal_inquiry(status: u16, body: &[u8]) -> Result<Verified, Error> {
    Zibal::new(SECRET).inquiry_answer(&raw(status, body))
}

/// A state with every field given, nonce and times included (`OrderState::new` draws a
/// random nonce), so generated states are reproducible.
pub fn state(
    account: impl Into<AccountId>,
    order_id: crate::OrderId,
    amount: crate::Rial,
    gateway_ref: impl Into<String>,
    nonce: [u8; crate::state::NONCE_LEN],
    issued_at: i64,
    expires_at: i64,
) -> OrderState {
    OrderState {
        account: account.into(),
        order_id,
        amount,
        payable_amount: None,
        gateway_ref: gateway_ref.into(),
        attempt: 1,
        nonce,
        issued_at,
        expires_at,
    }
}
