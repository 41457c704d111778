//! Two accounts of one gateway in one app (two NovinPal merchants, one per brand): each
//! payment is created and verified with its own account's key, and a state of one account
//! is never verified through the other's route.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{http, scripted::keys};
use payment_core::{
    AccountId, CallbackRequest, ConfigError, GatewayId, NotPaid, NovinPal, Order, Payments,
    Rejection, Rial,
};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_string, method, path},
};

const MAIN_KEY: &str = "main-shop-novinpal-key";
const TEA_KEY: &str = "tea-brand-novinpal-key";

fn tea() -> AccountId {
    AccountId::named(GatewayId::NovinPal, "tea").unwrap()
}

/// A NovinPal merchant at its own mock server: create hands out `ref_id`, verify confirms
/// `order` for `amount`; both only for requests carrying `key`, each expected `verifies`
/// times.
async fn merchant(key: &str, ref_id: &str, order: &str, amount: u64, verifies: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/invoice/request"))
        .and(wiremock::matchers::body_string_contains(format!(
            "api_key={key}&"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(format!(r#"{{"refId": "{ref_id}", "status": 1}}"#)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/invoice/verify"))
        .and(body_string(format!("api_key={key}&ref_id={ref_id}")))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"status": 1, "amount": {amount}, "refNumber": "638060399619297999",
                "refId": "{ref_id}", "orderId": "{order}", "cardNumber": "6104-33**-****-6047",
                "paidAt": "2022-12-07 19:59:45", "verifiedBefore": false}}"#
        )))
        .expect(verifies)
        .mount(&server)
        .await;
    server
}

fn novinpal(key: &str, server: &MockServer) -> NovinPal {
    NovinPal::new(key)
        .with_base_url(&server.uri())
        .unwrap()
        .with_http(http())
}

fn paid_callback(ref_id: &str, order: &str, amount: u64, cookie: (&str, &str)) -> CallbackRequest {
    CallbackRequest::from_get(&format!(
        "refId={ref_id}&success=1&code=100&invoiceNumber={order}&amount={amount}"
    ))
    .unwrap()
    .with_cookie(cookie.0, cookie.1)
}

#[tokio::test]
async fn each_account_creates_and_verifies_with_its_own_key() {
    let main = merchant(MAIN_KEY, "500", "M-1", 120_000, 1).await;
    let brand = merchant(TEA_KEY, "700", "T-1", 90_000, 1).await;
    let payments = Payments::builder("https://shop.example", keys(3))
        .gateway(novinpal(MAIN_KEY, &main))
        .account("tea", novinpal(TEA_KEY, &brand))
        .build()
        .unwrap();
    assert_eq!(
        payments.accounts().cloned().collect::<Vec<_>>(),
        [AccountId::from(GatewayId::NovinPal), tea()]
    );
    assert_eq!(
        payments.callback_url(tea()).as_str(),
        "https://shop.example/pay/callback/novinpal-tea"
    );

    let started_tea = payments
        .start(
            tea(),
            &Order::new("T-1".parse().unwrap(), Rial::new(90_000)),
        )
        .await
        .unwrap();
    let started_main = payments
        .start(
            GatewayId::NovinPal,
            &Order::new("M-1".parse().unwrap(), Rial::new(120_000)),
        )
        .await
        .unwrap();
    assert_eq!(started_tea.gateway_ref(), "700");
    assert_eq!(started_main.gateway_ref(), "500");
    assert!(started_tea.cookie().name.starts_with("pay_novinpal-tea_"));

    let at = payments.gateway_for_path("/pay/callback/novinpal-tea", None);
    assert_eq!(at, Ok(tea()));
    let cookie = started_tea.cookie();
    let result = payments
        .handle_callback(
            tea(),
            &paid_callback("700", "T-1", 90_000, (&cookie.name, &cookie.value)),
        )
        .await;
    let receipt = result.outcome.unwrap();
    assert_eq!(receipt.account(), &tea());
    assert_eq!(receipt.order_id().as_str(), "T-1");

    let cookie = started_main.cookie();
    let result = payments
        .handle_callback(
            GatewayId::NovinPal,
            &paid_callback("500", "M-1", 120_000, (&cookie.name, &cookie.value)),
        )
        .await;
    assert_eq!(
        result.outcome.unwrap().account(),
        &AccountId::from(GatewayId::NovinPal)
    );
    // Each server's `expect(1)` on verify, checked when it drops: each verify went to its
    // own merchant with its own key.
}

#[tokio::test]
async fn a_state_of_one_account_is_refused_at_the_other_accounts_route() {
    let main = merchant(MAIN_KEY, "500", "T-2", 90_000, 0).await;
    let brand = merchant(TEA_KEY, "700", "T-2", 90_000, 0).await;
    let payments = Payments::builder("https://shop.example", keys(3))
        .gateway(novinpal(MAIN_KEY, &main))
        .account("tea", novinpal(TEA_KEY, &brand))
        .build()
        .unwrap();
    let started = payments
        .start(
            tea(),
            &Order::new("T-2".parse().unwrap(), Rial::new(90_000)),
        )
        .await
        .unwrap();
    let cookie = started.cookie();
    // The tea brand's payment, returned to the main account's route: the main account
    // has no state for it, and neither merchant is asked to verify.
    let result = payments
        .handle_callback(
            GatewayId::NovinPal,
            &paid_callback("700", "T-2", 90_000, (&cookie.name, &cookie.value)),
        )
        .await;
    assert!(
        matches!(
            result.outcome,
            Err(NotPaid::Rejected(Rejection::MissingState))
        ),
        "{:?}",
        result.outcome
    );
}

#[test]
fn an_account_name_outside_the_rules_is_a_configuration_error() {
    for name in ["", "Tea", "tea brand", &"x".repeat(33)] {
        let built = Payments::builder("https://shop.example", keys(3))
            .gateway(NovinPal::new(MAIN_KEY))
            .account(name, NovinPal::new(TEA_KEY))
            .build();
        assert!(matches!(built, Err(ConfigError::Invalid(_))), "{name:?}");
    }
}
