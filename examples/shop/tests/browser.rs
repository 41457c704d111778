//! The shop in a real browser (Debian's headless Chromium through chromedriver, both
//! installed by `scripts/test`): for every gateway, buy → pay on the sandbox's page →
//! the paid page, and the orders page shows the order paid once; a cancelled payment;
//! and a verify that times out, ends pending and is completed with "check again".
//!
//! The shop is on `localhost` and the sandbox on `127.0.0.1`: two sites, so the `POST`
//! returns of IDPay, Inopal and CanPay are cross-site, as in production. A screenshot of
//! each paid page is saved as `artifacts/shop-<gateway>-paid.png`.

mod common;

use common::{TempDb, TestShop, orders_page_rows, simulated};
use payment_axum::payment_core::GatewayId;
use payment_e2e::browser::Browser;
use payment_sandbox::{Call, Fault, FaultSpec};
use shop::db::Status;

/// Picks `gateway` on the product's checkout page, pays, and waits for the sandbox's page.
async fn to_gateway(browser: &Browser, shop: &TestShop, product: &str, gateway: GatewayId) {
    browser
        .goto(&format!("{}/products/{product}", shop.base))
        .await;
    browser
        .click(&format!("#gateway-{}", gateway.as_str()))
        .await;
    browser.click("#pay").await;
    browser.wait_for_url(&shop.sandbox_url).await;
    browser.wait_for_text("_sandbox/act/").await;
}

/// The order id in the current URL (`…/orders/{id}`).
async fn order_in_url(browser: &Browser) -> String {
    let url = browser.wait_for_url("/orders/SH").await;
    let id = url
        .rsplit("/orders/")
        .next()
        .unwrap_or_default()
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    id.to_owned()
}

#[tokio::test]
async fn every_gateway_pays_in_a_real_browser() {
    let file = TempDb::new("browser-paid");
    let shop = TestShop::start(&file).await;
    let browser = Browser::launch().await;
    for &gateway in GatewayId::ALL {
        to_gateway(&browser, &shop, "saffron", gateway).await;
        browser.click("button.pay").await;
        let id = order_in_url(&browser).await;
        let page = browser.wait_for_text("data-status=\"paid\"").await;
        let order = shop.order(&id).await;
        assert_eq!(order.status, Status::Paid, "{gateway}");
        assert!(
            page.contains(order.gateway_ref.as_deref().unwrap()),
            "{gateway}: reference shown"
        );
        if let Some(card) = &order.card_mask {
            assert!(page.contains(card.as_str()), "{gateway}: card shown");
        }
        let shot = browser
            .screenshot(&format!("shop-{}-paid", gateway.as_str()))
            .await;
        assert!(shot.exists());

        browser.goto(&format!("{}/orders", shop.base)).await;
        let list = browser.wait_for_text(&id).await;
        assert_eq!(
            orders_page_rows(&list, &id, "paid"),
            1,
            "{gateway}: paid once"
        );
        let txn = shop
            .sandbox
            .find_by_order_id(simulated(gateway), &id)
            .unwrap();
        assert_eq!(txn.successful_verifies, 1, "{gateway}: verified once");
    }
    // The buyer's own orders, then everyone's behind the admin password.
    browser.goto(&format!("{}/orders", shop.base)).await;
    let mine = browser.wait_for_text("data-view=\"buyer\"").await;
    assert!(browser.screenshot("shop-buyer-orders").await.exists());
    let origin = shop.base.trim_start_matches("http://");
    browser
        .goto(&format!(
            "http://admin:{}@{origin}/admin",
            shop.admin_password
        ))
        .await;
    let all = browser.wait_for_text("data-view=\"admin\"").await;
    for order in shop.db.orders().await.unwrap() {
        assert!(mine.contains(&order.id) && all.contains(&order.id));
    }
    assert!(all.contains("Refused callbacks since start"), "{all}");
    assert!(browser.screenshot("shop-admin").await.exists());
    browser.close().await;
}

#[tokio::test]
async fn a_cancelled_payment_ends_failed_in_a_real_browser() {
    let file = TempDb::new("browser-cancel");
    let shop = TestShop::start(&file).await;
    let browser = Browser::launch().await;
    // IDPay returns with a cross-site POST: the cancel must come through it too.
    to_gateway(&browser, &shop, "tea", GatewayId::IdPay).await;
    browser.click("button.cancel").await;
    let id = order_in_url(&browser).await;
    browser.wait_for_text("data-status=\"failed\"").await;
    assert_eq!(shop.order(&id).await.status, Status::Failed);
    browser.screenshot("shop-idpay-cancelled").await;
    browser.close().await;
}

#[tokio::test]
async fn a_verify_timeout_ends_pending_and_check_again_completes_it_in_a_real_browser() {
    let file = TempDb::new("browser-pending");
    let shop = TestShop::start(&file).await;
    let browser = Browser::launch().await;
    let gateway = GatewayId::NovinPal;
    to_gateway(&browser, &shop, "pistachio", gateway).await;
    // The gateway verifies, but answers after the shop has stopped waiting.
    let ms = u64::try_from(common::GATEWAY_TIMEOUT.as_millis()).unwrap() + 1500;
    shop.sandbox.set_fault(
        simulated(gateway),
        Call::Verify,
        FaultSpec::new(Fault::Delay { ms }).times(1),
    );
    browser.click("button.pay").await;
    let id = order_in_url(&browser).await;
    browser.wait_for_text("data-status=\"pending\"").await;
    assert_eq!(shop.order(&id).await.status, Status::Pending);
    browser.screenshot("shop-novinpal-pending").await;

    browser.click("#check-again").await;
    browser.wait_for_text("data-status=\"paid\"").await;
    assert_eq!(shop.order(&id).await.status, Status::Paid);
    browser.goto(&format!("{}/orders", shop.base)).await;
    let list = browser.wait_for_text(&id).await;
    assert_eq!(orders_page_rows(&list, &id, "paid"), 1);
    browser.close().await;
}

/// Every page a buyer, an operator or the sandbox shows, on a 390 px phone screen: no
/// horizontal scroll anywhere. A screenshot of each is saved as `artifacts/phone-*.png`.
#[tokio::test]
async fn every_page_fits_a_phone_screen() {
    let file = TempDb::new("browser-phone");
    let shop = TestShop::start(&file).await;
    let browser = Browser::launch_phone().await;
    let base = shop.base.clone();

    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("/products/").await;
    browser.assert_fits("phone-home").await;
    browser.goto(&format!("{base}/products/saffron")).await;
    browser.wait_for_text("id=\"pay\"").await;
    browser.assert_fits("phone-checkout").await;

    // Each gateway's payment page at the sandbox, and the paid page after it.
    for &gateway in GatewayId::ALL {
        to_gateway(&browser, &shop, "saffron", gateway).await;
        browser
            .assert_fits(&format!("phone-sandbox-{}", gateway.as_str()))
            .await;
        browser.click("button.pay").await;
        order_in_url(&browser).await;
        browser.wait_for_text("data-status=\"paid\"").await;
        browser
            .assert_fits(&format!("phone-paid-{}", gateway.as_str()))
            .await;
    }

    // A cancelled payment, and a pending one.
    to_gateway(&browser, &shop, "tea", GatewayId::NovinPal).await;
    browser.click("button.cancel").await;
    order_in_url(&browser).await;
    browser.wait_for_text("data-status=\"failed\"").await;
    browser.assert_fits("phone-failed").await;
    to_gateway(&browser, &shop, "notebook", GatewayId::NovinPal).await;
    let ms = u64::try_from(common::GATEWAY_TIMEOUT.as_millis()).unwrap() + 1500;
    shop.sandbox.set_fault(
        simulated(GatewayId::NovinPal),
        Call::Verify,
        FaultSpec::new(Fault::Delay { ms }).times(1),
    );
    browser.click("button.pay").await;
    let pending = order_in_url(&browser).await;
    browser.wait_for_text("data-status=\"pending\"").await;
    browser.assert_fits("phone-pending").await;

    browser.goto(&format!("{base}/orders")).await;
    browser.wait_for_text(&pending).await;
    browser.assert_fits("phone-orders").await;
    let origin = base.trim_start_matches("http://");
    let admin = format!("http://admin:{}@{origin}", shop.admin_password);
    browser.goto(&format!("{admin}/admin")).await;
    browser.wait_for_text("data-view=\"admin\"").await;
    browser.assert_fits("phone-admin").await;
    browser
        .goto(&format!("{admin}/admin/orders/{pending}"))
        .await;
    browser.wait_for_text("data-status=\"pending\"").await;
    browser.assert_fits("phone-admin-order").await;
    browser.goto(&format!("{base}/nowhere")).await;
    browser.wait_for_text("Not found").await;
    browser.assert_fits("phone-not-found").await;
    browser
        .goto(&format!("{base}/pay/callback/novinpal?refId=1&success=1"))
        .await;
    browser.wait_for_text("</html>").await;
    browser.assert_fits("phone-refused-callback").await;
    browser.goto(&format!("{}/_admin", shop.sandbox_url)).await;
    browser.wait_for_text("<table").await;
    browser.assert_fits("phone-sandbox-admin").await;
    browser.close().await;
}
