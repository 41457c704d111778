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
