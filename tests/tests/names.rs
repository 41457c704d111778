//! One name per gateway: the sandbox's pages call each gateway by the Persian name the
//! library (and so the shop) gives it.

use payment_core::GatewayId;
use payment_e2e::harness::sandbox_gateway;

#[test]
fn the_sandbox_and_the_library_give_each_gateway_one_persian_name() {
    for &gateway in GatewayId::ALL {
        let shown = sandbox_gateway(gateway).display_name();
        assert!(
            shown.contains(gateway.persian_name()) && shown.contains(gateway.display_name()),
            "{gateway}: the sandbox shows {shown:?}, the library says {} / {}",
            gateway.display_name(),
            gateway.persian_name()
        );
    }
}
