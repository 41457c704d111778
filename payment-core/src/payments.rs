//! The framework-neutral payment pipeline: start a payment, and turn a callback into a
//! verified receipt (or a typed reason why not).

use std::{collections::BTreeMap, fmt, sync::Arc, time::Duration as StdDuration};

use compact_str::CompactString;
use time::Duration;
use tracing::Instrument;
use url::Url;

use crate::{
    CallbackData, CallbackMethod, CallbackRequest, CallbackStatus, Clock, ConfigError, Created,
    DynGateway, Error, Gateway, GatewayId, KeyRing, MAX_ENCODED_LEN, MemoryReplayGuard, Operation,
    Order, OrderState, Receipt, Redirect, ReplayGuard, Rial, SameSite, StateCodec, StateCookie,
    SystemClock, TransportError, TransportErrorKind,
    codec::StateError,
    outcome::{
        CallbackResult, FailedPayment, FailureReason, Outcome, PendingPayment, PendingReason,
        Rejection, ResubmitForm,
    },
    replay::{Claim, ClaimTicket},
};

/// The form field that marks a callback we re-posted ourselves (see
/// [`Outcome::Resubmit`]); a second arrival without the cookie is then refused instead of
/// re-posted again.
pub const RESUBMIT_FIELD: &str = "_payment_resubmit";

/// The shared payment service: configured gateways, signing keys, replay guard and
/// cookie settings. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), payment_core::Error> {
/// use payment_core::*;
/// let http = HttpClient::with_defaults()?;
/// let payments = Payments::builder()
///     .public_base_url("https://shop.example")?
///     .mount_path("/pay")
///     .signing_keys(KeyRing::new(SigningKey::from_base64(1, &std::env::var("PAYMENT_KEY").unwrap())?))
///     .gateway(NovinPal::new("my-api-key").with_http(http.clone()))
///     .build()?;
/// let started = payments
///     .start(GatewayId::NovinPal, &Order::new("A-1".parse().unwrap(), Rial::new(120_000)))
///     .await?;
/// // Send `started.cookie` as Set-Cookie and the buyer to `started.redirect`.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
}

struct Inner {
    gateways: BTreeMap<GatewayId, Arc<dyn DynGateway>>,
    codec: StateCodec,
    guard: Arc<dyn ReplayGuard>,
    clock: Arc<dyn Clock>,
    public_base_url: Url,
    mount_path: String,
    secure_cookies: bool,
    state_ttl: Duration,
    pending_window: Duration,
    verify_lease: StdDuration,
    /// Per gateway, in [`GatewayId::ALL`] order: built once, read on every callback.
    routes: [Route; 5],
    /// The `Path` attribute of state cookies.
    cookie_path: String,
}

/// Where one gateway's callbacks arrive, and its state cookies' name prefix.
struct Route {
    url: Url,
    path: String,
    cookie_prefix: String,
}

impl Route {
    fn new(
        gateway: GatewayId,
        public_base_url: &Url,
        mount_path: &str,
        cookie_prefix: &str,
    ) -> Self {
        let path = format!("{mount_path}/callback/{}", gateway.as_str());
        let mut url = public_base_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url.set_query(None);
        Self {
            url,
            path,
            cookie_prefix: format!("{cookie_prefix}{}_", gateway.as_str()),
        }
    }
}

impl fmt::Debug for Payments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payments")
            .field("gateways", &self.inner.gateways.keys().collect::<Vec<_>>())
            .field("public_base_url", &self.inner.public_base_url.as_str())
            .field("mount_path", &self.inner.mount_path)
            .field("secure_cookies", &self.inner.secure_cookies)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Payments`]; see [`Payments::builder`].
pub struct PaymentsBuilder {
    gateways: BTreeMap<GatewayId, Arc<dyn DynGateway>>,
    keys: Option<KeyRing>,
    guard: Option<Arc<dyn ReplayGuard>>,
    clock: Arc<dyn Clock>,
    public_base_url: Option<Url>,
    mount_path: String,
    cookie_prefix: String,
    secure_cookies: Option<bool>,
    state_ttl: Duration,
    pending_window: Duration,
    verify_lease: StdDuration,
}

impl Payments {
    /// A builder with the defaults: mount path `/pay`, state valid for 30 minutes, pending
    /// payments retryable for 24 hours, in-memory replay guard, system clock.
    pub fn builder() -> PaymentsBuilder {
        PaymentsBuilder {
            gateways: BTreeMap::new(),
            keys: None,
            guard: None,
            clock: Arc::new(SystemClock),
            public_base_url: None,
            mount_path: "/pay".to_owned(),
            cookie_prefix: "pay_".to_owned(),
            secure_cookies: None,
            state_ttl: Duration::minutes(30),
            pending_window: Duration::hours(24),
            verify_lease: StdDuration::from_secs(120),
        }
    }
}

impl PaymentsBuilder {
    /// The shop's public origin as buyers reach it, e.g. `https://shop.example`. Callback
    /// URLs are built from it, and cookies are `Secure` when it is `https`.
    pub fn public_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        let parsed = Url::parse(url).map_err(|_| ConfigError::InvalidUrl {
            what: "public base URL",
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
            return Err(ConfigError::InvalidUrl {
                what: "public base URL",
            });
        }
        self.public_base_url = Some(parsed);
        Ok(self)
    }

    /// Where the payment routes are mounted in the app (default `/pay`). Callbacks arrive
    /// at `{mount_path}/callback/{gateway}`.
    pub fn mount_path(mut self, path: &str) -> Self {
        self.mount_path = normalise_path(path);
        self
    }

    /// The keys that sign order states. Required.
    pub fn signing_keys(mut self, keys: KeyRing) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Adds a gateway (a later one with the same id replaces an earlier one).
    pub fn gateway<G: Gateway>(mut self, gateway: G) -> Self {
        self.gateways.insert(G::ID, Arc::new(gateway));
        self
    }

    /// Adds a gateway chosen at run time.
    pub fn dyn_gateway(mut self, gateway: Arc<dyn DynGateway>) -> Self {
        self.gateways.insert(gateway.id(), gateway);
        self
    }

    /// Where claims live; share one across instances (default: in memory).
    pub fn replay_guard(mut self, guard: impl ReplayGuard) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// Shares an existing guard.
    pub fn shared_replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The clock (tests move a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a started payment may take before its state expires (default 30 minutes).
    pub fn state_ttl(mut self, ttl: StdDuration) -> Self {
        self.state_ttl = Duration::try_from(ttl).unwrap_or(Duration::minutes(30));
        self
    }

    /// How long after start a pending payment may still be retried (default 24 hours).
    pub fn pending_window(mut self, window: StdDuration) -> Self {
        self.pending_window = Duration::try_from(window).unwrap_or(Duration::hours(24));
        self
    }

    /// How long one verify may hold its claim before another request may try (default
    /// 2 minutes; keep it above the HTTP client's worst case).
    pub fn verify_lease(mut self, lease: StdDuration) -> Self {
        self.verify_lease = lease;
        self
    }

    /// The prefix of state cookie names (default `pay_`).
    pub fn cookie_prefix(mut self, prefix: &str) -> Self {
        self.cookie_prefix = prefix.to_owned();
        self
    }

    /// Forces the `Secure` attribute on or off (default: on exactly when the public base
    /// URL is `https`).
    pub fn secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = Some(secure);
        self
    }

    /// Checks the configuration and builds the service.
    pub fn build(self) -> Result<Payments, ConfigError> {
        let keys = self.keys.ok_or(ConfigError::MissingSigningKey)?;
        let public_base_url = self.public_base_url.ok_or(ConfigError::InvalidUrl {
            what: "public base URL (not set)",
        })?;
        if self.gateways.is_empty() {
            return Err(ConfigError::Invalid("no gateway is configured"));
        }
        if self.cookie_prefix.is_empty()
            || !self
                .cookie_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ConfigError::Invalid(
                "cookie prefix must be letters, digits, '_' or '-'",
            ));
        }
        let secure_cookies = self
            .secure_cookies
            .unwrap_or(public_base_url.scheme() == "https");
        let route = |g| Route::new(g, &public_base_url, &self.mount_path, &self.cookie_prefix);
        let routes = [
            route(GatewayId::IdPay),
            route(GatewayId::NovinPal),
            route(GatewayId::Inopal),
            route(GatewayId::CanPay),
            route(GatewayId::GardeshPay),
        ];
        let cookie_path = format!(
            "{}{}/callback",
            public_base_url.path().trim_end_matches('/'),
            self.mount_path
        );
        Ok(Payments {
            inner: Arc::new(Inner {
                gateways: self.gateways,
                codec: StateCodec::new(keys),
                guard: self
                    .guard
                    .unwrap_or_else(|| Arc::new(MemoryReplayGuard::new())),
                clock: self.clock,
                public_base_url,
                mount_path: self.mount_path,
                secure_cookies,
                state_ttl: self.state_ttl,
                pending_window: self.pending_window,
                verify_lease: self.verify_lease,
                routes,
                cookie_path,
            }),
        })
    }
}

fn normalise_path(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

/// A started payment: the cookie to set and where to send the buyer.
#[derive(Debug, Clone)]
pub struct StartedPayment {
    /// Where to send the buyer (a 302 for [`Redirect::Get`], an auto-submitting page for
    /// [`Redirect::PostForm`]).
    pub redirect: Redirect,
    /// The signed order state, to set on the response.
    pub cookie: StateCookie,
    /// The gateway's reference for the payment (store it with the order).
    pub gateway_ref: String,
    /// What the buyer will pay, where the gateway adds a fee.
    pub payable_amount: Option<Rial>,
}

impl Payments {
    /// The gateways configured, in a stable order.
    pub fn gateways(&self) -> impl Iterator<Item = GatewayId> + '_ {
        self.inner.gateways.keys().copied()
    }

    /// Whether `gateway` is configured.
    pub fn has_gateway(&self, gateway: GatewayId) -> bool {
        self.inner.gateways.contains_key(&gateway)
    }

    /// The mount path (e.g. `/pay`).
    pub fn mount_path(&self) -> &str {
        &self.inner.mount_path
    }

    /// The path callbacks for `gateway` arrive at: `{mount_path}/callback/{gateway}`.
    pub fn callback_path(&self, gateway: GatewayId) -> String {
        self.route(gateway).path.clone()
    }

    /// The absolute callback URL given to `gateway`.
    pub fn callback_url(&self, gateway: GatewayId) -> Url {
        self.route(gateway).url.clone()
    }

    /// Whether a callback for `gateway` that arrived at `path` came where the gateways were
    /// told to send it: the public path ([`Payments::callback_url`]'s), or
    /// [`Payments::callback_path`] behind a proxy that strips the public base URL's path.
    /// Framework crates refuse anything else as a misconfigured mount.
    pub fn is_callback_path(&self, gateway: GatewayId, path: &str) -> bool {
        let route = self.route(gateway);
        path == route.path || path == route.url.path()
    }

    fn route(&self, gateway: GatewayId) -> &Route {
        let [idpay, novinpal, inopal, canpay, gardeshpay] = &self.inner.routes;
        match gateway {
            GatewayId::IdPay => idpay,
            GatewayId::NovinPal => novinpal,
            GatewayId::Inopal => inopal,
            GatewayId::CanPay => canpay,
            GatewayId::GardeshPay => gardeshpay,
        }
    }

    /// The clock in use.
    pub fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    fn gateway(&self, id: GatewayId) -> Result<&Arc<dyn DynGateway>, ConfigError> {
        self.inner
            .gateways
            .get(&id)
            .ok_or(ConfigError::GatewayNotConfigured(id))
    }

    /// Creates the payment at `gateway` and signs the order state into a cookie.
    ///
    /// The order's amount is what verify will use: decide it on the server.
    pub async fn start(&self, gateway: GatewayId, order: &Order) -> Result<StartedPayment, Error> {
        let adapter = self.gateway(gateway)?;
        adapter.dyn_check_order(order)?;
        let callback_url = self.callback_url(gateway);
        let span = tracing::info_span!("payment_start", gateway = %gateway, order_id = %order.id());
        let Created {
            gateway_ref,
            redirect,
            payable_amount,
        } = adapter
            .dyn_create(order, &callback_url)
            .instrument(span)
            .await?;
        let state = OrderState::new(
            gateway,
            order.id().clone(),
            order.amount(),
            gateway_ref.clone(),
            self.now(),
            self.inner.state_ttl,
        );
        let name = self.cookie_name(gateway, &state);
        let value = self.inner.codec.seal(&state, &name);
        if value.len() > MAX_ENCODED_LEN {
            // A reference this long could not be read back from the cookie when the buyer
            // returns, after paying: refuse now, before the buyer is sent to pay.
            return Err(TransportError {
                gateway,
                operation: Operation::Create,
                kind: TransportErrorKind::Malformed(format!(
                    "the gateway's reference ({} bytes) is too long to carry in the order state",
                    gateway_ref.len()
                )),
            }
            .into());
        }
        tracing::info!(gateway = %gateway, order_id = %order.id(), "payment started");
        Ok(StartedPayment {
            redirect,
            cookie: self.cookie(name, value, self.inner.state_ttl.whole_seconds()),
            gateway_ref,
            payable_amount,
        })
    }

    fn cookie_name(&self, gateway: GatewayId, state: &OrderState) -> String {
        // One cookie per pending order, so two tabs paying two orders keep both states.
        let prefix = &self.route(gateway).cookie_prefix;
        let mut name = String::with_capacity(prefix.len() + 12);
        name.push_str(prefix);
        for b in state.nonce().iter().take(6) {
            for half in [b >> 4, b & 0x0f] {
                // Both halves are below 16: always a (lowercase) hex digit.
                name.extend(char::from_digit(u32::from(half), 16));
            }
        }
        name
    }

    fn cookie(&self, name: String, value: String, max_age: i64) -> StateCookie {
        StateCookie {
            name,
            value,
            path: self.inner.cookie_path.clone(),
            max_age,
            secure: self.inner.secure_cookies,
            http_only: true,
            same_site: SameSite::Lax,
        }
    }

    fn removal(&self, name: &str) -> StateCookie {
        self.cookie(name.to_owned(), String::new(), 0)
    }

    /// Handles a callback for `gateway`: finds and checks the order state, claims the
    /// payment, verifies it with the state's amount, compares the answer with the state,
    /// and returns the outcome with the cookies to set.
    ///
    /// `path` is where the same-origin re-post of a cross-site `POST` that arrived without
    /// its cookie goes; `None` (what the framework crates pass) uses the public callback
    /// path, [`Payments::callback_url`]'s.
    pub async fn handle_callback(
        &self,
        gateway: GatewayId,
        request: &CallbackRequest,
        path: Option<&str>,
    ) -> CallbackResult {
        let span = tracing::info_span!("payment_callback", gateway = %gateway, order_id = tracing::field::Empty, outcome = tracing::field::Empty);
        // Boxed so that every future that awaits a callback stays small: the framework
        // crates' handler futures are boxed by the framework, and allocations above ~1 KiB
        // miss the allocator's per-thread cache.
        let result = Box::pin(
            self.handle_callback_inner(gateway, request, path)
                .instrument(span.clone()),
        )
        .await;
        span.record("outcome", result.outcome.kind());
        tracing::info!(parent: &span, gateway = %gateway, outcome = result.outcome.kind(), status = result.outcome.http_status(), "callback handled");
        result
    }

    async fn handle_callback_inner(
        &self,
        gateway: GatewayId,
        request: &CallbackRequest,
        path: Option<&str>,
    ) -> CallbackResult {
        let reject = |r: Rejection, cookies: Vec<StateCookie>| CallbackResult {
            outcome: Outcome::Rejected(r),
            cookies,
        };
        let Ok(adapter) = self.gateway(gateway) else {
            return reject(Rejection::UnknownGateway, Vec::new());
        };
        let callback = match adapter.dyn_parse_callback(request) {
            Ok(c) => c,
            Err(Error::Callback(e)) => return reject(Rejection::MalformedCallback(e), Vec::new()),
            Err(e) => return reject(Rejection::Misconfigured(e.to_string()), Vec::new()),
        };
        if let Some(order_id) = &callback.order_id {
            tracing::Span::current().record("order_id", order_id.as_str());
        }

        let found = self.find_state(gateway, request, &callback);
        let mut cookies: Vec<StateCookie> = found
            .invalid
            .iter()
            .map(|name| self.removal(name))
            .collect();
        let (name, value, state) = match found.selected {
            Some(s) => s,
            None => {
                if !found.any_cookie
                    && request.method() == CallbackMethod::Post
                    && request.param(RESUBMIT_FIELD).is_none()
                {
                    return CallbackResult {
                        outcome: Outcome::Resubmit(self.resubmit_form(gateway, request, path)),
                        cookies,
                    };
                }
                let rejection = if let Some(e) = found.tampered {
                    Rejection::TamperedState(e)
                } else if found.expired_match {
                    Rejection::ExpiredState
                } else if found.any_valid {
                    Rejection::ForeignState
                } else {
                    Rejection::MissingState
                };
                return reject(rejection, cookies);
            }
        };

        // The callback is only a hint, but a hint that contradicts the state is an attack
        // or a mix-up: refuse it before any claim or verify.
        if callback
            .order_id
            .as_deref()
            .is_some_and(|id| id != state.order_id().as_str())
        {
            return reject(Rejection::OrderMismatch, cookies);
        }
        if callback.amount.is_some_and(|a| a != state.amount()) {
            return reject(Rejection::AmountMismatch, cookies);
        }
        let outcome =
            Box::pin(self.claim_and_verify(adapter.as_ref(), state, &callback, name, value)).await;
        if !matches!(
            outcome,
            Outcome::Pending(_) | Outcome::Rejected(Rejection::InProgress)
        ) {
            cookies.push(self.removal(name));
        }
        CallbackResult { outcome, cookies }
    }

    fn resubmit_form(
        &self,
        gateway: GatewayId,
        request: &CallbackRequest,
        path: Option<&str>,
    ) -> ResubmitForm {
        // The path the buyer's browser sees (the public base URL's path included), unless
        // the caller names another; only ever a path on our own origin.
        let public = self.route(gateway).url.path();
        let mut action = path.unwrap_or(public).to_owned();
        if !is_own_origin_path(&action) {
            action = public.to_owned();
        }
        let query: Vec<(&str, &str)> = request.query().collect();
        if !query.is_empty()
            && let Ok(query) = serde_urlencoded::to_string(&query)
        {
            action = format!("{action}?{query}");
        }
        let mut fields: Vec<(String, String)> = request
            .form()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        fields.push((RESUBMIT_FIELD.to_owned(), "1".to_owned()));
        ResubmitForm { action, fields }
    }

    fn find_state<'r>(
        &self,
        gateway: GatewayId,
        request: &'r CallbackRequest,
        callback: &CallbackData,
    ) -> FoundState<'r> {
        let prefix = &self.route(gateway).cookie_prefix;
        let now = self.now();
        let mut found = FoundState::default();
        for (name, value) in request.cookies() {
            if !name.starts_with(prefix.as_str()) {
                continue;
            }
            found.any_cookie = true;
            match self.inner.codec.open_ignoring_expiry(value, name) {
                Ok(state) => {
                    let matches = state.gateway() == gateway && belongs(&state, callback);
                    if state.is_expired(now) {
                        found.invalid.push(name);
                        found.expired_match |= matches;
                    } else if matches && found.selected.is_none() {
                        found.selected = Some((name, value, state));
                    } else {
                        found.any_valid = true;
                    }
                }
                Err(e) => {
                    found.invalid.push(name);
                    found.tampered.get_or_insert(e);
                }
            }
        }
        found
    }

    /// Takes the state by value: a paid outcome's receipt keeps its strings.
    async fn claim_and_verify(
        &self,
        adapter: &dyn DynGateway,
        state: OrderState,
        callback: &CallbackData,
        name: &str,
        value: &str,
    ) -> Outcome {
        let pending = |reason: PendingReason| {
            Outcome::Pending(PendingPayment {
                gateway: state.gateway(),
                order_id: state.order_id().to_string(),
                amount: state.amount(),
                reason,
                state: value.to_owned(),
                state_name: name.to_owned(),
                callback: Box::new(callback.clone()),
            })
        };
        let guard = &self.inner.guard;
        let key = claim_key(&state, callback);
        let claimed = guard.claim(&key, self.inner.verify_lease).await;
        // Dropped before verify (a key over 24 bytes is on the heap): what is held across
        // that call is often freed by the worker that reads the gateway's answer, not the
        // one that allocated it, which costs glibc's allocator a lock (BENCHMARKS.md). The
        // ticket keeps its own copy.
        drop(key);
        let ticket = match claimed {
            Ok(Claim::Acquired(ticket)) => ticket,
            Ok(Claim::Completed) => return Outcome::Rejected(Rejection::Replay),
            Ok(Claim::InProgress) => return Outcome::Rejected(Rejection::InProgress),
            Err(e) => {
                tracing::warn!(error = %e, "replay guard unavailable; verify not attempted");
                return pending(PendingReason::GuardUnavailable);
            }
        };
        if let CallbackStatus::Failed { code, .. } = &callback.status {
            // Claimed first so that a "cancelled" callback replayed after a fulfilled
            // payment is a replay, not a failure that could downgrade a paid order.
            self.release(&ticket).await;
            return Outcome::Failed(FailedPayment {
                gateway: state.gateway(),
                order_id: state.order_id().to_string(),
                amount: state.amount(),
                reason: FailureReason::NotPaid { code: *code },
            });
        }
        let mut answer = adapter.dyn_verify(&state, callback).await;
        if matches!(&answer, Err(Error::Gateway(_))) && callback.status == CallbackStatus::Paid {
            // A final "no" to a callback that said "paid": if the gateway can tell, check
            // whether an earlier verify of ours went through and only its answer was lost.
            if let Ok(confirmed) = adapter.dyn_confirmed_status(&state).await {
                tracing::info!("verify refused, but the gateway reports the payment confirmed");
                answer = Ok(confirmed);
            }
        }
        let outcome = match answer {
            Ok(verified) => {
                if verified
                    .order_id
                    .as_deref()
                    .is_some_and(|id| id != state.order_id().as_str())
                {
                    self.release(&ticket).await;
                    return Outcome::Rejected(Rejection::VerifiedOrderMismatch);
                }
                if verified.amount.is_some_and(|a| a != state.amount()) {
                    self.release(&ticket).await;
                    return Outcome::Rejected(Rejection::AmountMismatch);
                }
                if let Err(e) = guard.complete(&ticket, self.keep_claims_for()).await {
                    // Verified at the gateway but not recorded as fulfilled: reporting it
                    // paid could let a replay pay twice once the lease lapses. Pending is
                    // safe: a retry gets the gateway's "verified before" and completes.
                    tracing::warn!(error = %e, "could not record fulfilment; reporting pending");
                    return pending(PendingReason::GuardUnavailable);
                }
                return Outcome::Paid(Receipt::new(state, verified, self.now()));
            }
            Err(e) if e.is_transient() => {
                let reason = match &e {
                    Error::Gateway(g) => PendingReason::GatewayBusy(g.code.code()),
                    other => PendingReason::Transport(other.to_string()),
                };
                tracing::warn!(error = %e, "verify did not finish; payment pending");
                pending(reason)
            }
            Err(Error::Gateway(g)) => Outcome::Failed(FailedPayment {
                gateway: state.gateway(),
                order_id: state.order_id().to_string(),
                amount: state.amount(),
                reason: FailureReason::Declined(g),
            }),
            Err(Error::Callback(e)) => Outcome::Rejected(Rejection::MalformedCallback(e)),
            Err(e) => Outcome::Rejected(Rejection::Misconfigured(e.to_string())),
        };
        self.release(&ticket).await;
        outcome
    }

    async fn release(&self, ticket: &ClaimTicket) {
        if let Err(e) = self.inner.guard.release(ticket).await {
            // The claim then lapses with its lease; a retry after that can proceed.
            tracing::warn!(error = %e, "could not release claim");
        }
    }

    fn keep_claims_for(&self) -> StdDuration {
        let keep = self.inner.state_ttl.max(self.inner.pending_window) + Duration::days(1);
        StdDuration::try_from(keep).unwrap_or(StdDuration::from_secs(3 * 24 * 3600))
    }

    /// Verifies a pending payment again. Returns [`Outcome::Paid`] once (and
    /// [`Rejection::Replay`] for any later retry of the same payment), [`Outcome::Failed`]
    /// when the gateway gives a final no, or [`Outcome::Pending`] again.
    ///
    /// The signed state inside is checked again; its expiry is not, but the payment must
    /// have started within the pending window (24 hours by default).
    pub async fn retry(&self, pending: &PendingPayment) -> Outcome {
        let span = tracing::info_span!("payment_retry", gateway = %pending.gateway, order_id = %pending.order_id);
        async {
            let state = match self
                .inner
                .codec
                .open_ignoring_expiry(&pending.state, &pending.state_name)
            {
                Ok(s) => s,
                Err(e) => return Outcome::Rejected(Rejection::TamperedState(e)),
            };
            if state.gateway() != pending.gateway
                || state.gateway() != pending.callback.gateway
                || !belongs(&state, &pending.callback)
            {
                return Outcome::Rejected(Rejection::ForeignState);
            }
            let deadline = state
                .issued_at()
                .saturating_add(self.inner.pending_window.whole_seconds());
            if self.now().unix_timestamp() >= deadline {
                return Outcome::Rejected(Rejection::ExpiredState);
            }
            let adapter = match self.gateway(state.gateway()) {
                Ok(a) => a,
                Err(_) => return Outcome::Rejected(Rejection::UnknownGateway),
            };
            let outcome = self
                .claim_and_verify(
                    adapter.as_ref(),
                    state,
                    &pending.callback,
                    &pending.state_name,
                    &pending.state,
                )
                .await;
            tracing::info!(outcome = outcome.kind(), "pending payment retried");
            outcome
        }
        .instrument(span)
        .await
    }
}

/// Whether `path` can only be read as a path on the page's own origin: it starts with a
/// single `/` (browsers read `//host` and `/\host` as another host) and holds only
/// visible ASCII (browsers drop tabs and newlines first, so `/\t/host` is `//host`).
fn is_own_origin_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && bytes.iter().all(u8::is_ascii_graphic)
}

/// Whether `state` is the order state this callback is about: the reference the callback
/// echoes must be the state's; where it echoes none (GardeshPay) the order id must match.
fn belongs(state: &OrderState, callback: &CallbackData) -> bool {
    match (&callback.reference, &callback.order_id) {
        (Some(reference), _) => reference == state.gateway_ref(),
        (None, Some(order_id)) => order_id == state.order_id().as_str(),
        (None, None) => false,
    }
}

/// The key a payment is claimed under: what verify is called with. Inline, without an
/// allocation, up to 24 bytes.
fn claim_key(state: &OrderState, callback: &CallbackData) -> CompactString {
    let reference = callback
        .verify_reference
        .as_deref()
        .unwrap_or(state.gateway_ref());
    let gateway = state.gateway().as_str();
    let mut key = CompactString::with_capacity(gateway.len() + 1 + reference.len());
    key.push_str(gateway);
    key.push(':');
    key.push_str(reference);
    key
}

/// The state cookies of a callback request, sorted out. Borrows from the request.
#[derive(Default)]
struct FoundState<'r> {
    selected: Option<(&'r str, &'r str, OrderState)>,
    invalid: Vec<&'r str>,
    tampered: Option<StateError>,
    expired_match: bool,
    any_valid: bool,
    any_cookie: bool,
}
