//! The shop's routes: pages, checkout, the payment callbacks (through
//! [`PaymentRouter`]) and "check again" for pending payments.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use payment_axum::{
    PaymentRouter,
    payment_core::{
        AccountId, FailedPayment, GatewayId, NotPaid, Order, OrderId, Payments, PendingPayment,
        Receipt, Rejection,
        ledger::{PaymentRecord, PaymentStatus},
    },
    start,
};
use serde::Deserialize;

use crate::{
    access::{Access, Admin, BuyerSession, SameOrigin},
    catalog,
    config::Mode,
    db::{Db, DbError, OrderRow, PaidResult, Status},
    pages::{self, Note, View},
};

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The orders database.
    pub db: Db,
    /// The payment service (all configured gateways).
    pub payments: Payments,
    /// Sandbox or live.
    pub mode: Mode,
    /// The sandbox's admin page, shown in the sandbox banner.
    pub sandbox_admin: Option<Arc<str>>,
    /// Buyer sessions, the admin password and the shop's origin.
    pub access: Access,
    /// How many callbacks were refused, by kind, since start (shown to the admin).
    pub refusals: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl AppState {
    fn admin(&self) -> Option<&str> {
        self.sandbox_admin.as_deref()
    }

    /// The ledger's records of an order's payments; none if the ledger cannot be read
    /// (the page still shows the order).
    async fn payment_history(&self, order_id: &str) -> Vec<PaymentRecord> {
        let (Some(ledger), Ok(order_id)) = (self.payments.ledger(), order_id.parse::<OrderId>())
        else {
            return Vec::new();
        };
        ledger.for_order(&order_id).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the payment ledger");
            Vec::new()
        })
    }

    fn page(&self, status: StatusCode, html: String) -> Response {
        let mut response = (status, Html(html)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    fn message(&self, status: StatusCode, title: (&str, &str), text: (&str, &str)) -> Response {
        self.page(status, pages::message(title, text, self.mode, self.admin()))
    }

    fn db_error(&self, e: &DbError) -> Response {
        tracing::error!(error = %e, "database error");
        self.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            ("خطای فروشگاه", "Shop error"),
            (
                "ثبت اطلاعات انجام نشد. لطفا کمی بعد دوباره تلاش کنید.",
                "The shop could not save your order. Please try again shortly.",
            ),
        )
    }

    fn not_found(&self) -> Response {
        self.message(
            StatusCode::NOT_FOUND,
            ("پیدا نشد", "Not found"),
            (
                "صفحه‌ای که خواستید وجود ندارد.",
                "The page you asked for does not exist.",
            ),
        )
    }
}

/// Every route of the shop, with the payment callbacks mounted at `/pay`.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .route("/", get(home))
        .route("/products/{slug}", get(product_page))
        .route("/checkout", post(checkout))
        .route("/orders", get(orders))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/check", post(check_again))
        .route("/admin", get(admin_orders))
        .route("/admin/orders/{id}", get(admin_order_page))
        .route("/admin/orders/{id}/check", post(admin_check_again))
        .route("/admin/orders/{id}/refund", post(admin_refund))
        .fallback(not_found)
        .with_state(state.clone());
    let (paid, failed, pending, rejected) =
        (state.clone(), state.clone(), state.clone(), state.clone());
    PaymentRouter::new(state.payments.clone())
        .on_paid(move |receipt: Receipt| {
            let state = paid.clone();
            async move { paid_page(&state, &receipt).await }
        })
        .on_failed(move |failed_payment: FailedPayment| {
            let state = failed.clone();
            async move { record_failed(&state, &failed_payment).await }
        })
        .on_pending(move |pending_payment: PendingPayment| {
            let state = pending.clone();
            async move { record_pending(&state, &pending_payment).await }
        })
        .on_rejected(move |rejection: Rejection| {
            let state = rejected.clone();
            async move { refused(&state, &rejection) }
        })
        .mount(app)
}

async fn not_found(State(state): State<AppState>) -> Response {
    state.not_found()
}

async fn home(State(state): State<AppState>) -> Response {
    state.page(StatusCode::OK, pages::home(state.mode, state.admin()))
}

async fn product_page(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let Some(product) = catalog::product(&slug) else {
        return state.not_found();
    };
    let gateways: Vec<GatewayId> = state.payments.accounts().map(AccountId::gateway).collect();
    state.page(
        StatusCode::OK,
        pages::checkout(product, &gateways, None, state.mode, state.admin()),
    )
}

/// The checkout form.
#[derive(Debug, Deserialize)]
pub struct CheckoutForm {
    /// The product's slug.
    pub product: String,
    /// The gateway's lowercase name.
    pub gateway: String,
}

/// A fresh order id: `SH` and ten letters or digits (every gateway takes these).
pub fn new_order_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 10];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness at all is a broken host; fall back to the clock so the shop works.
        let nanos = time::OffsetDateTime::now_utc()
            .unix_timestamp_nanos()
            .to_le_bytes();
        bytes.copy_from_slice(&nanos[..10]);
    }
    let tail: String = bytes
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
        .map(|&c| char::from(c))
        .collect();
    format!("SH{tail}")
}

async fn checkout(
    State(state): State<AppState>,
    _: SameOrigin,
    buyer: BuyerSession,
    Form(form): Form<CheckoutForm>,
) -> Response {
    let Some(product) = catalog::product(&form.product) else {
        return state.not_found();
    };
    let gateways: Vec<GatewayId> = state.payments.accounts().map(AccountId::gateway).collect();
    let Some(gateway) = form
        .gateway
        .parse::<GatewayId>()
        .ok()
        .filter(|g| state.payments.is_configured(*g))
    else {
        return state.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::checkout(
                product,
                &gateways,
                Some((
                    "لطفا یکی از درگاه‌های فهرست را انتخاب کنید.",
                    "Please choose one of the listed gateways.",
                )),
                state.mode,
                state.admin(),
            ),
        );
    };
    let Ok((buyer, jar)) = buyer.ensure() else {
        return state.db_error(&DbError::Corrupt("no randomness for a session".to_owned()));
    };
    let id = new_order_id();
    let order_id = match OrderId::new(id.clone()) {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "generated an invalid order id");
            return state.db_error(&DbError::Corrupt(e.to_string()));
        }
    };
    if let Err(e) = state
        .db
        .create_order(&id, &buyer, product.slug, product.price, gateway)
        .await
    {
        return state.db_error(&e);
    }
    // The amount comes from the catalogue on the server, never from the form.
    // Every checkout makes a new order, so this is its first payment: said, it spares the
    // ledger a read.
    let order = Order::new(order_id, product.price)
        .with_description(format!("{} / {}", product.name_fa, product.name_en))
        .with_attempt(1);
    match start(&state.payments, gateway, &order).await {
        Ok(started) => match state.db.mark_awaiting(&id, started.gateway_ref()).await {
            Ok(true) => (jar, started.into_response()).into_response(),
            Ok(false) => state.db_error(&DbError::Corrupt(format!(
                "order {id} left 'created' before its payment started"
            ))),
            Err(e) => {
                let _ = state
                    .db
                    .mark_failed(
                        &id,
                        "مرجع پرداخت تکراری بود\nThe payment reference was already used",
                    )
                    .await;
                state.db_error(&e)
            }
        },
        Err(e) => {
            let (fa, en) = e.buyer_message();
            if let Err(db) = state
                .db
                .mark_failed(
                    &id,
                    &format!("پرداخت آغاز نشد: {fa}\nThe payment could not be started: {en}"),
                )
                .await
            {
                tracing::error!(error = %db, "could not record the failed start");
            }
            state.page(
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_GATEWAY),
                pages::checkout(
                    product,
                    &gateways,
                    Some((&fa, &en)),
                    state.mode,
                    state.admin(),
                ),
            )
        }
    }
}

fn to_order(id: &str) -> Response {
    Redirect::to(&format!("/orders/{id}")).into_response()
}

/// The `on_paid` hook: the only place an order becomes paid, from a verified receipt.
/// The payment service's fulfilment hook: marks the order paid. Called once per verified
/// payment, whichever way it was verified (the buyer's return, "check again", the
/// reconciler). The update is conditional, so a second call changes nothing.
pub async fn fulfil(db: Db, receipt: Receipt) -> Result<(), DbError> {
    let id = receipt.order_id().as_str();
    match db.mark_paid(&receipt).await? {
        PaidResult::NowPaid => {
            tracing::info!(order = id, gateway = %receipt.gateway(), "order paid");
        }
        PaidResult::AlreadyPaid => {}
        PaidResult::NoMatchingOrder => {
            // Verified at the gateway, but no order awaits it: settle it by hand.
            tracing::error!(
                receipt = %serde_json::to_string(&receipt).unwrap_or_default(),
                "a verified payment matches no payable order; reconcile it by hand"
            );
        }
    }
    Ok(())
}

/// The reconciler's hook for a payment never confirmed within its gateway's window: the
/// order is not paid.
pub async fn expired(db: Db, record: PaymentRecord) {
    let reason = "مهلت پرداخت تمام شد و درگاه پرداختی را تایید نکرد\nThe payment window closed and the gateway confirmed no payment";
    match db.mark_failed(record.order_id.as_str(), reason).await {
        Ok(true) => tracing::info!(order = %record.order_id, "unpaid order expired"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, order = %record.order_id, "could not expire an order"),
    }
}

/// The buyer's answer to a verified payment, which [`fulfil`] has recorded already.
async fn paid_page(state: &AppState, receipt: &Receipt) -> Response {
    let id = receipt.order_id().as_str();
    match state.db.order(id).await {
        Ok(Some(order)) if order.status == Status::Paid => to_order(id),
        Ok(_) => state.message(
            StatusCode::CONFLICT,
            ("پرداخت دریافت شد، سفارش پیدا نشد", "Payment received, order not found"),
            (
                "پرداخت شما تایید شد اما به سفارشی که منتظر پرداخت باشد نمی‌خورد. با پشتیبانی تماس بگیرید؛ مبلغ بازگردانده یا سفارش ثبت می‌شود.",
                "Your payment was confirmed but matches no order awaiting payment. Please contact support: the order will be settled or the money returned.",
            ),
        ),
        Err(e) => state.db_error(&e),
    }
}

fn failure_text(failed: &FailedPayment) -> String {
    format!("{}\n{}", failed.reason.persian(), failed.reason.english())
}

async fn record_failed(state: &AppState, failed: &FailedPayment) -> Response {
    match state
        .db
        .mark_failed(failed.order_id.as_str(), &failure_text(failed))
        .await
    {
        Ok(_) => to_order(failed.order_id.as_str()),
        Err(e) => state.db_error(&e),
    }
}

async fn record_pending(state: &AppState, pending: &PendingPayment) -> Response {
    match state.db.mark_pending(pending).await {
        Ok(_) => {
            tracing::warn!(order = %pending.order_id, reason = ?pending.reason, "payment pending");
            to_order(pending.order_id.as_str())
        }
        Err(e) => state.db_error(&e),
    }
}

fn refused(state: &AppState, rejection: &Rejection) -> Response {
    // Routine refusals (reloads, lost cookies, replays) are counted, not warned about.
    if rejection.needs_attention() {
        tracing::warn!(?rejection, "callback refused");
    } else {
        tracing::debug!(?rejection, "callback refused");
    }
    if let Ok(mut counts) = state.refusals.lock() {
        *counts.entry(rejection.kind()).or_default() += 1;
    }
    // The router replaces this 200 with the rejection's own status.
    if *rejection == Rejection::Replay {
        // A return only reaches the claim with its valid state cookie: this is the buyer
        // coming back late (after the reconciler settled the payment) or reloading.
        return state.message(
            StatusCode::OK,
            ("پرداخت قبلا ثبت شده است", "Payment already recorded"),
            (
                "این پرداخت پیش‌تر ثبت شده و دوباره پردازش نمی‌شود. وضعیت سفارش را در فهرست سفارش‌ها ببینید.",
                "This payment was recorded already and is not processed again. See the order's status under Orders.",
            ),
        );
    }
    state.message(
        StatusCode::OK,
        ("درخواست پذیرفته نشد", "Request refused"),
        (rejection.persian(), rejection.english()),
    )
}

async fn orders(State(state): State<AppState>, buyer: BuyerSession) -> Response {
    let list = match buyer.id() {
        Some(id) => state.db.orders_of(id).await,
        None => Ok(Vec::new()),
    };
    match list {
        Ok(list) => state.page(
            StatusCode::OK,
            pages::orders(&list, View::Buyer, state.mode, state.admin()),
        ),
        Err(e) => state.db_error(&e),
    }
}

async fn admin_orders(State(state): State<AppState>, _: Admin) -> Response {
    let refusals: Vec<(&'static str, u64)> = state
        .refusals
        .lock()
        .map(|counts| counts.iter().map(|(k, v)| (*k, *v)).collect())
        .unwrap_or_default();
    match state.db.orders().await {
        Ok(list) => state.page(
            StatusCode::OK,
            pages::admin(&list, &refusals, state.mode, state.admin()),
        ),
        Err(e) => state.db_error(&e),
    }
}

/// The query of the order page.
#[derive(Debug, Deserialize)]
pub struct OrderQuery {
    /// A note to show after "check again".
    pub note: Option<String>,
}

async fn order_page(
    State(state): State<AppState>,
    buyer: BuyerSession,
    Path(id): Path<String>,
    Query(query): Query<OrderQuery>,
) -> Response {
    match state.db.order(&id).await {
        // Someone else's order is "not found": order ids are not to be probed.
        Ok(Some(order)) if buyer.owns(order.buyer.as_deref()) => {
            show_order(&state, order, query.note.as_deref(), View::Buyer).await
        }
        Ok(_) => state.not_found(),
        Err(e) => state.db_error(&e),
    }
}

async fn admin_order_page(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    Query(query): Query<OrderQuery>,
) -> Response {
    match state.db.order(&id).await {
        Ok(Some(order)) => show_order(&state, order, query.note.as_deref(), View::Admin).await,
        Ok(None) => state.not_found(),
        Err(e) => state.db_error(&e),
    }
}

async fn show_order(state: &AppState, order: OrderRow, note: Option<&str>, view: View) -> Response {
    // A check's note only makes sense while the order is still pending, a refund's on a
    // paid order in the admin's view.
    let note = note.and_then(Note::parse).filter(|note| match note {
        Note::Refunded | Note::RefundRefused => order.status == Status::Paid && view == View::Admin,
        _ => order.status == Status::Pending,
    });
    let payments = state.payment_history(&order.id).await;
    let refunded_at = match state.db.refunded_at(&order.id).await {
        Ok(at) => at,
        Err(e) => return state.db_error(&e),
    };
    state.page(
        StatusCode::OK,
        pages::order(
            &order,
            &payments,
            refunded_at,
            note,
            view,
            state.mode,
            state.admin(),
        ),
    )
}

/// The admin refunds a paid order at its gateway (NovinPal, Zarinpal), once.
async fn admin_refund(
    State(state): State<AppState>,
    _: SameOrigin,
    _: Admin,
    Path(id): Path<String>,
) -> Response {
    let order = match state.db.order(&id).await {
        Ok(Some(order)) => order,
        Ok(None) => return state.not_found(),
        Err(e) => return state.db_error(&e),
    };
    match state.db.refunded_at(&id).await {
        Ok(None) => {}
        Ok(Some(_)) => return with_note(View::Admin, &id, Note::Refunded),
        Err(e) => return state.db_error(&e),
    }
    let paid = state
        .payment_history(&id)
        .await
        .into_iter()
        .find(|record| record.status == PaymentStatus::Paid);
    let Some(record) = paid.filter(|_| order.status == Status::Paid) else {
        return with_note(View::Admin, &id, Note::RefundRefused);
    };
    match state.payments.refund(&record).await {
        Ok(()) => match state.db.record_refund(&id).await {
            Ok(_) => with_note(View::Admin, &id, Note::Refunded),
            Err(e) => {
                tracing::error!(order = %id, error = %e, "refunded at the gateway, but not recorded");
                state.db_error(&e)
            }
        },
        Err(e) => {
            tracing::warn!(order = %id, error = %e, "refund refused");
            with_note(View::Admin, &id, Note::RefundRefused)
        }
    }
}

/// "Check again" on the buyer's own order.
async fn check_again(
    State(state): State<AppState>,
    _: SameOrigin,
    buyer: BuyerSession,
    Path(id): Path<String>,
) -> Response {
    match state.db.order(&id).await {
        Ok(Some(order)) if buyer.owns(order.buyer.as_deref()) => {
            check_order(&state, order, View::Buyer).await
        }
        Ok(_) => state.not_found(),
        Err(e) => state.db_error(&e),
    }
}

/// "Check again" from the admin view, on any order.
async fn admin_check_again(
    State(state): State<AppState>,
    _: SameOrigin,
    _: Admin,
    Path(id): Path<String>,
) -> Response {
    match state.db.order(&id).await {
        Ok(Some(order)) => check_order(&state, order, View::Admin).await,
        Ok(None) => state.not_found(),
        Err(e) => state.db_error(&e),
    }
}

/// Verifies a pending payment once more with the stored [`PendingPayment`], and records
/// what the gateway says now.
async fn check_order(state: &AppState, order: OrderRow, view: View) -> Response {
    let id = order.id.as_str();
    let back = |note| with_note(view, id, note);
    let show = || Redirect::to(&format!("{}/{id}", view.orders_path())).into_response();
    if order.status != Status::Pending {
        return show();
    }
    let Some(pending) = order.pending_payment() else {
        tracing::error!(order = %id, "pending order without a readable pending payment");
        return back(Note::CheckFailed);
    };
    match state.payments.retry(&pending).await {
        Ok(receipt) if view == View::Buyer => paid_page(state, &receipt).await,
        Ok(_) => show(),
        Err(NotPaid::Failed(failed)) => match record_failed(state, &failed).await {
            response if view == View::Buyer => response,
            _ => show(),
        },
        Err(NotPaid::Pending(_)) => back(Note::StillPending),
        Err(NotPaid::Rejected(Rejection::InProgress)) => back(Note::InProgress),
        Err(NotPaid::Rejected(Rejection::ExpiredState)) => back(Note::TooLate),
        Err(other) => {
            tracing::warn!(order = %id, refused = ?other, "retry refused");
            back(Note::CheckFailed)
        }
    }
}

fn with_note(view: View, id: &str, note: Note) -> Response {
    Redirect::to(&format!(
        "{}/{id}?note={}",
        view.orders_path(),
        note.as_str()
    ))
    .into_response()
}
