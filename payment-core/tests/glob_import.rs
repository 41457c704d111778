//! Everything the crate exports, imported at once, as a user's `use payment_core::*`
//! does: the adapters' own methods must still be callable by name (the object-safe
//! `DynGateway`, in scope too, names its methods apart).

use payment_core::*;

#[test]
fn adapter_methods_are_callable_with_everything_imported() {
    let novinpal = NovinPal::new("my-api-key");
    let order = Order::new("A-1".parse().unwrap(), Rial::new(120_000));
    assert!(novinpal.check_order(&order).is_ok());

    let request =
        CallbackRequest::from_get("refId=R77&success=1&code=100&invoiceNumber=A-1&amount=120000")
            .unwrap();
    let callback = novinpal.parse_callback(&request).unwrap();
    assert_eq!(callback.gateway, GatewayId::NovinPal);
    assert_eq!(callback.reference.as_deref(), Some("R77"));
    assert_eq!(callback.order_id.as_deref(), Some("A-1"));
    assert_eq!(callback.status, CallbackStatus::Paid);

    // The same adapter as `Payments` holds it gives the same answers.
    let held: Box<dyn DynGateway> = Box::new(novinpal);
    assert_eq!(held.id(), GatewayId::NovinPal);
    assert!(held.dyn_check_order(&order).is_ok());
    assert_eq!(held.dyn_parse_callback(&request).unwrap(), callback);
}

#[test]
fn an_order_outside_the_gateways_limits_is_refused_either_way() {
    let novinpal = NovinPal::new("my-api-key");
    let too_small = Order::new("A-2".parse().unwrap(), Rial::new(1));
    let held: &dyn DynGateway = &novinpal;
    assert!(matches!(
        novinpal.check_order(&too_small),
        Err(Error::InvalidOrder(_))
    ));
    assert!(matches!(
        held.dyn_check_order(&too_small),
        Err(Error::InvalidOrder(_))
    ));
}
