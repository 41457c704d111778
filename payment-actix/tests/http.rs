//! The crate in a real `HttpServer` on loopback, driven over HTTP by a client with a
//! cookie jar: the scope built once outside the server factory, the start helper, and
//! both callback styles.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::{
    net::TcpListener,
    sync::{Arc, Mutex},
};

use actix_web::{App, HttpResponse, HttpServer, Responder, web};
use common::*;
use payment_actix::{
    CallbackCookies, PaymentCallback, PaymentScope,
    payment_core::{GatewayId, Order, Payments, Receipt, Rial},
    start,
};

async fn buy(payments: web::Data<Payments>, path: web::Path<(String, String)>) -> impl Responder {
    let (gateway, order) = path.into_inner();
    let order = Order::new(order.parse().unwrap(), Rial::new(120_000));
    start(&payments, gateway.parse::<GatewayId>().unwrap(), &order).await
}

async fn inopal_back(
    cookies: CallbackCookies,
    PaymentCallback(receipt): PaymentCallback<PostGateway>,
) -> impl Responder {
    let text = format!("extractor paid {}", receipt.order_id());
    cookies.attach(HttpResponse::Ok().body(text))
}

/// Serves the app on loopback; returns its base URL and what `on_paid` saw.
fn serve(shop: &Shop, listener: TcpListener) -> Arc<Mutex<Vec<Receipt>>> {
    let paid = Arc::new(Mutex::new(Vec::new()));
    let sink = paid.clone();
    // Built once, outside the factory, and cloned into every worker.
    let scope = PaymentScope::new(shop.payments.clone()).on_paid(move |receipt: Receipt| {
        let sink = sink.clone();
        async move {
            let text = format!("scope paid {}", receipt.order_id());
            sink.lock().unwrap().push(receipt);
            text
        }
    });
    let payments = shop.payments.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(payments.clone()))
            .route("/buy/{gateway}/{order}", web::get().to(buy))
            // One gateway through the extractor, the others through the scope.
            .route("/pay/callback/inopal", web::post().to(inopal_back))
            .service(scope.clone())
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    paid
}

fn loopback() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    (listener, base)
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[actix_web::test]
async fn start_and_get_callback_over_http_with_a_cookie_jar() {
    let (listener, base) = loopback();
    let shop = shop_at(&base, "/pay");
    let paid = serve(&shop, listener);
    let client = browser();

    let res = client
        .get(format!("{base}/buy/novinpal/H-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "https://gateway.test/pay/ref-H-1"
    );

    // The gateway sends the buyer back with a top-level GET: the Lax cookie comes along.
    let callback = format!("{base}/pay/callback/novinpal?ref=ref-H-1&order=H-1&amount=120000&ok=1");
    let res = client.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "scope paid H-1");
    assert_eq!(paid.lock().unwrap().len(), 1);

    // The jar no longer holds the state: a reload is refused as missing state.
    let res = client.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(shop.get_gw.calls(), 1);
}

#[actix_web::test]
async fn cross_site_post_over_http_is_reposted_to_the_extractor() {
    let (listener, base) = loopback();
    let shop = shop_at(&base, "/pay");
    let _paid = serve(&shop, listener);
    let client = browser();

    let res = client
        .get(format!("{base}/buy/inopal/H-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, action, fields) = form(&res.text().await.unwrap());
    assert_eq!(action, "https://gateway.test/pay");
    assert_eq!(fields[0].1, "ref-H-2");

    // The gateway's page posts back cross-site: the browser sends no Lax cookie.
    let cross_site = reqwest::Client::new();
    let res = cross_site
        .post(format!("{base}/pay/callback/inopal"))
        .form(&[
            ("ref", "ref-H-2"),
            ("order", "H-2"),
            ("amount", "120000"),
            ("ok", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (method, action, fields) = form(&res.text().await.unwrap());
    assert_eq!(method, "POST");

    // The page re-posts from our own origin, so now the cookie comes.
    let res = client
        .post(format!("{base}{action}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "extractor paid H-2");
    assert_eq!(shop.post_gw.calls(), 1);
}
