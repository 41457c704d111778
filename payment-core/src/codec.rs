//! The signed order-state codec: compact binary, HMAC-SHA256, base64url.
//!
//! Layout of a value before base64url (big-endian integers):
//!
//! ```text
//! version(1)=3 key_id(1) issued_at(8) expires_at(8) amount(8) nonce(16) attempt(1)
//! payable(8) account_len(1) account order_id_len(1) order_id gateway_ref_len(2)
//! gateway_ref  mac(32)
//! ```
//!
//! `payable` is what the buyer pays where the gateway adds a fee, 0 where it is the
//! amount. Version 2, the same without `attempt` and `payable`, is still read (as a first
//! attempt without a fee), so states signed before an upgrade finish their payments.
//!
//! `account` is the gateway account's name as [`AccountId`] writes it (`novinpal`,
//! `novinpal-brand2`).
//!
//! The MAC covers a purpose tag and the cookie's name as well as the bytes above, so a
//! value cannot be replayed under another cookie name or used for another purpose.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::{
    AccountId, ConfigError, OrderId, Rial,
    state::{NONCE_LEN, OrderState},
};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 3;
/// The layout before `attempt`.
const VERSION_WITHOUT_ATTEMPT: u8 = 2;
const PURPOSE: &[u8] = b"payment-core/order-state";
const MAC_LEN: usize = 32;
const HEADER_LEN: usize = 1 + 1 + 8 + 8 + 8 + NONCE_LEN;
/// The three length fields (account, order id, reference).
const LENGTHS_LEN: usize = 1 + 1 + 2;
/// The shortest signing key accepted, in bytes.
pub(crate) const MIN_KEY_LEN: usize = 32;
/// The longest signed state value accepted; anything longer is refused before decoding.
pub const MAX_STATE_LEN: usize = 1024;
/// What a value of [`MAX_STATE_LEN`] characters decodes to, at most (unpadded base64:
/// three bytes for every four characters).
const MAX_DECODED_LEN: usize = MAX_STATE_LEN / 4 * 3;

/// A secret key for signing order states, with a one-byte id for rotation.
///
/// Its `Debug` never shows the key.
///
/// ```
/// use payment_core::SigningKey;
/// let key = SigningKey::new(1, [7u8; 32].to_vec()).unwrap();
/// assert_eq!(format!("{key:?}"), "SigningKey { id: 1, key: [redacted] }");
/// assert!(SigningKey::new(2, b"too short".to_vec()).is_err());
/// ```
#[derive(Clone)]
pub struct SigningKey {
    id: u8,
    key: SecretSlice<u8>,
    mac: HmacSha256,
}

impl SigningKey {
    /// A key from raw bytes; at least 32 of them.
    pub fn new(id: u8, key: Vec<u8>) -> Result<Self, ConfigError> {
        if key.len() < MIN_KEY_LEN {
            return Err(ConfigError::WeakSigningKey {
                key_id: id,
                len: key.len(),
            });
        }
        let mac = HmacSha256::new_from_slice(&key).map_err(|_| ConfigError::WeakSigningKey {
            key_id: id,
            len: key.len(),
        })?;
        Ok(Self {
            id,
            key: SecretSlice::from(key),
            mac,
        })
    }

    /// A key from base64 (standard or URL-safe, padding optional), as kept in an
    /// environment variable. `openssl rand -base64 32` makes a good one.
    pub fn from_base64(id: u8, encoded: &str) -> Result<Self, ConfigError> {
        let trimmed = encoded.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(trimmed)
            .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
            .map_err(|_| ConfigError::Invalid("signing key is not base64"))?;
        Self::new(id, bytes)
    }

    /// A fresh random key, for development and tests. Every restart makes a new one, so
    /// payments in flight across a restart are lost: production must configure a key.
    pub fn generate(id: u8) -> Result<Self, ConfigError> {
        let mut bytes = Vec::with_capacity(MIN_KEY_LEN);
        while bytes.len() < MIN_KEY_LEN {
            bytes.extend_from_slice(&crate::random::nonce());
        }
        Self::new(id, bytes)
    }

    /// The key's id.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// The key's length in bytes.
    pub fn len(&self) -> usize {
        self.key.expose_secret().len()
    }

    /// Always `false`: a key has at least 32 bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey {{ id: {}, key: [redacted] }}", self.id)
    }
}

/// The signing keys in force: the newest signs, older listed keys still verify.
///
/// ```
/// use payment_core::{KeyRing, SigningKey};
/// let ring = KeyRing::new(SigningKey::new(2, vec![2; 32]).unwrap())
///     .with_previous(SigningKey::new(1, vec![1; 32]).unwrap())
///     .unwrap();
/// assert_eq!(ring.current().id(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct KeyRing {
    current: SigningKey,
    previous: Vec<SigningKey>,
}

impl KeyRing {
    /// A ring with one key, which signs and verifies.
    pub fn new(current: SigningKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds an older key that still verifies (during rotation).
    pub fn with_previous(mut self, key: SigningKey) -> Result<Self, ConfigError> {
        if key.id == self.current.id || self.previous.iter().any(|k| k.id == key.id) {
            return Err(ConfigError::DuplicateKeyId(key.id));
        }
        self.previous.push(key);
        Ok(self)
    }

    /// The key that signs new states.
    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    fn find(&self, id: u8) -> Option<&SigningKey> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|k| k.id == id)
    }
}

/// Why a signed state value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not a value this codec produced (bad base64, wrong length or version, bad fields).
    #[error("order state is malformed")]
    Malformed,
    /// Signed with a key id that is not (or no longer) configured.
    #[error("order state is signed with an unknown key")]
    UnknownKey,
    /// The signature does not match: the value was changed, or signed with another key,
    /// or belongs to another cookie name.
    #[error("order state signature is invalid")]
    BadSignature,
    /// The state is past its expiry.
    #[error("order state has expired")]
    Expired,
    /// The state is for another gateway account than the callback.
    #[error("order state belongs to another gateway account")]
    WrongGateway,
}

/// Signs order states into compact cookie values and checks them back.
///
/// ```
/// use payment_core::{AccountId, GatewayId, KeyRing, Rial, SigningKey};
/// use payment_core::state::{OrderState, StateCodec};
/// use payment_core::time::{Duration, OffsetDateTime};
/// let codec = StateCodec::new(KeyRing::new(SigningKey::new(1, vec![9; 32]).unwrap()));
/// let now = OffsetDateTime::now_utc();
/// let state = OrderState::new(GatewayId::NovinPal, "A1".parse().unwrap(), Rial::new(50_000),
///     "447515262", now, Duration::minutes(30));
/// let value = codec.seal(&state, "pay_novinpal_x");
/// let novinpal = AccountId::from(GatewayId::NovinPal);
/// assert_eq!(codec.open(&value, "pay_novinpal_x", Some(&novinpal), now), Ok(state));
/// assert!(codec.open(&value, "another_name", None, now).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct StateCodec {
    keys: KeyRing,
}

impl StateCodec {
    /// A codec with the given keys.
    pub fn new(keys: KeyRing) -> Self {
        Self { keys }
    }

    /// The keys in force.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Signs `state` for the cookie called `name`.
    ///
    /// A value longer than [`MAX_STATE_LEN`] (a gateway reference of several hundred
    /// bytes) is refused by [`StateCodec::open`]; [`Payments::start`](crate::Payments::start)
    /// refuses such a payment before the buyer is sent to pay.
    pub fn seal(&self, state: &OrderState, name: &str) -> String {
        let key = self.keys.current();
        // Every length is bounded: account names by AccountId (≤ 43), order ids by OrderId
        // (≤ 128), and references are cut to what a u16 holds so that a strange gateway
        // answer cannot break encoding.
        let account = state.account.to_string();
        let order_id = state.order_id.as_str().as_bytes();
        let gateway_ref = state.gateway_ref.as_bytes();
        let gateway_ref = gateway_ref
            .get(..usize::from(u16::MAX))
            .unwrap_or(gateway_ref);
        let mut buf = Vec::with_capacity(
            HEADER_LEN
                + 1
                + LENGTHS_LEN
                + account.len()
                + order_id.len()
                + gateway_ref.len()
                + MAC_LEN,
        );
        buf.push(VERSION);
        buf.push(key.id);
        buf.extend_from_slice(&state.issued_at.to_be_bytes());
        buf.extend_from_slice(&state.expires_at.to_be_bytes());
        buf.extend_from_slice(&state.amount.get().to_be_bytes());
        buf.extend_from_slice(&state.nonce);
        buf.push(state.attempt);
        let payable = state.payable_amount.map_or(0, Rial::get);
        buf.extend_from_slice(&payable.to_be_bytes());
        buf.push(account.len() as u8);
        buf.extend_from_slice(account.as_bytes());
        buf.push(order_id.len() as u8);
        buf.extend_from_slice(order_id);
        buf.extend_from_slice(&(gateway_ref.len() as u16).to_be_bytes());
        buf.extend_from_slice(gateway_ref);
        let tag = mac(key, name, &buf).finalize().into_bytes();
        buf.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// Checks and decodes a value read from the cookie called `name`: signature (in
    /// constant time), then expiry at `now`, then, if given, the gateway account.
    pub fn open(
        &self,
        value: &str,
        name: &str,
        account: Option<&AccountId>,
        now: OffsetDateTime,
    ) -> Result<OrderState, StateError> {
        let state = self.open_ignoring_expiry(value, name)?;
        if state.is_expired(now) {
            return Err(StateError::Expired);
        }
        if account.is_some_and(|a| *a != state.account) {
            return Err(StateError::WrongGateway);
        }
        Ok(state)
    }

    /// Checks the signature and decodes, without looking at expiry. For re-verifying a
    /// pending payment whose buyer has long left.
    pub fn open_ignoring_expiry(&self, value: &str, name: &str) -> Result<OrderState, StateError> {
        if value.len() > MAX_STATE_LEN {
            return Err(StateError::Malformed);
        }
        // Decoded on the stack: a value within the limit decodes to at most 768 bytes, and
        // this runs for every callback.
        let mut decoded = [0u8; MAX_DECODED_LEN];
        let len = URL_SAFE_NO_PAD
            .decode_slice(value, &mut decoded)
            .map_err(|_| StateError::Malformed)?;
        let raw = decoded.get(..len).ok_or(StateError::Malformed)?;
        if raw.len() < HEADER_LEN + LENGTHS_LEN + MAC_LEN {
            return Err(StateError::Malformed);
        }
        let (body, tag) = raw.split_at(raw.len() - MAC_LEN);
        let mut r = Reader(body);
        let version = r.u8()?;
        if version != VERSION && version != VERSION_WITHOUT_ATTEMPT {
            return Err(StateError::Malformed);
        }
        let key = self.keys.find(r.u8()?).ok_or(StateError::UnknownKey)?;
        mac(key, name, body)
            .verify_slice(tag)
            .map_err(|_| StateError::BadSignature)?;
        // From here on the bytes are ours; a parse failure means a codec bug or a key
        // leak, and is still refused rather than trusted.
        let issued_at = i64::from_be_bytes(r.array()?);
        let expires_at = i64::from_be_bytes(r.array()?);
        let amount = Rial::new(u64::from_be_bytes(r.array()?));
        let nonce: [u8; NONCE_LEN] = r.array()?;
        let (attempt, payable_amount) = match version {
            VERSION => {
                let attempt = r.u8()?.max(1);
                let payable = u64::from_be_bytes(r.array()?);
                (attempt, (payable != 0).then(|| Rial::new(payable)))
            }
            _ => (1, None),
        };
        let account_len = usize::from(r.u8()?);
        let account = std::str::from_utf8(r.take(account_len)?)
            .ok()
            .and_then(|s| s.parse::<AccountId>().ok())
            .ok_or(StateError::Malformed)?;
        let order_len = usize::from(r.u8()?);
        let order_id = std::str::from_utf8(r.take(order_len)?)
            .ok()
            .and_then(|s| OrderId::new(s).ok())
            .ok_or(StateError::Malformed)?;
        let ref_len = usize::from(u16::from_be_bytes(r.array()?));
        let gateway_ref = std::str::from_utf8(r.take(ref_len)?)
            .map_err(|_| StateError::Malformed)?
            .to_owned();
        if !r.0.is_empty() {
            return Err(StateError::Malformed);
        }
        Ok(OrderState {
            account,
            order_id,
            amount,
            payable_amount,
            gateway_ref,
            attempt,
            nonce,
            issued_at,
            expires_at,
        })
    }
}

fn mac(key: &SigningKey, name: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = key.mac.clone();
    mac.update(PURPOSE);
    mac.update(&[0]);
    mac.update(&(name.len() as u64).to_be_bytes());
    mac.update(name.as_bytes());
    mac.update(body);
    mac
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        if self.0.len() < n {
            return Err(StateError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, StateError> {
        let [byte] = self.array::<1>()?;
        Ok(byte)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StateError> {
        self.take(N)?.try_into().map_err(|_| StateError::Malformed)
    }
}
