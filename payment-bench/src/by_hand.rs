//! NovinPal called by hand with `reqwest`, as the baseline calls it: a client configured
//! like the library's (same timeouts, no redirects), form data in, JSON out, nothing else.

use std::time::Duration;

use serde::{Deserialize, de::DeserializeOwned};

use crate::{AMOUNT, ServeArgs};

/// The sandbox's NovinPal, with the URLs the baseline uses.
pub(crate) struct NovinPalByHand {
    http: reqwest::Client,
    api_key: &'static str,
    create_url: String,
    verify_url: String,
    start_url: String,
    callback_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAnswer {
    status: i64,
    ref_id: Option<String>,
}

impl NovinPalByHand {
    /// NovinPal at `serve`'s sandbox, calling back to `serve`'s app.
    pub(crate) fn new(serve: &ServeArgs) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let novinpal = serve.novinpal();
        Ok(Self {
            http,
            api_key: payment_sandbox::NOVINPAL_API_KEY,
            create_url: format!("{novinpal}/invoice/request"),
            verify_url: format!("{novinpal}/invoice/verify"),
            start_url: format!("{novinpal}/invoice/start/"),
            callback_url: format!("{}/pay/callback/novinpal", serve.public_url()),
        })
    }

    /// Creates a payment of [`AMOUNT`] for `order_id`: its reference, or `None` when
    /// create did not answer `status: 1` with one.
    pub(crate) async fn create(&self, order_id: &str) -> Option<String> {
        let amount = AMOUNT.to_string();
        let response = self
            .http
            .post(&self.create_url)
            .form(&[
                ("api_key", self.api_key),
                ("amount", &amount),
                ("return_url", &self.callback_url),
                ("order_id", order_id),
            ])
            .send()
            .await
            .ok()?;
        match response.json::<CreateAnswer>().await.ok()? {
            CreateAnswer {
                status: 1,
                ref_id: Some(ref_id),
            } => Some(ref_id),
            _ => None,
        }
    }

    /// Where the buyer pays for `ref_id`.
    pub(crate) fn start_url(&self, ref_id: &str) -> String {
        format!("{}{ref_id}", self.start_url)
    }

    /// Verifies `ref_id`; the answer decoded as `T` (each app reads the fields it needs).
    pub(crate) async fn verify<T: DeserializeOwned>(
        &self,
        ref_id: &str,
    ) -> Result<T, reqwest::Error> {
        self.http
            .post(&self.verify_url)
            .form(&[("api_key", self.api_key), ("ref_id", ref_id)])
            .send()
            .await?
            .json::<T>()
            .await
    }
}
