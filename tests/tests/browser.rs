//! Real headless Chromium, shop on `localhost`, gateway on `127.0.0.1`: every gateway's
//! return reaches a paid answer with the default cookie settings — the cross-site `POST`
//! returns (IDPay, CanPay, Inopal) included — through both framework crates.

use payment_core::GatewayId;
use payment_e2e::{
    apps::{actix::ActixScope, axum::AxumRouter},
    scenarios::in_browser,
};

/// One browser at a time: two cores, and each Chromium wants one.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

macro_rules! browser_tests {
    ($($name:ident: $flavor:ty, $gateway:ident;)+) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let _one = ONE_BROWSER.lock().await;
            in_browser::<$flavor>(GatewayId::$gateway).await;
        }
    )+};
}

browser_tests! {
    axum_idpay_cross_site_post: AxumRouter, IdPay;
    axum_canpay_cross_site_post: AxumRouter, CanPay;
    axum_inopal_post_redirect_and_return: AxumRouter, Inopal;
    axum_novinpal_get_return: AxumRouter, NovinPal;
    axum_gardeshpay_get_return: AxumRouter, GardeshPay;
    axum_zarinpal_get_return: AxumRouter, Zarinpal;
    axum_zibal_get_return: AxumRouter, Zibal;
    actix_idpay_cross_site_post: ActixScope, IdPay;
    actix_canpay_cross_site_post: ActixScope, CanPay;
    actix_inopal_post_redirect_and_return: ActixScope, Inopal;
    actix_novinpal_get_return: ActixScope, NovinPal;
    actix_gardeshpay_get_return: ActixScope, GardeshPay;
    actix_zarinpal_get_return: ActixScope, Zarinpal;
    actix_zibal_get_return: ActixScope, Zibal;
}
