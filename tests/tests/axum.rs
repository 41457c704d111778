//! The axum crate against the gateway sandbox over real HTTP: every scenario for every
//! gateway, with `PaymentRouter` and with the `PaymentCallback` extractor, both under the
//! `/shop/pay` prefix.

use payment_e2e::apps::axum::{AxumExtractor, AxumRouter};

mod router {
    use super::*;
    payment_e2e::scenario_tests!(AxumRouter);
}

mod extractor {
    use super::*;
    payment_e2e::scenario_tests!(AxumExtractor);
}
