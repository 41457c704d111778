//! The baseline: what a shop writes by hand without this library. The same endpoints as
//! the router app, against the same sandbox, with a `reqwest` client configured like the
//! library's (same timeouts, no redirects), and nothing else:
//!
//! - `GET /buy`: NovinPal create (`invoice/request`), then 302 to the payment page. No
//!   state is kept anywhere (the library keeps none on the server either: its state is the
//!   signed cookie).
//! - `GET /pay/callback/novinpal?refId=…`: NovinPal verify (`invoice/verify`) with the
//!   `refId` from the query string; `status: 1` answers "paid". No signed state, no check
//!   that the callback belongs to this buyer, no replay guard, no amount comparison.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{AMOUNT, ServeArgs, extra_work::ExtraWork};

struct Baseline {
    http: reqwest::Client,
    api_key: &'static str,
    create_url: String,
    verify_url: String,
    start_url: String,
    callback_url: String,
    next: AtomicU64,
    extra: Option<ExtraWork>,
}

/// The app: `GET /buy` and `GET /pay/callback/novinpal`; with `extra`, every callback
/// also does that much CPU work (calibration only).
pub(crate) fn app(
    serve: &ServeArgs,
    extra: Option<ExtraWork>,
) -> Result<Router, Box<dyn std::error::Error>> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let novinpal = serve.novinpal();
    let state = Arc::new(Baseline {
        http,
        api_key: payment_sandbox::NOVINPAL_API_KEY,
        create_url: format!("{novinpal}/invoice/request"),
        verify_url: format!("{novinpal}/invoice/verify"),
        start_url: format!("{novinpal}/invoice/start/"),
        callback_url: format!("{}/pay/callback/novinpal", serve.public_url()),
        next: AtomicU64::new(1),
        extra,
    });
    Ok(Router::new()
        .route("/buy", get(buy))
        .route("/pay/callback/novinpal", get(callback))
        .with_state(state))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAnswer {
    status: i64,
    ref_id: Option<String>,
}

async fn buy(State(app): State<Arc<Baseline>>) -> Response {
    let id = format!("B-{}", app.next.fetch_add(1, Ordering::Relaxed));
    let amount = AMOUNT.to_string();
    let sent = app
        .http
        .post(&app.create_url)
        .form(&[
            ("api_key", app.api_key),
            ("amount", &amount),
            ("return_url", &app.callback_url),
            ("order_id", &id),
        ])
        .send()
        .await;
    let answer = match sent {
        Ok(response) => response.json::<CreateAnswer>().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(CreateAnswer {
            status: 1,
            ref_id: Some(ref_id),
        }) => (
            StatusCode::FOUND,
            [(header::LOCATION, format!("{}{ref_id}", app.start_url))],
        )
            .into_response(),
        _ => (StatusCode::BAD_GATEWAY, "could not start the payment").into_response(),
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
    if let Some(work) = app.extra {
        work.run();
    }
    let sent = app
        .http
        .post(&app.verify_url)
        .form(&[("api_key", app.api_key), ("ref_id", &cb.ref_id)])
        .send()
        .await;
    let answer = match sent {
        Ok(response) => response.json::<VerifyAnswer>().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(VerifyAnswer {
            status: 1,
            order_id: Some(order_id),
        }) => format!("paid {order_id}").into_response(),
        Ok(_) => (StatusCode::PAYMENT_REQUIRED, "not paid").into_response(),
        Err(_) => (StatusCode::BAD_GATEWAY, "gateway unavailable").into_response(),
    }
}
