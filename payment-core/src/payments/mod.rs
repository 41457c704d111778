//! [`Payments`], the framework-neutral payment service: its configuration
//! ([`PaymentsBuilder`]), starting a payment, and turning a callback into a verified
//! receipt or a typed reason why not.

mod builder;
mod callback;
mod claims;
mod fulfil;
mod reconcile;
mod refund;
mod start;
mod verify;

use std::{
    collections::BTreeMap,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration as StdDuration,
};

pub use builder::PaymentsBuilder;
pub(crate) use fulfil::FulfilHook;
pub(crate) use reconcile::Checked;
pub use refund::RefundError;
pub use start::StartedPayment;
use time::Duration;
use url::Url;

use crate::{
    AccountId, GatewayId, clock::Clock, gateway::AnyGateway, ledger::PaymentStore,
    outcome::Rejection, state::StateCodec,
};

/// The shared payment service: configured gateway accounts, signing keys, replay guard
/// and cookie settings. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), payment_core::Error> {
/// use payment_core::*;
/// let key = SigningKey::from_base64(1, &std::env::var("PAYMENT_KEY").unwrap())?;
/// let payments = Payments::builder("https://shop.example", KeyRing::new(key))
///     .gateway(NovinPal::new("my-api-key"))
///     .build()?;
/// let order = Order::new("A-1".parse().unwrap(), Rial::new(120_000));
/// let started = payments.start(GatewayId::NovinPal, &order).await?;
/// // Answer with `started.reply()`: the redirect to the gateway and the state cookie.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
}

struct Inner {
    accounts: BTreeMap<AccountId, Box<dyn AnyGateway>>,
    codec: StateCodec,
    claims: claims::Claims,
    /// The ledger of payments, when the app keeps one.
    ledger: Option<Arc<dyn PaymentStore>>,
    /// What the app does with a verified payment, when it set it on the builder.
    fulfil: Option<FulfilHook>,
    clock: Arc<dyn Clock>,
    public_base_url: Url,
    /// Where the routes are mounted in the app (`/pay`).
    mount_path: String,
    /// The mount path as the buyer's browser sees it: the public base URL's own path,
    /// then the mount path (`/shop/pay` for `https://example.com/shop`).
    public_mount_path: String,
    cookie_prefix: String,
    secure_cookies: bool,
    state_ttl: Duration,
    pending_window: Duration,
    verify_lease: StdDuration,
    /// A callback at a path the gateways were not given is logged once.
    misconfigured_logged: AtomicBool,
}

impl fmt::Debug for Payments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payments")
            .field("accounts", &self.inner.accounts.keys().collect::<Vec<_>>())
            .field("public_base_url", &self.inner.public_base_url.as_str())
            .field("mount_path", &self.inner.mount_path)
            .field("secure_cookies", &self.inner.secure_cookies)
            .field("ledger", &self.inner.ledger.is_some())
            .field("fulfil", &self.inner.fulfil.is_some())
            .finish_non_exhaustive()
    }
}

impl Payments {
    /// The gateway accounts configured, in a stable order.
    pub fn accounts(&self) -> impl Iterator<Item = &AccountId> + '_ {
        self.inner.accounts.keys()
    }

    /// Whether `account` (a gateway, for its default account) is configured.
    pub fn is_configured(&self, account: impl Into<AccountId>) -> bool {
        self.inner.accounts.contains_key(&account.into())
    }

    /// The mount path (e.g. `/pay`).
    pub fn mount_path(&self) -> &str {
        &self.inner.mount_path
    }

    /// The path callbacks for `account` arrive at in the app:
    /// `{mount_path}/callback/{account}`, e.g. `/pay/callback/novinpal`.
    pub fn callback_path(&self, account: impl Into<AccountId>) -> String {
        format!("{}/callback/{}", self.inner.mount_path, account.into())
    }

    /// The absolute callback URL given to the gateway for `account`.
    pub fn callback_url(&self, account: impl Into<AccountId>) -> Url {
        let mut url = self.inner.public_base_url.clone();
        url.set_path(&self.public_callback_path(&account.into()));
        url.set_query(None);
        url
    }

    /// The callback path as the buyer's browser sees it (the public base URL's path
    /// included).
    fn public_callback_path(&self, account: &AccountId) -> String {
        format!("{}/callback/{account}", self.inner.public_mount_path)
    }

    /// The clock in use.
    pub fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// Which configured account a callback that arrived at `path` (the request's whole
    /// path) is for: `{mount path}/callback/{account}`, with or without the public base
    /// URL's own path in front (behind a proxy that strips it).
    ///
    /// With `gateway`, as for an extractor typed for one gateway, the account must be of
    /// that gateway.
    ///
    /// A path outside the configured mount path, or an extractor at another gateway's
    /// route, is [`Rejection::Misconfigured`] (500), logged once as an error: the callback
    /// URLs given to the gateways are built from the configuration, so such a route never
    /// receives a real callback. An account that is not configured is
    /// [`Rejection::UnknownGateway`] (404).
    ///
    /// ```
    /// # use payment_core::*;
    /// # let key = SigningKey::new(1, vec![7; 32]).unwrap();
    /// let payments = Payments::builder("https://shop.example", KeyRing::new(key))
    ///     .gateway(NovinPal::new("key"))
    ///     .build()?;
    /// let novinpal = AccountId::from(GatewayId::NovinPal);
    /// assert_eq!(payments.gateway_for_path("/pay/callback/novinpal", None), Ok(novinpal));
    /// assert_eq!(payments.gateway_for_path("/pay/callback/idpay", None), Err(outcome::Rejection::UnknownGateway));
    /// assert!(payments.gateway_for_path("/elsewhere/callback/novinpal", None).is_err());
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn gateway_for_path(
        &self,
        path: &str,
        gateway: Option<GatewayId>,
    ) -> Result<AccountId, Rejection> {
        let inner = &self.inner;
        let name = [&inner.public_mount_path, &inner.mount_path]
            .into_iter()
            .find_map(|mount| {
                path.strip_prefix(mount.as_str())?
                    .strip_prefix("/callback/")
            });
        let Some(name) = name else {
            return Err(self.misconfigured(format!(
                "a payment callback arrived at {path}, outside {}/callback/",
                inner.public_mount_path
            )));
        };
        let account = name.parse::<AccountId>().ok();
        let configured = account
            .as_ref()
            .is_some_and(|a| inner.accounts.contains_key(a));
        match (account, gateway) {
            (Some(account), None) if configured => Ok(account),
            (_, None) => Err(Rejection::UnknownGateway),
            (Some(account), Some(expected)) if configured && account.gateway() == expected => {
                Ok(account)
            }
            (_, Some(expected)) => Err(self.misconfigured(format!(
                "a callback extractor for {expected} serves {path}, which is not the callback \
                 path of a configured {expected} account"
            ))),
        }
    }

    /// Logs a misconfigured route once, and refuses the callback.
    fn misconfigured(&self, detail: String) -> Rejection {
        if !self
            .inner
            .misconfigured_logged
            .swap(true, Ordering::Relaxed)
        {
            tracing::error!(
                mount_path = %self.inner.mount_path,
                "{detail}: mount the payment routes at the configured mount path \
                 (PaymentRouter::mount and PaymentScope::scope do) or change \
                 Payments::builder(..).mount_path"
            );
        }
        Rejection::Misconfigured(detail)
    }

    /// The ledger, when one is configured ([`PaymentsBuilder::ledger`]).
    pub fn ledger(&self) -> Option<&Arc<dyn PaymentStore>> {
        self.inner.ledger.as_ref()
    }

    /// Whether the app set a fulfilment hook ([`PaymentsBuilder::fulfil`]).
    pub fn has_fulfil_hook(&self) -> bool {
        self.inner.fulfil.is_some()
    }

    /// How long a started payment's state lives (its cookie's life).
    pub(crate) fn state_ttl(&self) -> Duration {
        self.inner.state_ttl
    }

    fn adapter(&self, account: &AccountId) -> Option<&dyn AnyGateway> {
        self.inner.accounts.get(account).map(Box::as_ref)
    }
}
