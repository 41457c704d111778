//! Refunds from the ledger: a paid NovinPal or Zarinpal payment is reversed at the
//! gateway once; a second refund, a payment not paid and a gateway without refunds are
//! refused, each with its own error.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use payment_core::{
    Error, GatewayId, RefundError,
    ledger::{MemoryPaymentStore, PaymentRecord, PaymentStatus, PaymentStore},
};
use payment_e2e::{
    apps::axum::AxumRouter,
    buyer::{Buyer, act},
    harness::{Claims, Env},
    scenarios::{CHEAP, order_id, start},
};
use payment_sandbox::Action;

async fn record(store: &MemoryPaymentStore, order: &str) -> PaymentRecord {
    let mut records = store.for_order(&order.parse().unwrap()).await.unwrap();
    assert_eq!(records.len(), 1);
    records.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_payment_is_refunded_once_where_the_gateway_can() {
    let store = Arc::new(MemoryPaymentStore::new());
    let env = Env::start_with::<AxumRouter>("127.0.0.1", Claims::Ledger(store.clone())).await;
    for gateway in [GatewayId::NovinPal, GatewayId::Zarinpal, GatewayId::IdPay] {
        let mut buyer = Buyer::new(&env);
        let order = order_id("refund");
        start(&env, &mut buyer, gateway, &order, CHEAP).await;
        let callback = act(&env, gateway, &order, Action::Pay);
        assert_eq!(buyer.return_to_shop(&callback).await.status, 200);
        let paid = record(&store, &order).await;
        assert_eq!(paid.status, PaymentStatus::Paid);
        let refunded = env.payments.refund(&paid).await;
        if gateway == GatewayId::IdPay {
            assert!(
                matches!(
                    refunded,
                    Err(RefundError::Gateway(Error::Unsupported { .. }))
                ),
                "{refunded:?}"
            );
            assert_eq!(env.transaction(gateway, &order).reversed_at, None);
            continue;
        }
        refunded.unwrap_or_else(|e| panic!("{gateway}: {e}"));
        assert!(
            env.transaction(gateway, &order).reversed_at.is_some(),
            "{gateway}: reversed at the gateway"
        );
        // The gateway refuses a second refund of the same payment.
        let again = env.payments.refund(&paid).await;
        assert!(
            matches!(again, Err(RefundError::Gateway(Error::Gateway(_)))),
            "{gateway}: {again:?}"
        );
    }

    // A payment that was not paid is not sent to the gateway at all.
    let mut buyer = Buyer::new(&env);
    let order = order_id("cancelled");
    start(&env, &mut buyer, GatewayId::NovinPal, &order, CHEAP).await;
    let callback = act(&env, GatewayId::NovinPal, &order, Action::Cancel);
    buyer.return_to_shop(&callback).await;
    let failed = record(&store, &order).await;
    assert!(matches!(
        env.payments.refund(&failed).await,
        Err(RefundError::NotPaid(PaymentStatus::Failed))
    ));
}
