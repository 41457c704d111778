//! **Unstable, not part of the API**: hooks for the fuzz targets (`fuzz/`), the property
//! tests and the benchmarks. Each adapter's answer decoding as a plain function of an
//! HTTP status and a body, so it can be driven without a network. The functions call
//! exactly the code the adapters run after their HTTP call. Hidden from the docs; may
//! change or go away in any release.

use crate::{
    CallbackData, CanPay, Created, Error, GardeshPay, GatewayId, IdPay, IdPayVersion, Inopal,
    NovinPal, OrderState, RawResponse, Verified,
};

/// The credential every hook's adapter is built with. A decoder must never echo it in an
/// error message.
pub const SECRET: &str = "fuzz-secret-credential";

fn raw(status: u16, body: &[u8]) -> RawResponse {
    RawResponse {
        status,
        body: body.to_vec(),
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
        GatewayId::IdPay => IdPay::new(SECRET).verified(state, &raw),
        GatewayId::NovinPal => {
            NovinPal::new(SECRET).verified(crate::Operation::Verify, state, &raw)
        }
        GatewayId::Inopal => Inopal::new(SECRET).verified(state, callback, &raw),
        GatewayId::CanPay => CanPay::new(SECRET).verified(&raw),
        GatewayId::GardeshPay => GardeshPay::new().with_merchant_token(SECRET).verified(&raw),
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
        .verified(state, &raw(status, body))
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
        .inquired(state, &raw(status, body))
}

/// NovinPal's answer to reverse.
pub fn decode_novinpal_reverse(
    state: &OrderState,
    status: u16,
    body: &[u8],
) -> Result<Verified, Error> {
    NovinPal::new(SECRET).verified(crate::Operation::Reverse, state, &raw(status, body))
}

/// A state with every field given, nonce and times included (`OrderState::new` draws a
/// random nonce), so generated states are reproducible.
pub fn state(
    gateway: GatewayId,
    order_id: crate::OrderId,
    amount: crate::Rial,
    gateway_ref: impl Into<String>,
    nonce: [u8; crate::NONCE_LEN],
    issued_at: i64,
    expires_at: i64,
) -> OrderState {
    OrderState {
        gateway,
        order_id,
        amount,
        gateway_ref: compact_str::CompactString::from(gateway_ref.into()),
        nonce,
        issued_at,
        expires_at,
    }
}
