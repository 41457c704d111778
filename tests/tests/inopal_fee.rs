//! Inopal with a buyer's fee: the buyer pays the amount and the fee, verify is sent the
//! amount, and a payment whose verify answers `price` either way (without the fee, or with
//! the fee create reported) is paid once, with the receipt naming the shop's amount.

use payment_core::GatewayId;
use payment_e2e::{
    apps::axum::AxumRouter,
    buyer::{Buyer, act},
    harness::{Claims, Env},
    scenarios::{CHEAP, order_id, start},
};
use payment_sandbox::{Action, SandboxConfig};

const FEE: u64 = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_with_a_buyers_fee_is_paid_once_whichever_price_verify_answers() {
    for includes_fee in [false, true] {
        let config = SandboxConfig::default()
            .inopal_fee(FEE)
            .inopal_price_includes_fee(includes_fee);
        let env = Env::start_with_sandbox::<AxumRouter>("127.0.0.1", Claims::Memory, config).await;
        let mut buyer = Buyer::new(&env);
        let order = order_id("fee");
        start(&env, &mut buyer, GatewayId::Inopal, &order, CHEAP).await;
        let txn = env.transaction(GatewayId::Inopal, &order);
        assert_eq!(txn.payment_amount, CHEAP + FEE, "the buyer pays the fee");
        let callback = act(&env, GatewayId::Inopal, &order, Action::Pay);
        let answer = buyer.return_to_shop(&callback).await;
        assert_eq!(
            answer.status, 200,
            "price with fee {includes_fee}: {}",
            answer.body
        );
        let receipts = env.log.paid();
        assert_eq!(receipts.len(), 1);
        assert_eq!(receipts[0].amount().get(), CHEAP);
        let txn = env.transaction(GatewayId::Inopal, &order);
        assert_eq!(txn.successful_verifies, 1);
    }
}
