//! Which gateway a payment goes through, and which of the shop's accounts there.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::error::UnknownGateway;

/// A supported gateway (payment service provider).
///
/// The lowercase name (`"idpay"`, `"novinpal"`, …) is what callback URLs, cookie names and
/// logs use. New gateways are added in minor releases, so a `match` on it needs a `_` arm.
///
/// ```
/// use payment_core::GatewayId;
/// assert_eq!("novinpal".parse::<GatewayId>(), Ok(GatewayId::NovinPal));
/// assert_eq!(GatewayId::Inopal.as_str(), "inopal");
/// assert_eq!(GatewayId::CanPay.persian_name(), "پرداخت یاری");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum GatewayId {
    /// IDPay (idpay.ir).
    IdPay,
    /// NovinPal (novinpal.ir).
    NovinPal,
    /// Inopal (inopal.ir).
    Inopal,
    /// CanPay (canpay.ir).
    CanPay,
    /// GardeshPay (gardeshpay.ir).
    GardeshPay,
    /// Zarinpal (zarinpal.com).
    Zarinpal,
    /// Zibal (zibal.ir).
    Zibal,
}

impl GatewayId {
    /// Every gateway this version supports, in a stable order.
    pub const ALL: &'static [GatewayId] = &[
        GatewayId::IdPay,
        GatewayId::NovinPal,
        GatewayId::Inopal,
        GatewayId::CanPay,
        GatewayId::GardeshPay,
        GatewayId::Zarinpal,
        GatewayId::Zibal,
    ];

    /// The lowercase name used in URLs, cookies and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            GatewayId::IdPay => "idpay",
            GatewayId::NovinPal => "novinpal",
            GatewayId::Inopal => "inopal",
            GatewayId::CanPay => "canpay",
            GatewayId::GardeshPay => "gardeshpay",
            GatewayId::Zarinpal => "zarinpal",
            GatewayId::Zibal => "zibal",
        }
    }

    /// The name a buyer recognises, in English.
    pub const fn display_name(self) -> &'static str {
        match self {
            GatewayId::IdPay => "IDPay",
            GatewayId::NovinPal => "NovinPal",
            GatewayId::Inopal => "Inopal",
            GatewayId::CanPay => "CanPay",
            GatewayId::GardeshPay => "GardeshPay",
            GatewayId::Zarinpal => "Zarinpal",
            GatewayId::Zibal => "Zibal",
        }
    }

    /// The name a buyer recognises, in Persian: the one the gateway's own document uses
    /// (CanPay calls itself «پرداخت یاری»).
    pub const fn persian_name(self) -> &'static str {
        match self {
            GatewayId::IdPay => "آیدی پی",
            GatewayId::NovinPal => "نوین پال",
            GatewayId::Inopal => "اینوپال",
            GatewayId::CanPay => "پرداخت یاری",
            GatewayId::GardeshPay => "گردش پی",
            GatewayId::Zarinpal => "زرین‌پال",
            GatewayId::Zibal => "زیبال",
        }
    }
}

impl fmt::Display for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GatewayId {
    type Err = UnknownGateway;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GatewayId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == s)
            .ok_or(UnknownGateway)
    }
}

/// The longest account name, in bytes.
const MAX_ACCOUNT_NAME_LEN: usize = 32;

/// One of the shop's accounts at a gateway: the gateway, and the account's name, or none
/// for the gateway's default account.
///
/// It is written `novinpal` for NovinPal's default account and `novinpal-brand2` for the
/// account named `brand2`; that is what callback URLs, state cookies, the signed order
/// state and logs carry, so a callback for one account is never verified with another
/// account's credentials. A gateway converts into its default account.
///
/// Account names are 1 to 32 lowercase ASCII letters, digits and `-`.
///
/// ```
/// use payment_core::{AccountId, GatewayId};
/// let brand = AccountId::named(GatewayId::NovinPal, "brand2").unwrap();
/// assert_eq!(brand.to_string(), "novinpal-brand2");
/// assert_eq!("novinpal-brand2".parse::<AccountId>(), Ok(brand));
/// assert_eq!(AccountId::from(GatewayId::IdPay).to_string(), "idpay");
/// assert!(AccountId::named(GatewayId::IdPay, "Not Valid").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId {
    gateway: GatewayId,
    name: Option<String>,
}

impl AccountId {
    /// The account called `name` at `gateway`.
    pub fn named(gateway: GatewayId, name: &str) -> Result<Self, UnknownGateway> {
        let valid = !name.is_empty()
            && name.len() <= MAX_ACCOUNT_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(UnknownGateway);
        }
        Ok(Self {
            gateway,
            name: Some(name.to_owned()),
        })
    }

    /// The gateway.
    pub fn gateway(&self) -> GatewayId {
        self.gateway
    }

    /// The account's name; `None` for the gateway's default account.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl From<GatewayId> for AccountId {
    fn from(gateway: GatewayId) -> Self {
        Self {
            gateway,
            name: None,
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            None => f.write_str(self.gateway.as_str()),
            Some(name) => write!(f, "{}-{name}", self.gateway),
        }
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

impl FromStr for AccountId {
    type Err = UnknownGateway;

    /// Reads what [`Display`](fmt::Display) writes. Gateway names hold no `-`, so the
    /// first `-` starts the account's name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('-') {
            None => s.parse::<GatewayId>().map(Self::from),
            Some((gateway, name)) => Self::named(gateway.parse()?, name),
        }
    }
}

impl Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &id in GatewayId::ALL {
            assert_eq!(id.as_str().parse::<GatewayId>(), Ok(id));
            let account = AccountId::from(id);
            assert_eq!(account.to_string().parse::<AccountId>(), Ok(account));
            let named = AccountId::named(id, "shop-2").unwrap();
            assert_eq!(named.to_string(), format!("{id}-shop-2"));
            assert_eq!(named.to_string().parse::<AccountId>(), Ok(named));
        }
        assert_eq!("zarinpal".parse::<GatewayId>(), Ok(GatewayId::Zarinpal));
        assert_eq!("zibal".parse::<GatewayId>(), Ok(GatewayId::Zibal));
        assert_eq!("sep".parse::<GatewayId>(), Err(UnknownGateway));
        // Names are lowercase: a callback at `/callback/NovinPal` is not NovinPal's.
        assert_eq!("NovinPal".parse::<GatewayId>(), Err(UnknownGateway));
        assert_eq!("sep-a".parse::<AccountId>(), Err(UnknownGateway));
        assert_eq!("novinpal-".parse::<AccountId>(), Err(UnknownGateway));
        assert_eq!("novinpal-A".parse::<AccountId>(), Err(UnknownGateway));
        assert!(AccountId::named(GatewayId::IdPay, &"a".repeat(33)).is_err());
    }

    #[test]
    fn accounts_serialize_as_their_names() {
        let named = AccountId::named(GatewayId::CanPay, "b").unwrap();
        assert_eq!(serde_json::to_string(&named).unwrap(), "\"canpay-b\"");
        assert_eq!(
            serde_json::from_str::<AccountId>("\"canpay-b\"").unwrap(),
            named
        );
        assert!(serde_json::from_str::<AccountId>("\"nope\"").is_err());
    }
}
