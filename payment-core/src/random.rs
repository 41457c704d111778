//! Randomness from the operating system.

use crate::state::NONCE_LEN;

/// A fresh 128-bit nonce.
pub(crate) fn nonce() -> [u8; NONCE_LEN] {
    let mut bytes = [0u8; NONCE_LEN];
    // The OS random source failing is unrecoverable for a payment system: without it no
    // state can be made unguessable. getrandom documents this as practically impossible
    // on supported platforms.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("operating system random source unavailable");
    bytes
}

/// A random 64-bit number (claim tokens shared between instances).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn u64() -> u64 {
    let [a, b, c, d, e, f, g, h, ..] = nonce();
    u64::from_le_bytes([a, b, c, d, e, f, g, h])
}
