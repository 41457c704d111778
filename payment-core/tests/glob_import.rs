//! Everything the crate exports, imported at once, as a user's `use payment_core::*` (and
//! `use payment_core::adapter::*` for calling an adapter directly) does: the adapters' own
//! methods must still be callable by name, and `Payments`, holding the same adapter,
//! must come to the same answers.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use payment_core::{adapter::*, *};

fn payments() -> Payments {
    let key = SigningKey::new(1, vec![7; 32]).unwrap();
    Payments::builder("https://shop.example", KeyRing::new(key))
        .gateway(NovinPal::new("my-api-key"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn adapter_methods_are_callable_with_everything_imported() {
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

    // The same adapter as `Payments` holds it reads the same callback: it is refused
    // only for the missing order state, never as malformed.
    let payments = payments();
    assert!(payments.is_configured(GatewayId::NovinPal));
    let result = payments
        .handle_callback(GatewayId::NovinPal, &request)
        .await;
    assert!(
        matches!(
            result.outcome,
            Err(NotPaid::Rejected(Rejection::MissingState))
        ),
        "{:?}",
        result.outcome
    );
    let malformed = CallbackRequest::from_get("success=1").unwrap();
    assert_eq!(
        novinpal.parse_callback(&malformed).unwrap_err().to_string(),
        "callback field `refId` is missing"
    );
    let result = payments
        .handle_callback(GatewayId::NovinPal, &malformed)
        .await;
    assert!(
        matches!(
            result.outcome,
            Err(NotPaid::Rejected(Rejection::MalformedCallback(_)))
        ),
        "{:?}",
        result.outcome
    );
}

#[tokio::test]
async fn an_order_outside_the_gateways_limits_is_refused_either_way() {
    let novinpal = NovinPal::new("my-api-key");
    let too_small = Order::new("A-2".parse().unwrap(), Rial::new(1));
    assert!(matches!(
        novinpal.check_order(&too_small),
        Err(Error::InvalidOrder(_))
    ));
    // `Payments` checks the order the same way before anything is sent.
    assert!(matches!(
        payments().start(GatewayId::NovinPal, &too_small).await,
        Err(Error::InvalidOrder(_))
    ));
}
