//! The shop's servers on a bad day: slow clients are dropped, every answer carries the
//! security headers, cross-site forms are refused (the gateways' returns are not), each
//! buyer sees only their own orders and the all-orders view needs the admin password.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{Answer, Buyer, Options, TempDb, TestShop, buy, simulated};
use payment_axum::payment_core::GatewayId;
use payment_e2e::slow_clients::StalledClients;
use payment_sandbox::{Action, CallbackMethod};
use shop::{ServerLimits, db::Status};

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

async fn shop_with_short_limits(db: &TempDb) -> TestShop {
    let limits = ServerLimits {
        header_read_timeout: HEADER_TIMEOUT,
        request_timeout: REQUEST_TIMEOUT,
        ..ServerLimits::default()
    };
    TestShop::start_with(
        &db.url(),
        Options {
            limits: Some(limits),
            ..Options::default()
        },
    )
    .await
}

#[tokio::test]
async fn slow_clients_are_disconnected_while_others_are_served() {
    let db = TempDb::new("hardening-slow");
    let shop = shop_with_short_limits(&db).await;
    let port = shop.port;

    // A connection that never says a word, half the headers, and all the headers with a
    // tenth of the promised body; then silence.
    let stalled = StalledClients::connect(
        port,
        "/",
        "POST /checkout HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nproduct=te",
    );

    // Meanwhile the shop answers everyone else at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut buyer = Buyer::new(&shop);
    let served = Instant::now();
    let home = buyer.get("/").await;
    assert_eq!(home.status, 200);
    assert!(served.elapsed() < HEADER_TIMEOUT, "{:?}", served.elapsed());

    stalled
        .assert_dropped(HEADER_TIMEOUT, REQUEST_TIMEOUT)
        .await;
    // Nothing was created from the half-sent checkout.
    assert!(shop.db.orders().await.unwrap().is_empty());
}

/// The headers every answer of the shop carries.
fn assert_hardened(what: &str, answer: &Answer) {
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what} ({}): no {name}", answer.status))
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("base-uri 'none'"), "{what}: {csp}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(
        header("referrer-policy"),
        "strict-origin-when-cross-origin",
        "{what}"
    );
    // Served over http: no HSTS, which would lock browsers out of plain-http loopback.
    assert!(answer.headers.get("strict-transport-security").is_none());
}

#[tokio::test]
async fn every_answer_of_the_shop_carries_the_security_headers() {
    let db = TempDb::new("hardening-headers");
    let shop = TestShop::start(&db).await;
    let mut buyer = Buyer::new(&shop);
    let mut answers: Vec<(String, Answer)> = Vec::new();
    for path in [
        "/",
        "/products/tea",
        "/products/none",
        "/orders",
        "/nowhere",
    ] {
        answers.push((format!("GET {path}"), buyer.get(path).await));
    }
    // Checkout's redirect to the gateway, the return, the order page.
    let (id, back) = buy(&shop, &mut buyer, "tea", GatewayId::NovinPal, Action::Pay).await;
    assert_eq!(back.status, 303);
    answers.push(("the callback's redirect".into(), back));
    answers.push((
        "the order page".into(),
        buyer.get(&format!("/orders/{id}")).await,
    ));
    answers.push((
        "check again".into(),
        buyer.post_form(&format!("/orders/{id}/check"), &[]).await,
    ));
    answers.push((
        "a refused callback".into(),
        buyer.get("/pay/callback/novinpal?refId=1&success=1").await,
    ));
    answers.push((
        "a cross-site checkout".into(),
        buyer
            .post_form_with(
                "/checkout",
                &[("product", "tea"), ("gateway", "idpay")],
                &[("origin", "http://evil.example")],
            )
            .await,
    ));
    answers.push(("the admin login".into(), buyer.get("/admin").await));
    let password = shop.admin_password.clone();
    answers.push((
        "the admin view".into(),
        buyer.get_as_admin("/admin", &password).await,
    ));
    answers.push((
        "an admin order".into(),
        buyer
            .get_as_admin(&format!("/admin/orders/{id}"), &password)
            .await,
    ));
    // Inopal's start is the library's auto-submitting page.
    let inopal = buyer.checkout("tea", GatewayId::Inopal).await;
    assert_eq!(inopal.status, 200, "{}", inopal.body);
    assert!(inopal.body.contains("<script>"), "{}", inopal.body);
    let csp = inopal.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'sha256-"),
        "the library's page keeps its own policy: {csp}"
    );
    answers.push(("the auto-submit page".into(), inopal));

    for (what, answer) in &answers {
        assert_hardened(what, answer);
    }
    let statuses: Vec<u16> = answers.iter().map(|(_, a)| a.status).collect();
    for expected in [200, 303, 401, 403, 404] {
        assert!(
            statuses.contains(&expected),
            "no {expected} among {statuses:?}"
        );
    }
}

#[tokio::test]
async fn cross_site_forms_are_refused_but_the_gateways_returns_are_not() {
    let db = TempDb::new("hardening-csrf");
    let shop = TestShop::start(&db).await;
    let mut buyer = Buyer::new(&shop);
    let fields = [("product", "tea"), ("gateway", "novinpal")];

    for headers in [
        &[("origin", "http://evil.example")][..],
        &[("origin", "null")],
        &[("sec-fetch-site", "cross-site")],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://shop.localhost"),
        ],
    ] {
        let refused = buyer.post_form_with("/checkout", &fields, headers).await;
        assert_eq!(refused.status, 403, "{headers:?}: {}", refused.body);
        assert!(
            refused.headers.get("set-cookie").is_none(),
            "{headers:?}: no state or session cookie"
        );
    }
    assert!(shop.db.orders().await.unwrap().is_empty(), "no order made");

    // The shop's own form, as a browser sends it.
    let own = [
        ("origin", shop.base.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let started = buyer.post_form_with("/checkout", &fields, &own).await;
    assert_eq!(started.status, 302, "{}", started.body);
    assert!(started.headers.get("set-cookie").is_some());
    let order = shop.newest_order().await;

    // "Check again" from another site is refused, from the order page it works.
    let check = format!("/orders/{}/check", order.id);
    let refused = buyer
        .post_form_with(&check, &[], &[("origin", "http://evil.example")])
        .await;
    assert_eq!(refused.status, 403);
    let checked = buyer.post_form_with(&check, &[], &own).await;
    assert_eq!(checked.status, 303, "{}", checked.body);

    // A gateway's POST return is cross-site by nature and is served: Inopal's return,
    // from the sandbox's origin, gets the library's same-origin re-post page.
    let inopal = buyer
        .post_form_with(
            "/checkout",
            &[("product", "tea"), ("gateway", "inopal")],
            &own,
        )
        .await;
    assert_eq!(inopal.status, 200);
    let order = shop.newest_order().await;
    let cb = shop.act(GatewayId::Inopal, &order.id, Action::Pay);
    assert_eq!(cb.method, CallbackMethod::Post);
    let fields: Vec<(&str, &str)> = cb
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The browser sends it without the SameSite=Lax cookies, from the sandbox's origin,
    // and gets the library's same-origin re-post page; the re-post carries the cookies.
    let sandbox_origin = shop.sandbox_url.trim_end_matches('/').to_owned();
    let returned = Buyer::new(&shop)
        .post_form_with(
            &cb.url,
            &fields,
            &[
                ("origin", sandbox_origin.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(returned.status, 200, "{}", returned.body);
    assert!(
        returned.body.contains("_payment_resubmit"),
        "{}",
        returned.body
    );
    let mut reposted = fields.clone();
    reposted.push(("_payment_resubmit", "1"));
    let paid = buyer.post_form_with(&cb.url, &reposted, &own).await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(shop.order(&order.id).await.status, Status::Paid);
}

#[tokio::test]
async fn a_buyer_sees_only_their_own_orders_and_the_admin_view_needs_the_password() {
    let db = TempDb::new("hardening-who");
    let shop = TestShop::start(&db).await;
    let mut alice = Buyer::new(&shop);
    let mut bob = Buyer::new(&shop);
    let (alices, back) = buy(&shop, &mut alice, "tea", GatewayId::IdPay, Action::Pay).await;
    assert_eq!(back.status, 303);
    let (bobs, _) = buy(&shop, &mut bob, "saffron", GatewayId::CanPay, Action::Pay).await;
    assert_eq!(shop.order(&alices).await.status, Status::Paid);
    let reference = shop.order(&alices).await.bank_reference.unwrap();

    let own = alice.get(&format!("/orders/{alices}")).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains(&reference));
    let list = alice.get("/orders").await;
    assert!(
        list.body.contains(&alices) && !list.body.contains(&bobs),
        "{}",
        list.body
    );

    // Someone else's order does not exist, for reading and for "check again" alike.
    let theirs = bob.get(&format!("/orders/{alices}")).await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.body.contains(&reference));
    let check = bob.post_form(&format!("/orders/{alices}/check"), &[]).await;
    assert_eq!(check.status, 404);
    let list = bob.get("/orders").await;
    assert!(list.body.contains(&bobs) && !list.body.contains(&alices));
    // A browser with no session sees nothing either.
    let mut stranger = Buyer::new(&shop);
    assert_eq!(stranger.get(&format!("/orders/{bobs}")).await.status, 404);
    // A forged session cookie is no session.
    stranger.jar.push((
        "shop_buyer".into(),
        alice.jar_value("shop_buyer").unwrap()[..10].into(),
    ));
    assert_eq!(stranger.get(&format!("/orders/{alices}")).await.status, 404);

    // The all-orders view: the password, and nothing less.
    for answer in [
        stranger.get("/admin").await,
        stranger.get_as_admin("/admin", "not-the-password").await,
        stranger.get(&format!("/admin/orders/{alices}")).await,
        stranger
            .get_as_admin(&format!("/admin/orders/{alices}"), "")
            .await,
    ] {
        assert_eq!(answer.status, 401);
        assert!(answer.headers.get("www-authenticate").is_some());
        assert!(!answer.body.contains(&alices));
    }
    let password = shop.admin_password.clone();
    let admin = stranger.get_as_admin("/admin", &password).await;
    assert_eq!(admin.status, 200);
    assert!(admin.body.contains(&alices) && admin.body.contains(&bobs));
    let detail = stranger
        .get_as_admin(&format!("/admin/orders/{alices}"), &password)
        .await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains(&reference));
    let txn = shop
        .sandbox
        .find_by_order_id(simulated(GatewayId::IdPay), &alices)
        .unwrap();
    assert_eq!(txn.successful_verifies, 1);
}

#[tokio::test]
async fn the_admin_refunds_a_paid_order_once_where_the_gateway_can() {
    let db = TempDb::new("hardening-refund");
    let shop = TestShop::start(&db).await;
    let password = shop.admin_password.clone();
    let mut buyer = Buyer::new(&shop);
    let (id, _) = buy(&shop, &mut buyer, "tea", GatewayId::NovinPal, Action::Pay).await;
    assert_eq!(shop.order(&id).await.status, Status::Paid);
    let page = format!("/admin/orders/{id}");
    let refund = format!("{page}/refund");

    // Only the admin sees the button, and only the admin's same-origin post refunds.
    assert!(
        !buyer
            .get(&format!("/orders/{id}"))
            .await
            .body
            .contains("id=\"refund\"")
    );
    assert!(
        buyer
            .get_as_admin(&page, &password)
            .await
            .body
            .contains("id=\"refund\"")
    );
    assert_eq!(buyer.post_form(&refund, &[]).await.status, 401);
    let cross_site = buyer
        .post_form_with(&refund, &[], &[("origin", "http://evil.example")])
        .await;
    assert_eq!(cross_site.status, 403);
    let txn = || {
        shop.sandbox
            .find_by_order_id(simulated(GatewayId::NovinPal), &id)
            .unwrap()
    };
    assert_eq!(txn().reversed_at, None);

    let done = buyer.post_as_admin(&refund, &password).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.location(),
        Some(format!("{page}?note=refunded").as_str())
    );
    assert!(txn().reversed_at.is_some(), "reversed at the gateway");
    let shown = buyer
        .get_as_admin(&format!("{page}?note=refunded"), &password)
        .await;
    assert!(shown.body.contains("id=\"refunded\"") && !shown.body.contains("id=\"refund\""));
    assert!(shown.body.contains("data-note=\"refunded\""));
    // Once: a second post changes nothing and sends nothing.
    let reversed_at = txn().reversed_at;
    let again = buyer.post_as_admin(&refund, &password).await;
    assert_eq!(
        again.location(),
        Some(format!("{page}?note=refunded").as_str())
    );
    assert_eq!(txn().reversed_at, reversed_at);

    // A gateway without refunds: no button, and a post is refused with a note.
    let (other, _) = buy(&shop, &mut buyer, "tea", GatewayId::IdPay, Action::Pay).await;
    let other_page = format!("/admin/orders/{other}");
    assert!(
        !buyer
            .get_as_admin(&other_page, &password)
            .await
            .body
            .contains("id=\"refund\"")
    );
    let refused = buyer
        .post_as_admin(&format!("{other_page}/refund"), &password)
        .await;
    assert_eq!(
        refused.location(),
        Some(format!("{other_page}?note=refund_refused").as_str())
    );
}
