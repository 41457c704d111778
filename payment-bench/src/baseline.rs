//! The baseline: what a shop writes by hand without this library. The same endpoints as
//! the router app, against the same sandbox, with a `reqwest` client configured like the
//! library's (same timeouts, no redirects; [`NovinPalByHand`]), and nothing else:
//!
//! - `GET /buy`: NovinPal create (`invoice/request`), then 302 to the payment page. No
//!   state is kept anywhere (the library keeps none on the server either: its state is the
//!   signed cookie).
//! - `GET /pay/callback/novinpal?refId=…`: NovinPal verify (`invoice/verify`) with the
//!   `refId` from the query string; `status: 1` answers "paid". No signed state, no check
//!   that the callback belongs to this buyer, no replay guard, no amount comparison.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use axum::{
    Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{ServeArgs, by_hand::NovinPalByHand};

struct Baseline {
    novinpal: NovinPalByHand,
    next: AtomicU64,
}

/// The app: `GET /buy` and `GET /pay/callback/novinpal`.
pub(crate) fn app(serve: &ServeArgs) -> Result<Router, Box<dyn std::error::Error>> {
    let state = Arc::new(Baseline {
        novinpal: NovinPalByHand::new(serve)?,
        next: AtomicU64::new(1),
    });
    Ok(Router::new()
        .route("/buy", get(buy))
        .route("/pay/callback/novinpal", get(callback))
        .with_state(state))
}

async fn buy(State(app): State<Arc<Baseline>>) -> Response {
    let id = format!("B-{}", app.next.fetch_add(1, Ordering::Relaxed));
    match app.novinpal.create(&id).await {
        Some(ref_id) => (
            StatusCode::FOUND,
            [(header::LOCATION, app.novinpal.start_url(&ref_id))],
        )
            .into_response(),
        None => (StatusCode::BAD_GATEWAY, "could not start the payment").into_response(),
    }
}

#[derive(Deserialize)]
struct Callback {
    #[serde(rename = "refId")]
    ref_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyAnswer {
    status: i64,
    order_id: Option<String>,
}

async fn callback(State(app): State<Arc<Baseline>>, Query(cb): Query<Callback>) -> Response {
    match app.novinpal.verify::<VerifyAnswer>(&cb.ref_id).await {
        Ok(VerifyAnswer {
            status: 1,
            order_id: Some(order_id),
        }) => format!("paid {order_id}").into_response(),
        Ok(_) => (StatusCode::PAYMENT_REQUIRED, "not paid").into_response(),
        Err(_) => (StatusCode::BAD_GATEWAY, "gateway unavailable").into_response(),
    }
}
