//! Zibal's callback parser on arbitrary requests: never panics, and what it returns came
//! from the request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payment_core::GatewayId;

fuzz_target!(|data: &[u8]| payment_core_fuzz::fuzz_callback(GatewayId::Zibal, data));
