//! `PaymentScope`: callback routes for every configured gateway, hooks per outcome,
//! default pages, the cross-site POST re-post, attacks, and mounting.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::sync::{Arc, Mutex};

use actix_web::{
    App, HttpResponse,
    http::{StatusCode, header},
    test, web,
};
use common::*;
use payment_actix::{
    PaymentScope,
    payment_core::{
        CallbackRequest, FailedPayment, GatewayId, NotPaid, PendingPayment, Receipt, Rejection,
        Rial, outcome::FailureReason, time::Duration,
    },
};

/// What the hooks saw.
#[derive(Clone, Default)]
struct Seen {
    paid: Arc<Mutex<Vec<Receipt>>>,
    failed: Arc<Mutex<Vec<FailedPayment>>>,
    pending: Arc<Mutex<Vec<PendingPayment>>>,
    rejected: Arc<Mutex<Vec<Rejection>>>,
}

/// A scope with every hook recording what it got and answering `418` + a short text, so a
/// test can tell hook answers from default pages.
fn hooked_scope(shop: &Shop, seen: &Seen) -> PaymentScope {
    let (p, f, n, r) = (
        seen.paid.clone(),
        seen.failed.clone(),
        seen.pending.clone(),
        seen.rejected.clone(),
    );
    PaymentScope::new(shop.payments.clone())
        .on_paid(move |receipt: Receipt| {
            let p = p.clone();
            async move {
                let text = format!("paid {}", receipt.order_id());
                p.lock().unwrap().push(receipt);
                HttpResponse::Ok().body(text)
            }
        })
        .on_failed(move |failed: FailedPayment| {
            let f = f.clone();
            async move {
                let text = format!("failed {}", failed.order_id);
                f.lock().unwrap().push(failed);
                HttpResponse::build(StatusCode::IM_A_TEAPOT).body(text)
            }
        })
        .on_pending(move |pending: PendingPayment| {
            let n = n.clone();
            async move {
                let text = format!("pending {}", pending.order_id);
                n.lock().unwrap().push(pending);
                HttpResponse::build(StatusCode::IM_A_TEAPOT).body(text)
            }
        })
        .on_rejected(move |rejection: Rejection| {
            let r = r.clone();
            async move {
                r.lock().unwrap().push(rejection);
                HttpResponse::build(StatusCode::IM_A_TEAPOT)
                    .insert_header((header::CACHE_CONTROL, "private"))
                    .body("rejected")
            }
        })
}

fn get(uri: &str, cookie: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(cookie) = cookie {
        req = req.insert_header((header::COOKIE, cookie));
    }
    req
}

fn post(uri: &str, body: String, cookie: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(body);
    if let Some(cookie) = cookie {
        req = req.insert_header((header::COOKIE, cookie));
    }
    req
}

#[actix_web::test]
async fn paid_callback_calls_the_hook_with_the_receipt_and_removes_the_cookie() {
    let shop = shop();
    let seen = Seen::default();
    let app = test::init_service(App::new().service(hooked_scope(&shop, &seen).scope())).await;
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;

    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    assert!(removes(&cookies, &s.cookie), "{cookies:?}");
    assert!(cookies[0].contains("Path=/pay/callback"), "{cookies:?}");
    assert_eq!(
        header(&res, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    assert_eq!(body(res).await, "paid A-1");

    let paid = seen.paid.lock().unwrap().clone();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].order_id().as_str(), "A-1");
    assert_eq!(paid[0].amount(), Rial::new(120_000));
    assert_eq!(paid[0].gateway_ref(), "ref-A-1");
    assert_eq!(paid[0].gateway(), GatewayId::NovinPal);
    assert_eq!(paid[0].bank_reference(), Some("638060399619297999"));
    assert_eq!(shop.get_gw.calls(), 1);
}

#[actix_web::test]
async fn without_hooks_every_outcome_gets_its_status_and_default_page() {
    let shop = shop();
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;

    // paid
    let s = start(&shop, GatewayId::NovinPal, "P-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, header::CONTENT_TYPE).as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(removes(&set_cookies(&res), &s.cookie));
    let page = body(res).await;
    assert!(
        page.contains("Payment successful") && page.contains("پرداخت موفق بود"),
        "{page}"
    );
    assert!(page.contains("P-1") && page.contains("120,000"), "{page}");

    // failed (the buyer cancelled)
    let s = start(&shop, GatewayId::NovinPal, "F-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(false));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
    assert!(removes(&set_cookies(&res), &s.cookie));
    let page = body(res).await;
    assert!(
        page.contains("Payment not completed") && page.contains("پرداخت انجام نشد"),
        "{page}"
    );

    // pending (verify timed out): the state cookie stays for a retry
    let s = start(&shop, GatewayId::NovinPal, "N-1", 120_000).await;
    shop.get_gw.then_timeout();
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(!removes(&set_cookies(&res), &s.cookie));
    let page = body(res).await;
    assert!(page.contains("Payment being confirmed"), "{page}");

    // rejected (no state cookie on a GET)
    let res = test::call_service(&app, get(&uri, None).to_request()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        header(&res, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );
    let page = body(res).await;
    assert!(
        page.contains("Request refused") && page.contains("درخواست نامعتبر"),
        "{page}"
    );
}

#[actix_web::test]
async fn failed_pending_and_rejected_hooks_get_their_values_and_the_cookies() {
    let shop = shop();
    let seen = Seen::default();
    let app = test::init_service(App::new().service(hooked_scope(&shop, &seen).scope())).await;

    let s = start(&shop, GatewayId::NovinPal, "F-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(false));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(
        res.status(),
        StatusCode::IM_A_TEAPOT,
        "the hook's own status"
    );
    assert!(
        removes(&set_cookies(&res), &s.cookie),
        "cookies on hook answers too"
    );
    assert_eq!(body(res).await, "failed F-1");
    let failed = seen.failed.lock().unwrap().clone();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].amount, Rial::new(120_000));
    assert!(matches!(failed[0].reason, FailureReason::NotPaid { .. }));

    let s = start(&shop, GatewayId::NovinPal, "N-1", 80_000).await;
    shop.get_gw.then_timeout();
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(body(res).await, "pending N-1");
    let pending = seen.pending.lock().unwrap().clone();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].order_id.as_str(), "N-1");

    let res = test::call_service(&app, get(&uri, Some("pay_novinpal_x=forged")).to_request()).await;
    assert_eq!(
        header(&res, header::CACHE_CONTROL).as_deref(),
        Some("private"),
        "a hook's own Cache-Control is kept"
    );
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("pay_novinpal_x=;")),
        "the forged cookie is removed: {:?}",
        set_cookies(&res)
    );
    assert_eq!(body(res).await, "rejected");
    let rejected = seen.rejected.lock().unwrap().clone();
    assert!(
        matches!(rejected[..], [Rejection::TamperedState(_)]),
        "{rejected:?}"
    );
    assert!(seen.paid.lock().unwrap().is_empty());
}

#[actix_web::test]
async fn pending_payment_from_the_hook_is_retried_later_and_fulfilled_once() {
    let shop = shop();
    let seen = Seen::default();
    let app = test::init_service(App::new().service(hooked_scope(&shop, &seen).scope())).await;
    let s = start(&shop, GatewayId::NovinPal, "N-2", 80_000).await;
    shop.get_gw.then_timeout();
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    let pending = seen.pending.lock().unwrap()[0].clone();

    let outcome = shop.payments.retry(&pending).await;
    let Ok(receipt) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(receipt.order_id().as_str(), "N-2");
    let again = shop.payments.retry(&pending).await;
    assert!(
        matches!(again, Err(NotPaid::Rejected(Rejection::Replay))),
        "{again:?}"
    );
    // And the buyer's own reload of the callback is a replay too.
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert!(matches!(
        seen.rejected.lock().unwrap()[..],
        [Rejection::Replay]
    ));
    assert_eq!(shop.get_gw.calls(), 2);
}

#[actix_web::test]
async fn cross_site_post_without_cookie_is_reposted_then_paid_with_the_cookie() {
    let shop = shop();
    let seen = Seen::default();
    let app = test::init_service(App::new().service(hooked_scope(&shop, &seen).scope())).await;
    let s = start(&shop, GatewayId::Inopal, "X-1", 50_000).await;

    // The gateway's page posts back cross-site: the browser withholds the Lax cookie.
    let res = test::call_service(
        &app,
        post("/pay/callback/inopal", s.fields(true), None).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).is_empty());
    let page = body(res).await;
    let (method, action, fields) = form(&page);
    assert_eq!(method, "POST");
    assert_eq!(action, "/pay/callback/inopal");
    assert!(
        fields.contains(&("ref".into(), "ref-X-1".into())),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|(k, _)| k == "_payment_resubmit"),
        "{fields:?}"
    );
    assert!(seen.rejected.lock().unwrap().is_empty(), "never a hook");
    assert_eq!(shop.post_gw.calls(), 0);

    // The same-origin re-post carries the cookie.
    let res = test::call_service(
        &app,
        post(&action, urlencode(&fields), Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(removes(&set_cookies(&res), &s.cookie));
    assert_eq!(body(res).await, "paid X-1");
    assert_eq!(shop.post_gw.calls(), 1);

    // A re-posted callback that still has no cookie is refused, not re-posted forever.
    let res = test::call_service(&app, post(&action, urlencode(&fields), None).to_request()).await;
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert!(matches!(
        seen.rejected.lock().unwrap()[..],
        [Rejection::MissingState]
    ));
}

#[actix_web::test]
async fn get_gateway_may_also_call_back_with_post_and_query_is_kept_on_repost() {
    let shop = shop();
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;
    let s = start(&shop, GatewayId::NovinPal, "Q-1", 50_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, post(&uri, String::new(), None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (_, action, fields) = form(&body(res).await);
    assert!(action.starts_with("/pay/callback/novinpal?"), "{action}");
    assert!(action.contains("ref=ref-Q-1"), "{action}");
    let res = test::call_service(
        &app,
        post(&action, urlencode(&fields), Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body(res).await.contains("Payment successful"));
}

#[actix_web::test]
async fn tampered_cookie_is_403_and_replay_is_409() {
    let shop = shop();
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;
    let s = start(&shop, GatewayId::NovinPal, "T-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));

    // One character of the signed state changed.
    let mut tampered = s.cookie.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let res = test::call_service(&app, get(&uri, Some(&tampered)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(removes(&set_cookies(&res), &tampered));
    assert_eq!(shop.get_gw.calls(), 0);

    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    // The same callback with the same cookie again (a reload, or an attacker).
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(body(res).await.contains("already been processed"));
    assert_eq!(shop.get_gw.calls(), 1, "verified once");
}

#[actix_web::test]
async fn amount_swap_and_expired_state_are_refused() {
    let shop = shop();
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;
    let s = start(&shop, GatewayId::NovinPal, "S-1", 120_000).await;
    let uri = format!(
        "/pay/callback/novinpal?ref={}&order=S-1&amount=10000&ok=1",
        s.reference
    );
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let s = start(&shop, GatewayId::NovinPal, "E-1", 120_000).await;
    shop.clock.advance(Duration::minutes(31));
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert_eq!(shop.get_gw.calls(), 0);
}

#[actix_web::test]
async fn unknown_or_unconfigured_gateway_is_404_and_other_methods_405() {
    let shop = shop();
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;
    for uri in [
        "/pay/callback/zarinpal",
        "/pay/callback/idpay",
        "/pay/callback/NovinPal",
    ] {
        let res = test::call_service(&app, get(uri, None).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert!(body(res).await.contains("unknown payment gateway"));
    }
    let res = test::call_service(
        &app,
        test::TestRequest::put()
            .uri("/pay/callback/novinpal")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn oversized_or_malformed_bodies_are_refused_without_panic() {
    let shop = shop();
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;
    let s = start(&shop, GatewayId::Inopal, "O-1", 50_000).await;
    let huge = format!(
        "{}&pad={}",
        s.fields(true),
        "x".repeat(CallbackRequest::MAX_BODY)
    );
    let res = test::call_service(
        &app,
        post("/pay/callback/inopal", huge, Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body(res).await.contains("malformed"));

    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/pay/callback/inopal")
            .insert_header((header::COOKIE, s.cookie.as_str()))
            .set_payload(vec![0xff, 0xfe, b'=', 0x80])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = test::call_service(
        &app,
        get("/pay/callback/inopal?%%%=&&=%zz", None)
            .insert_header((
                header::COOKIE,
                header::HeaderValue::from_bytes(b"pay_x=\xff\xfe;;=").unwrap(),
            ))
            .to_request(),
    )
    .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(shop.post_gw.calls(), 0);
}

#[actix_web::test]
async fn nested_non_root_prefix_works_both_ways_of_mounting() {
    let shop = shop_at("http://localhost:3000/", "/shop/pay");
    let scope = PaymentScope::new(shop.payments.clone());
    // Written out by hand, nested twice.
    let app = test::init_service(
        App::new()
            .service(web::scope("/shop").service(web::scope("/pay").configure(scope.configure()))),
    )
    .await;
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/shop/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res)[0].contains("Path=/shop/pay/callback"));

    // From the configuration.
    let app = test::init_service(App::new().service(scope.scope())).await;
    let s = start(&shop, GatewayId::Inopal, "B-1", 50_000).await;
    let res = test::call_service(
        &app,
        post("/shop/pay/callback/inopal", s.fields(true), None).to_request(),
    )
    .await;
    let (_, action, fields) = form(&body(res).await);
    assert_eq!(action, "/shop/pay/callback/inopal");
    let res = test::call_service(
        &app,
        post(&action, urlencode(&fields), Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn mounted_at_the_wrong_prefix_is_500_misconfigured() {
    let shop = shop(); // mount path /pay
    let seen = Seen::default();
    let scope = hooked_scope(&shop, &seen);
    let app = test::init_service(
        App::new().service(web::scope("/payments").configure(scope.configure())),
    )
    .await;
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/payments/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert!(
        matches!(&seen.rejected.lock().unwrap()[..], [Rejection::Misconfigured(m)] if m.contains("/pay/callback")),
        "{:?}",
        seen.rejected.lock().unwrap()
    );

    let plain = PaymentScope::new(shop.payments.clone());
    let app = test::init_service(App::new().configure(plain.configure())).await;
    let res = test::call_service(
        &app,
        get(
            &format!("/callback/novinpal?{}", s.fields(true)),
            Some(&s.cookie),
        )
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body(res).await.contains("payment settings are incomplete"));
    assert_eq!(
        shop.get_gw.calls(),
        0,
        "nothing verified on a misconfigured route"
    );
}

#[actix_web::test]
async fn public_base_path_is_accepted_with_or_without_a_stripping_proxy() {
    // The shop is public at https://example.test/store; a proxy may strip `/store` or not.
    let shop = shop_at("http://example.test/store", "/pay");
    let scope = PaymentScope::new(shop.payments.clone());
    let stripped = test::init_service(App::new().service(scope.scope())).await;
    let unstripped = test::init_service(
        App::new().service(web::scope("/store/pay").configure(scope.configure())),
    )
    .await;

    let s = start(&shop, GatewayId::Inopal, "A-1", 50_000).await;
    let res = test::call_service(
        &stripped,
        post("/pay/callback/inopal", s.fields(true), None).to_request(),
    )
    .await;
    let (_, action, fields) = form(&body(res).await);
    assert_eq!(
        action, "/store/pay/callback/inopal",
        "the re-post goes where the browser is"
    );
    let res = test::call_service(
        &stripped,
        post("/pay/callback/inopal", urlencode(&fields), Some(&s.cookie)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let s = start(&shop, GatewayId::NovinPal, "B-1", 50_000).await;
    let uri = format!("/store/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&unstripped, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The app's own state, next to the payment routes.
struct Inventory {
    name: &'static str,
}

async fn home(inventory: web::Data<Inventory>) -> String {
    format!("welcome to {}", inventory.name)
}

#[actix_web::test]
async fn app_with_its_own_state_type_works() {
    let shop = shop();
    let inventory = web::Data::new(Inventory { name: "the shop" });
    let fulfilled = Arc::new(Mutex::new(Vec::new()));
    let sink = fulfilled.clone();
    let scope =
        PaymentScope::new(Arc::new(shop.payments.clone())).on_paid(move |receipt: Receipt| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(receipt.order_id().to_string());
                "thanks"
            }
        });
    let app = test::init_service(
        App::new()
            .app_data(inventory)
            .route("/", web::get().to(home))
            .service(scope),
    )
    .await;
    let res = test::call_service(&app, get("/", None).to_request()).await;
    assert_eq!(body(res).await, "welcome to the shop");
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(removes(&set_cookies(&res), &s.cookie));
    assert_eq!(body(res).await, "thanks");
    assert_eq!(*fulfilled.lock().unwrap(), vec!["A-1".to_owned()]);
}

#[actix_web::test]
async fn two_tabs_two_orders_each_paid_with_its_own_cookie() {
    let shop = shop();
    let seen = Seen::default();
    let app = test::init_service(App::new().service(hooked_scope(&shop, &seen).scope())).await;
    let a = start(&shop, GatewayId::NovinPal, "TAB-A", 20_000).await;
    let b = start(&shop, GatewayId::NovinPal, "TAB-B", 30_000).await;
    let both = format!("{}; {}", a.cookie, b.cookie);
    for s in [&b, &a] {
        let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
        let res = test::call_service(&app, get(&uri, Some(&both)).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookies = set_cookies(&res);
        assert!(removes(&cookies, &s.cookie), "{cookies:?}");
    }
    let orders: Vec<String> = seen
        .paid
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.order_id().to_string())
        .collect();
    assert_eq!(orders, ["TAB-B", "TAB-A"]);
}

#[actix_web::test]
async fn hooks_that_pick_no_status_answer_with_the_outcomes() {
    let shop = shop();
    let scope = PaymentScope::new(shop.payments.clone())
        .on_paid(|receipt: Receipt| async move {
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/orders/{}", receipt.order_id())))
                .finish()
        })
        .on_failed(|failed: FailedPayment| async move {
            format!("sorry, {} was not paid", failed.order_id)
        })
        .on_rejected(|rejection: Rejection| async move { rejection.english() });
    let app = test::init_service(App::new().service(scope)).await;

    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "a status the hook chose is kept"
    );
    assert_eq!(
        header(&res, header::LOCATION).as_deref(),
        Some("/orders/A-1")
    );
    assert!(removes(&set_cookies(&res), &s.cookie));

    let s = start(&shop, GatewayId::NovinPal, "F-1", 120_000).await;
    let uri = format!("/pay/callback/novinpal?{}", s.fields(false));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(body(res).await, "sorry, F-1 was not paid");

    let res = test::call_service(&app, get(&uri, Some("pay_novinpal_1=forged")).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(body(res).await, "the payment session is invalid");
}

#[actix_web::test]
async fn mounted_at_the_root() {
    let shop = shop_at("http://localhost:3000", "/");
    assert_eq!(
        shop.payments.callback_path(GatewayId::NovinPal),
        "/callback/novinpal"
    );
    let app =
        test::init_service(App::new().service(PaymentScope::new(shop.payments.clone()))).await;
    let s = start(&shop, GatewayId::NovinPal, "A-1", 120_000).await;
    let uri = format!("/callback/novinpal?{}", s.fields(true));
    let res = test::call_service(&app, get(&uri, Some(&s.cookie)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res)[0].contains("Path=/callback"));
}
