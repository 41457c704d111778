//! The configuration of a [`Payments`]: what is required up front, what has a default.

use std::{
    collections::BTreeMap,
    sync::{Arc, atomic::AtomicBool},
    time::Duration as StdDuration,
};

use time::Duration;
use url::Url;

use super::{FulfilHook, Inner, Payments, claims::Claims, fulfil};
use crate::{
    AccountId, ConfigError, KeyRing, MemoryReplayGuard, Receipt, ReplayGuard,
    adapter::Gateway,
    clock::{Clock, SystemClock},
    gateway::AnyGateway,
    ledger::PaymentStore,
    state::StateCodec,
};

/// Builds a [`Payments`]; see [`Payments::builder`].
pub struct PaymentsBuilder {
    public_base_url: String,
    keys: KeyRing,
    accounts: BTreeMap<AccountId, Box<dyn AnyGateway>>,
    /// A setter's invalid argument, reported by `build`.
    invalid: Option<ConfigError>,
    guard: Option<Arc<dyn ReplayGuard>>,
    ledger: Option<Arc<dyn PaymentStore>>,
    fulfil: Option<FulfilHook>,
    clock: Arc<dyn Clock>,
    mount_path: String,
    cookie_prefix: String,
    secure_cookies: Option<bool>,
    state_ttl: Duration,
    pending_window: Duration,
    verify_lease: StdDuration,
}

impl Payments {
    /// A builder with what every shop must give: its public origin as buyers reach it
    /// (`https://shop.example`; callback URLs are built from it, and cookies are `Secure`
    /// when it is `https`) and the keys that sign order states. Add at least one gateway.
    pub fn builder(public_base_url: &str, keys: KeyRing) -> PaymentsBuilder {
        PaymentsBuilder {
            public_base_url: public_base_url.to_owned(),
            keys,
            accounts: BTreeMap::new(),
            invalid: None,
            guard: None,
            ledger: None,
            fulfil: None,
            clock: Arc::new(SystemClock),
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
    /// Adds a gateway as its default account (a later one of the same gateway replaces
    /// an earlier one).
    pub fn gateway<G: Gateway>(mut self, gateway: G) -> Self {
        self.accounts.insert(G::ID.into(), Box::new(gateway));
        self
    }

    /// Adds a named account of a gateway: a second merchant of the same gateway, one per
    /// brand, with its own credentials and base URL. Start a payment with it by its
    /// [`AccountId`]; its callbacks arrive at `{mount_path}/callback/{gateway}-{name}`,
    /// and the signed state names the account, so its payments are verified with its own
    /// credentials only. A name is 1 to 32 lowercase letters, digits and `-`; another
    /// name is a configuration error at [`build`](PaymentsBuilder::build).
    ///
    /// ```
    /// # use payment_core::*;
    /// # let key = SigningKey::new(1, vec![7; 32]).unwrap();
    /// let payments = Payments::builder("https://shop.example", KeyRing::new(key))
    ///     .gateway(NovinPal::new("main-shop-key"))
    ///     .account("tea", NovinPal::new("tea-brand-key"))
    ///     .build()?;
    /// let tea = AccountId::named(GatewayId::NovinPal, "tea").unwrap();
    /// assert!(payments.is_configured(tea.clone()));
    /// assert_eq!(payments.callback_path(tea), "/pay/callback/novinpal-tea");
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn account<G: Gateway>(mut self, name: &str, gateway: G) -> Self {
        match AccountId::named(G::ID, name) {
            Ok(account) => {
                self.accounts.insert(account, Box::new(gateway));
            }
            Err(_) => {
                self.invalid.get_or_insert(ConfigError::Invalid(
                    "an account name is 1 to 32 lowercase letters, digits and '-'",
                ));
            }
        }
        self
    }

    /// Where the payment routes are mounted in the app (default `/pay`). Callbacks arrive
    /// at `{mount_path}/callback/{account}`.
    pub fn mount_path(mut self, path: &str) -> Self {
        self.mount_path = normalise_path(path);
        self
    }

    /// Where claims live; share one across instances (default: the
    /// [`ledger`](Self::ledger), which claims each payment on its own record, when there
    /// is one; otherwise this process's memory, [`MemoryReplayGuard`]).
    pub fn replay_guard(mut self, guard: impl ReplayGuard) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// Shares an existing guard (default: as for [`replay_guard`](Self::replay_guard)).
    pub fn shared_replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// Keeps a ledger of every payment (default: none), so that the
    /// [`Reconciler`](crate::Reconciler) can settle a payment whose buyer never returned
    /// or whose verify a dying process left unfinished. Share one across instances;
    /// `payment-sqlx` keeps it in SQLite or PostgreSQL.
    ///
    /// Without a [`replay_guard`](Self::replay_guard), the ledger is the replay guard too:
    /// a return claims the payment in the same write that records it, so a paid return
    /// costs the store two writes instead of four, and a payment once final is refused
    /// as a replay for as long as the ledger keeps it.
    pub fn ledger(mut self, store: Arc<dyn PaymentStore>) -> Self {
        self.ledger = Some(store);
        self
    }

    /// What the app does with a verified payment (mark the order paid, ship it): called
    /// once per payment, before the answer to the buyer is made, whichever way the
    /// payment was verified: the buyer's return, [`Payments::retry`], or the
    /// [`Reconciler`](crate::Reconciler) (default: none; the framework crates' `on_paid`
    /// hooks then receive the receipt alone).
    ///
    /// An `Err` leaves the payment pending: its claim is given back, so a retry or the
    /// reconciler verifies it again (the gateway answers "verified before") and calls the
    /// hook again. The hook is called a second time for one payment only if the process
    /// dies between the hook's success and the record of it, so make it idempotent on the
    /// order (a conditional `UPDATE … WHERE status = 'awaiting'`).
    ///
    /// ```
    /// # use payment_core::*;
    /// # let key = SigningKey::new(1, vec![7; 32]).unwrap();
    /// let payments = Payments::builder("https://shop.example", KeyRing::new(key))
    ///     .gateway(NovinPal::new("key"))
    ///     .fulfil(|receipt: Receipt| async move {
    ///         println!("order {} paid", receipt.order_id());
    ///         Ok::<(), std::io::Error>(())
    ///     })
    ///     .build()?;
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn fulfil<F, Fut, E>(mut self, hook: F) -> Self
    where
        F: Fn(Receipt) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        self.fulfil = Some(fulfil::hook(hook));
        self
    }

    /// The clock (default: the system clock; tests move a
    /// [`ManualClock`](crate::clock::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a started payment may take before its state expires (default 30
    /// minutes).
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
        if let Some(invalid) = self.invalid {
            return Err(invalid);
        }
        let invalid_url = ConfigError::InvalidUrl {
            what: "public base URL",
        };
        let public_base_url = Url::parse(&self.public_base_url).map_err(|_| invalid_url.clone())?;
        if !matches!(public_base_url.scheme(), "http" | "https")
            || public_base_url.cannot_be_a_base()
        {
            return Err(invalid_url);
        }
        if self.accounts.is_empty() {
            return Err(ConfigError::Invalid("no gateway is configured"));
        }
        let valid_prefix = !self.cookie_prefix.is_empty()
            && self
                .cookie_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_prefix {
            return Err(ConfigError::Invalid(
                "cookie prefix must be letters, digits, '_' or '-'",
            ));
        }
        let secure_cookies = self
            .secure_cookies
            .unwrap_or(public_base_url.scheme() == "https");
        let public_mount_path = format!(
            "{}{}",
            public_base_url.path().trim_end_matches('/'),
            self.mount_path
        );
        Ok(Payments {
            inner: Arc::new(Inner {
                accounts: self.accounts,
                codec: StateCodec::new(self.keys),
                claims: match (self.guard, &self.ledger) {
                    (Some(guard), _) => Claims::Guard(guard),
                    (None, Some(ledger)) => Claims::Ledger(ledger.clone()),
                    (None, None) => Claims::Guard(Arc::new(MemoryReplayGuard::new())),
                },
                ledger: self.ledger,
                fulfil: self.fulfil,
                clock: self.clock,
                public_base_url,
                mount_path: self.mount_path,
                public_mount_path,
                cookie_prefix: self.cookie_prefix,
                secure_cookies,
                state_ttl: self.state_ttl,
                pending_window: self.pending_window,
                verify_lease: self.verify_lease,
                misconfigured_logged: AtomicBool::new(false),
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
