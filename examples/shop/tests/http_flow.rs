//! The whole shop over HTTP, against the in-process sandbox, for every gateway: checkout,
//! the gateway's page, the return, and the order page — as a browser would do it (the
//! cross-site `POST` returns arrive without the state cookie and are re-posted).

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use common::{Buyer, Options, TempDb, TestShop, buy, orders_page_rows, simulated};
use payment_axum::payment_core::{GatewayId, gateways::idpay::IdPayVersion};
use payment_sandbox::{Action, Call, Fault, FaultSpec, IdPayApi, SandboxGateway};
use shop::db::Status;

fn slow_verify() -> FaultSpec {
    let ms = u64::try_from(common::GATEWAY_TIMEOUT.as_millis()).unwrap() + 1500;
    FaultSpec::new(Fault::Delay { ms }).times(1)
}

#[tokio::test]
async fn every_gateway_buy_pay_return_and_the_order_is_paid_once() {
    let file = TempDb::new("http-paid");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);

    let home = buyer.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("dir=\"rtl\""));
    assert!(home.body.contains("data-product=\"tea\""));
    let checkout = buyer.get("/products/tea").await;
    for g in GatewayId::ALL {
        assert!(
            checkout.body.contains(&format!("value=\"{}\"", g.as_str())),
            "{g} is offered"
        );
    }
    assert!(checkout.body.contains("۱۲۹٬۰۰۰ تومان"), "price in toman");
    assert!(checkout.body.contains("1,290,000 rial"), "price in rial");

    for &gateway in GatewayId::ALL {
        let (id, back) = buy(&shop, &mut buyer, "tea", gateway, Action::Pay).await;
        assert_eq!(back.status, 303, "{gateway}: {}", back.body);
        assert_eq!(back.location(), Some(format!("/orders/{id}").as_str()));

        let order = shop.order(&id).await;
        assert_eq!(order.status, Status::Paid, "{gateway}");
        assert!(order.bank_reference.is_some(), "{gateway} bank reference");
        let gateway_ref = order.gateway_ref.clone().expect("gateway reference");

        let page = buyer.get(&format!("/orders/{id}")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("data-status=\"paid\""), "{}", page.body);
        assert!(page.body.contains(&gateway_ref));
        assert!(page.body.contains("Payment successful"));
        if let Some(card) = &order.card_mask {
            assert!(page.body.contains(card.as_str()), "{gateway}: card shown");
        }

        let list = buyer.get("/orders").await;
        assert_eq!(orders_page_rows(&list.body, &id, "paid"), 1, "{gateway}");
        let txn = shop
            .sandbox
            .find_by_order_id(simulated(gateway), &id)
            .unwrap();
        assert_eq!(txn.successful_verifies, 1, "{gateway}: verified once");
    }
    let orders = shop.db.orders().await.unwrap();
    assert_eq!(orders.len(), GatewayId::ALL.len());
    assert!(orders.iter().all(|o| o.status == Status::Paid));
    assert!(
        orders.iter().any(|o| o.card_mask.is_some()),
        "some gateway reports the card"
    );
}

#[tokio::test]
async fn a_replayed_return_never_pays_twice() {
    let file = TempDb::new("http-replay");
    let shop = TestShop::start(&file).await;
    for &gateway in GatewayId::ALL {
        let mut buyer = Buyer::new(&shop);
        buyer.checkout("saffron", gateway).await;
        let order = shop.newest_order().await;
        let kept_cookies = buyer.jar.clone();
        let cb = shop.act(gateway, &order.id, Action::Pay);
        let back = buyer.return_to_shop(&cb).await;
        assert_eq!(back.status, 303, "{gateway}");
        // The same return again, with the state cookie an attacker kept.
        buyer.jar = kept_cookies;
        let replay = buyer.return_to_shop(&cb).await;
        assert_eq!(replay.status, 409, "{gateway}: {}", replay.body);
        assert!(
            replay.body.contains("Payment already recorded"),
            "{gateway}: {}",
            replay.body
        );
        assert_eq!(shop.order(&order.id).await.status, Status::Paid);
        let txn = shop
            .sandbox
            .find_by_order_id(simulated(gateway), &order.id)
            .unwrap();
        assert_eq!(txn.successful_verifies, 1, "{gateway}");
    }
}

#[tokio::test]
async fn cancel_and_decline_end_failed() {
    let file = TempDb::new("http-cancel");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);
    for (gateway, action) in [
        (GatewayId::NovinPal, Action::Cancel),
        (GatewayId::IdPay, Action::Cancel),
        (GatewayId::Inopal, Action::BankFail),
        (GatewayId::CanPay, Action::Cancel),
    ] {
        let (id, back) = buy(&shop, &mut buyer, "notebook", gateway, action).await;
        assert_eq!(back.status, 303, "{gateway}: {}", back.body);
        let order = shop.order(&id).await;
        assert_eq!(order.status, Status::Failed, "{gateway}");
        assert!(order.failure_reason.is_some());
        let page = buyer.get(&format!("/orders/{id}")).await;
        assert!(page.body.contains("data-status=\"failed\""));
        assert!(page.body.contains("Payment not completed"));
    }
}

/// GardeshPay's return names a tracking number the signed state cannot bind, so its "no"
/// is not final: anyone who knows an order id could send one. The order keeps waiting.
#[tokio::test]
async fn a_gardeshpay_cancel_leaves_the_order_awaiting_payment() {
    let file = TempDb::new("http-gardeshpay-cancel");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);
    let (id, back) = buy(
        &shop,
        &mut buyer,
        "notebook",
        GatewayId::GardeshPay,
        Action::Cancel,
    )
    .await;
    assert_eq!(back.status, 402, "{}", back.body);
    assert!(
        back.body.contains("has not confirmed this payment"),
        "{}",
        back.body
    );
    assert_eq!(shop.order(&id).await.status, Status::AwaitingPayment);
}

#[tokio::test]
async fn a_verify_timeout_ends_pending_and_check_again_completes_it() {
    let file = TempDb::new("http-pending");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);
    for &gateway in GatewayId::ALL {
        buyer.checkout("pistachio", gateway).await;
        let order = shop.newest_order().await;
        let cb = shop.act(gateway, &order.id, Action::Pay);
        shop.sandbox
            .set_fault(simulated(gateway), Call::Verify, slow_verify());
        let back = buyer.return_to_shop(&cb).await;
        assert_eq!(back.status, 303, "{gateway}: {}", back.body);
        assert_eq!(
            shop.order(&order.id).await.status,
            Status::Pending,
            "{gateway}"
        );
        let page = buyer.get(&format!("/orders/{}", order.id)).await;
        assert!(page.body.contains("data-status=\"pending\""));
        assert!(page.body.contains("id=\"check-again\""));

        let checked = buyer
            .post_form(&format!("/orders/{}/check", order.id), &[])
            .await;
        assert_eq!(checked.status, 303);
        let row = shop.order(&order.id).await;
        assert_eq!(row.status, Status::Paid, "{gateway}");
        assert!(row.pending_json.is_none());
        let page = buyer.get(&format!("/orders/{}", order.id)).await;
        assert!(page.body.contains("data-status=\"paid\""));
        // Checking a paid order again changes nothing.
        let again = buyer
            .post_form(&format!("/orders/{}/check", order.id), &[])
            .await;
        assert_eq!(again.status, 303);
        assert_eq!(shop.order(&order.id).await.status, Status::Paid);
    }
}

#[tokio::test]
async fn check_again_while_the_gateway_is_still_slow_stays_pending() {
    let file = TempDb::new("http-still-pending");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);
    buyer.checkout("tea", GatewayId::NovinPal).await;
    let order = shop.newest_order().await;
    let cb = shop.act(GatewayId::NovinPal, &order.id, Action::Pay);
    let slow = simulated(GatewayId::NovinPal);
    shop.sandbox
        .set_fault(slow, Call::Verify, slow_verify().times(2));
    buyer.return_to_shop(&cb).await;
    let checked = buyer
        .post_form(&format!("/orders/{}/check", order.id), &[])
        .await;
    assert_eq!(
        checked.location(),
        Some(format!("/orders/{}?note=still_pending", order.id).as_str())
    );
    let page = buyer.get(checked.location().unwrap()).await;
    assert!(page.body.contains("data-note=\"still_pending\""));
    assert_eq!(shop.order(&order.id).await.status, Status::Pending);
    buyer
        .post_form(&format!("/orders/{}/check", order.id), &[])
        .await;
    assert_eq!(shop.order(&order.id).await.status, Status::Paid);
}

#[tokio::test]
async fn the_buyer_picks_products_and_gateways_never_amounts() {
    let file = TempDb::new("http-input");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);
    let unknown_gateway = buyer
        .post_form("/checkout", &[("product", "tea"), ("gateway", "paypal")])
        .await;
    assert_eq!(unknown_gateway.status, 422);
    let unknown_product = buyer
        .post_form("/checkout", &[("product", "gold"), ("gateway", "idpay")])
        .await;
    assert_eq!(unknown_product.status, 404);
    assert!(shop.db.orders().await.unwrap().is_empty());
    // An amount in the form is ignored: the price comes from the catalogue.
    buyer
        .post_form(
            "/checkout",
            &[
                ("product", "tea"),
                ("gateway", "novinpal"),
                ("amount", "10000"),
            ],
        )
        .await;
    assert_eq!(shop.newest_order().await.amount.get(), 1_290_000);
    assert_eq!(buyer.get("/orders/NOPE").await.status, 404);
    assert_eq!(buyer.get("/products/gold").await.status, 404);
    assert_eq!(buyer.get("/no/such/page").await.status, 404);
}

#[tokio::test]
async fn a_gateway_that_refuses_to_start_fails_the_order_and_offers_another() {
    let file = TempDb::new("http-start-fail");
    let shop = TestShop::start(&file).await;
    let mut buyer = Buyer::new(&shop);
    shop.sandbox.set_fault(
        simulated(GatewayId::CanPay),
        Call::Create,
        FaultSpec::new(Fault::Status { code: 503 }).times(1),
    );
    let answer = buyer.checkout("tea", GatewayId::CanPay).await;
    assert_eq!(answer.status, 502, "{}", answer.body);
    assert!(answer.body.contains("role=\"alert\""));
    assert!(
        answer.body.contains("value=\"idpay\""),
        "other gateways offered"
    );
    assert_eq!(shop.newest_order().await.status, Status::Failed);
}

/// The buyer pays and closes the tab: the reconciler settles the order paid, and the
/// order page shows what the ledger recorded.
#[tokio::test]
async fn a_buyer_who_never_returns_is_settled_by_the_reconciler() {
    let file = TempDb::new("http-reconciled");
    let shop = TestShop::start_with(
        &file.url(),
        Options {
            reconcile: Some((Duration::from_millis(100), Duration::from_millis(500))),
            ..Options::default()
        },
    )
    .await;
    let mut buyer = Buyer::new(&shop);
    buyer.checkout("saffron", GatewayId::CanPay).await;
    let order = shop.newest_order().await;
    // Paid on the gateway's page; the callback is not followed for now.
    let callback = shop.act(GatewayId::CanPay, &order.id, Action::Pay);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while shop.order(&order.id).await.status != Status::Paid {
        assert!(std::time::Instant::now() < deadline, "not reconciled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let txn = shop
        .sandbox
        .find_by_order_id(simulated(GatewayId::CanPay), &order.id)
        .unwrap();
    assert_eq!(txn.successful_verifies, 1);
    let page = buyer.get(&format!("/orders/{}", order.id)).await;
    assert!(page.body.contains("data-status=\"paid\""), "{}", page.body);
    assert!(
        page.body.contains("data-ledger-status=\"paid\""),
        "{}",
        page.body
    );
    // The buyer comes back at last: told the payment is recorded, nothing paid twice.
    let late = buyer.return_to_shop(&callback).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(
        late.body.contains("Payment already recorded"),
        "{}",
        late.body
    );
    let txn = shop
        .sandbox
        .find_by_order_id(simulated(GatewayId::CanPay), &order.id)
        .unwrap();
    assert_eq!(txn.successful_verifies, 1);
}

/// IDPay's v1, the API its document describes (`IDPAY_VERSION=v1`): the shop creates on
/// `v1/payment`, the buyer comes back with v1's status 100, and the shop confirms with
/// v1's inquiry, which answers 100. The order is paid once; a replayed return changes
/// nothing.
#[tokio::test]
async fn idpay_v1_buy_pay_return_and_the_order_is_paid_once() {
    let file = TempDb::new("http-idpay-v1");
    let shop = TestShop::start_with(
        &file.url(),
        Options {
            idpay_version: IdPayVersion::V1,
            ..Options::default()
        },
    )
    .await;
    let mut buyer = Buyer::new(&shop);
    let started = buyer.checkout("tea", GatewayId::IdPay).await;
    assert!(matches!(started.status, 200 | 302), "{}", started.body);
    let order = shop.newest_order().await;
    let txn = shop
        .sandbox
        .find_by_order_id(SandboxGateway::IdPay, &order.id)
        .unwrap();
    assert_eq!(
        txn.idpay_version,
        Some(IdPayApi::V1),
        "created on v1/payment"
    );
    let kept_cookies = buyer.jar.clone();

    let cb = shop.act(GatewayId::IdPay, &order.id, Action::Pay);
    assert_eq!(cb.field("status"), Some("100"), "v1's paid status");
    let back = buyer.return_to_shop(&cb).await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(
        back.location(),
        Some(format!("/orders/{}", order.id).as_str())
    );
    let row = shop.order(&order.id).await;
    assert_eq!(row.status, Status::Paid);
    assert_eq!(row.gateway_ref.as_deref(), Some(txn.key.as_str()));
    let page = buyer.get(&format!("/orders/{}", order.id)).await;
    assert!(page.body.contains("data-status=\"paid\""), "{}", page.body);

    let txn = shop
        .sandbox
        .find_by_order_id(SandboxGateway::IdPay, &order.id)
        .unwrap();
    let seen: Vec<_> = txn
        .idpay_answers
        .iter()
        .map(|a| (a.path.as_str(), a.http_status, a.status.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [("/idpay/v1/payment/inquiry", 200, Some("100"))],
        "one v1 verify, answered 100"
    );
    assert_eq!(txn.successful_verifies, 1);

    // The same return again, with the state cookie an attacker kept: refused, and the
    // gateway is not asked again.
    buyer.jar = kept_cookies;
    let replay = buyer.return_to_shop(&cb).await;
    assert_eq!(replay.status, 409, "{}", replay.body);
    assert_eq!(shop.order(&order.id).await.status, Status::Paid);
    let list = buyer.get("/orders").await;
    assert_eq!(orders_page_rows(&list.body, &order.id, "paid"), 1);
    let txn = shop
        .sandbox
        .find_by_order_id(SandboxGateway::IdPay, &order.id)
        .unwrap();
    assert_eq!(txn.idpay_answers.len(), 1, "{:?}", txn.idpay_answers);
    assert_eq!(txn.successful_verifies, 1);
    let orders = shop.db.orders().await.unwrap();
    assert_eq!(orders.len(), 1);
}
