//! The one HTTP client every adapter shares: rustls, connect and total timeouts on every
//! call, a bounded retry for calls that are safe to repeat, and spans without secrets.

use std::time::Duration;

use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::{
    ConfigError, GatewayId,
    error::{Operation, TransportError, TransportErrorKind},
};

/// Timeouts and retries for gateway calls.
///
/// ```
/// use std::time::Duration;
/// use payment_core::HttpConfig;
/// let cfg = HttpConfig::default()
///     .connect_timeout(Duration::from_secs(3))
///     .timeout(Duration::from_secs(10));
/// assert_eq!(cfg.total_timeout(), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
pub struct HttpConfig {
    connect_timeout: Duration,
    timeout: Duration,
    repeat_attempts: u32,
    user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            repeat_attempts: 2,
            user_agent: concat!("payment-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpConfig {
    /// How long to wait for a connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole call may take, answer included (default 20 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a repeatable call (verify, inquiry) is sent when the connection
    /// fails or the gateway answers 502/503/504 (default 2; 1 means no retry). Timeouts
    /// are not retried: the buyer is waiting, and the payment becomes pending instead.
    pub fn repeat_attempts(mut self, attempts: u32) -> Self {
        self.repeat_attempts = attempts.max(1);
        self
    }

    /// The `User-Agent` header sent to gateways.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The total timeout of one call.
    pub fn total_timeout(&self) -> Duration {
        self.timeout
    }

    /// The longest a repeatable call can take with all its attempts.
    pub fn worst_case(&self) -> Duration {
        self.timeout * self.repeat_attempts + Duration::from_millis(250) * self.repeat_attempts
    }
}

/// A cheap-to-clone HTTP client shared by all gateway adapters.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: HttpConfig,
}

/// A gateway's answer as bytes, before decoding.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    /// Decodes the body as JSON, or reports it as malformed.
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        gateway: GatewayId,
        operation: Operation,
    ) -> Result<T, TransportError> {
        serde_json::from_slice(&self.body).map_err(|e| TransportError {
            gateway,
            operation,
            kind: TransportErrorKind::Malformed(format!(
                "HTTP {} body is not the documented JSON ({})",
                self.status,
                e.classify_name()
            )),
        })
    }

    /// The error for an answer that matches no documented shape.
    pub(crate) fn unexpected(&self, gateway: GatewayId, operation: Operation) -> TransportError {
        let kind = if self.status >= 500 {
            TransportErrorKind::Status(self.status)
        } else {
            TransportErrorKind::Malformed(format!("HTTP {} with an undocumented body", self.status))
        };
        TransportError {
            gateway,
            operation,
            kind,
        }
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "unexpected fields",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

impl HttpClient {
    /// Builds a client with rustls and the given timeouts.
    pub fn new(config: HttpConfig) -> Result<Self, ConfigError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            // Gateways answer API calls directly; a redirect would be a misconfiguration
            // and could carry credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| ConfigError::HttpClient)?;
        Ok(Self { client, config })
    }

    /// The client with default timeouts.
    pub fn with_defaults() -> Result<Self, ConfigError> {
        Self::new(HttpConfig::default())
    }

    /// The timeouts and retries in force.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends the request `build` makes and reads the whole answer. Repeatable operations
    /// are sent again (a fresh request from `build`) after a connection failure or a
    /// 502/503/504, up to the configured attempts.
    pub(crate) async fn send<F>(
        &self,
        gateway: GatewayId,
        operation: Operation,
        build: F,
    ) -> Result<RawResponse, TransportError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let attempts = if operation.is_repeatable() {
            self.config.repeat_attempts
        } else {
            1
        };
        let span = tracing::info_span!("gateway_call", gateway = %gateway, operation = %operation);
        async {
            let mut attempt = 1;
            loop {
                let result = self.send_once(gateway, operation, &build).await;
                let retry = match &result {
                    Err(e) => e.kind == TransportErrorKind::Connect,
                    Ok(r) => matches!(r.status, 502..=504),
                };
                if !retry || attempt >= attempts {
                    return match result {
                        Ok(r) if r.status >= 500 => Err(TransportError {
                            gateway,
                            operation,
                            kind: TransportErrorKind::Status(r.status),
                        }),
                        other => other,
                    };
                }
                tracing::debug!(attempt, "repeating gateway call");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                attempt += 1;
            }
        }
        .instrument(span)
        .await
    }

    async fn send_once<F>(
        &self,
        gateway: GatewayId,
        operation: Operation,
        build: &F,
    ) -> Result<RawResponse, TransportError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let fail = |e: reqwest::Error| TransportError {
            gateway,
            operation,
            kind: classify(&e),
        };
        let response = build(&self.client).send().await.map_err(fail)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(fail)?.to_vec();
        tracing::debug!(status, bytes = body.len(), "gateway answered");
        Ok(RawResponse { status, body })
    }
}

fn classify(e: &reqwest::Error) -> TransportErrorKind {
    if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() || e.is_request() || e.is_body() {
        // A connection dropped mid-answer surfaces as a request or body error.
        TransportErrorKind::Connect
    } else if e.is_decode() {
        TransportErrorKind::Malformed("body could not be read".into())
    } else {
        TransportErrorKind::Other
    }
}
