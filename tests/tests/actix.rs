//! The actix crate against the gateway sandbox over real HTTP: every scenario for every
//! gateway, with `PaymentScope` and with the `PaymentCallback` extractor, both under the
//! `/shop/pay` prefix.

use payment_e2e::apps::actix::{ActixExtractor, ActixScope};

mod scope {
    use super::*;
    payment_e2e::scenario_tests!(ActixScope);
}

mod extractor {
    use super::*;
    payment_e2e::scenario_tests!(ActixExtractor);
}
