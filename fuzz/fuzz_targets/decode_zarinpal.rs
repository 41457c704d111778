//! Zarinpal's answer decoders (create, verify and the rest) on arbitrary HTTP statuses and
//! bodies: never panic, never echo the credential, and a success carries what the
//! pipeline compares. Input: operation byte, status (2 bytes, big-endian), body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payment_core::GatewayId;

fuzz_target!(|data: &[u8]| payment_core_fuzz::fuzz_decode(GatewayId::Zarinpal, data));
