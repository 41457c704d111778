//! What every adapter shares: where its gateway's API is, the client that calls it, and
//! the two errors every answer can turn into.

use std::{fmt, sync::OnceLock};

use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::wire;
use crate::{
    ConfigError, Error, GatewayId, HttpClient,
    error::{GatewayCode, GatewayError, Operation},
    http::RawResponse,
};

/// One gateway API: its base URL, the merchant's credential and the HTTP client, for one
/// gateway's calls and errors.
///
/// Built with the gateway's documented base URL, so an adapter's `new` cannot fail; a
/// base URL given later that does not parse is refused by the adapter's setter.
#[derive(Clone)]
pub(crate) struct Api {
    gateway: GatewayId,
    /// What the base URL is called in configuration errors ("NovinPal base URL").
    what: &'static str,
    base: Result<Url, ConfigError>,
    credential: Option<SecretString>,
    http: LazyHttp,
}

// The credential is a secret: never printed.
impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base_url", &self.base_url())
            .field(
                "credential",
                &self.credential.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A request body.
pub(crate) enum Body<'a> {
    /// Sent as `application/json`.
    Json(&'a Value),
    /// Sent as `application/x-www-form-urlencoded`, encoded once for every attempt.
    Form(String),
}

impl Body<'_> {
    /// A form body with these fields.
    pub(crate) fn form(fields: &[(&str, &str)]) -> Self {
        Body::Form(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish(),
        )
    }
}

impl Api {
    /// The API at `default_base_url` (always a valid URL), for `gateway`.
    pub(crate) fn new(gateway: GatewayId, what: &'static str, default_base_url: &str) -> Self {
        Self {
            gateway,
            what,
            base: base_url(default_base_url, what),
            credential: None,
            http: LazyHttp::default(),
        }
    }

    /// The API with the merchant's credential (API key, merchant code, token).
    pub(crate) fn with_credential(mut self, credential: impl Into<String>) -> Self {
        self.set_credential(credential);
        self
    }

    /// Sets the merchant's credential.
    pub(crate) fn set_credential(&mut self, credential: impl Into<String>) {
        self.credential = Some(SecretString::from(credential.into()));
    }

    /// The credential, for the request that must carry it.
    pub(crate) fn credential(&self) -> Option<&str> {
        self.credential.as_ref().map(ExposeSecret::expose_secret)
    }

    /// A gateway's own text for an error (a JSON string), shortened, with the credential
    /// cut out should the gateway ever echo it back.
    pub(crate) fn message(&self, value: Option<&Value>) -> Option<String> {
        wire::message(value, self.credential())
    }

    /// Points the API at another base URL; paths are joined to it, a path in it is kept.
    pub(crate) fn set_base_url(&mut self, url: &str) -> Result<(), ConfigError> {
        self.base = Ok(base_url(url, self.what)?);
        Ok(())
    }

    /// Points the API back at one of its gateway's own base URLs (always a valid URL).
    pub(crate) fn set_default_base_url(&mut self, url: &str) {
        self.base = base_url(url, self.what);
    }

    /// Uses this HTTP client.
    pub(crate) fn set_http(&mut self, http: HttpClient) {
        self.http = LazyHttp::given(http);
    }

    /// The base URL, for `Debug`.
    pub(crate) fn base_url(&self) -> Option<&str> {
        self.base.as_ref().map(Url::as_str).ok()
    }

    /// The base URL itself.
    pub(crate) fn base(&self) -> Result<&Url, Error> {
        self.base.as_ref().map_err(|e| Error::Config(e.clone()))
    }

    /// The base URL joined with `path` (relative, no leading slash).
    pub(crate) fn url(&self, path: &str) -> Result<Url, Error> {
        let base = self.base()?;
        // `base` ends with '/', so `path` is added after its own path.
        base.join(path.trim_start_matches('/'))
            .map_err(|_| Error::Config(ConfigError::InvalidUrl { what: self.what }))
    }

    /// `POST`s `body` to `path` and reads the whole answer.
    pub(crate) async fn post(
        &self,
        operation: Operation,
        path: &str,
        body: Body<'_>,
    ) -> Result<RawResponse, Error> {
        self.post_with(operation, path, body, |request| request)
            .await
    }

    /// `POST`s `body` to `path`, with whatever `extra` adds to each attempt (headers), and
    /// reads the whole answer.
    pub(crate) async fn post_with(
        &self,
        operation: Operation,
        path: &str,
        body: Body<'_>,
        extra: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder + Send + Sync,
    ) -> Result<RawResponse, Error> {
        let url = self.url(path)?;
        let http = self.http.get()?;
        let raw = http
            .send(self.gateway, operation, |client| {
                let request = client.post(url.clone());
                let request = match &body {
                    Body::Json(value) => request.json(value),
                    Body::Form(form) => request
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(form.clone()),
                };
                extra(request)
            })
            .await?;
        Ok(raw)
    }

    /// The gateway's refusal, with its code and message; the HTTP status is kept where it
    /// is not 200 (the answers' usual status).
    pub(crate) fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        code: GatewayCode,
        message: Option<String>,
    ) -> Error {
        Error::Gateway(GatewayError {
            gateway: self.gateway,
            operation,
            code,
            http_status: (raw.status != 200).then_some(raw.status),
            message,
        })
    }

    /// The error for an answer that matches no documented shape.
    pub(crate) fn malformed(&self, operation: Operation, raw: &RawResponse) -> Error {
        raw.unexpected(self.gateway, operation).into()
    }
}

/// Parses a configured base URL and makes sure joining a path to it keeps its own path
/// (a trailing slash is added).
fn base_url(url: &str, what: &'static str) -> Result<Url, ConfigError> {
    let mut parsed = Url::parse(url).map_err(|_| ConfigError::InvalidUrl { what })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(ConfigError::InvalidUrl { what });
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

/// An adapter's HTTP client: the one given with `with_http`, or else one with
/// [`HttpConfig::default`](crate::HttpConfig) timeouts, built on first use.
///
/// Building lazily is what lets every adapter's `new` return `Self`: a client that cannot
/// be built (the TLS backend failed to start) surfaces on the first call as
/// [`ConfigError::HttpClient`]. Each adapter builds its own default client, so adapters
/// made on different Tokio runtimes never share pooled connections.
#[derive(Clone, Default)]
struct LazyHttp(OnceLock<Result<HttpClient, ConfigError>>);

impl LazyHttp {
    fn given(http: HttpClient) -> Self {
        Self(OnceLock::from(Ok(http)))
    }

    fn get(&self) -> Result<&HttpClient, ConfigError> {
        self.0
            .get_or_init(HttpClient::with_defaults)
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_their_path() {
        let mut api = Api::new(GatewayId::IdPay, "IDPay base URL", "https://api.idpay.ir/");
        api.set_base_url("http://127.0.0.1:8085/idpay").unwrap();
        assert_eq!(
            api.url("v1.1/payment/verify").unwrap().as_str(),
            "http://127.0.0.1:8085/idpay/v1.1/payment/verify"
        );
        assert_eq!(api.base_url(), Some("http://127.0.0.1:8085/idpay/"));
        assert!(api.set_base_url("ftp://x").is_err());
        assert!(api.set_base_url("not a url").is_err());
    }
}
