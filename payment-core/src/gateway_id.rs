//! The runtime identifier of a gateway, for apps that let the buyer choose.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// One of the five supported gateways, chosen at run time.
///
/// The lowercase name (`"idpay"`, `"novinpal"`, …) is what appears in callback URLs,
/// cookie names and logs.
///
/// ```
/// use payment_core::GatewayId;
/// assert_eq!("novinpal".parse::<GatewayId>(), Ok(GatewayId::NovinPal));
/// assert_eq!(GatewayId::Inopal.as_str(), "inopal");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
}

impl GatewayId {
    /// Every gateway, in a stable order.
    pub const ALL: [GatewayId; 5] = [
        GatewayId::IdPay,
        GatewayId::NovinPal,
        GatewayId::Inopal,
        GatewayId::CanPay,
        GatewayId::GardeshPay,
    ];

    /// The lowercase name used in URLs, cookies and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            GatewayId::IdPay => "idpay",
            GatewayId::NovinPal => "novinpal",
            GatewayId::Inopal => "inopal",
            GatewayId::CanPay => "canpay",
            GatewayId::GardeshPay => "gardeshpay",
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
        }
    }

    /// The name a buyer recognises, in Persian.
    pub const fn persian_name(self) -> &'static str {
        match self {
            GatewayId::IdPay => "آیدی پی",
            GatewayId::NovinPal => "نوین پال",
            GatewayId::Inopal => "اینوپال",
            GatewayId::CanPay => "کن پی",
            GatewayId::GardeshPay => "گردش پی",
        }
    }

    /// A stable one-byte tag, used inside signed order states.
    pub(crate) const fn tag(self) -> u8 {
        match self {
            GatewayId::IdPay => 1,
            GatewayId::NovinPal => 2,
            GatewayId::Inopal => 3,
            GatewayId::CanPay => 4,
            GatewayId::GardeshPay => 5,
        }
    }

    pub(crate) const fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(GatewayId::IdPay),
            2 => Some(GatewayId::NovinPal),
            3 => Some(GatewayId::Inopal),
            4 => Some(GatewayId::CanPay),
            5 => Some(GatewayId::GardeshPay),
            _ => None,
        }
    }
}

impl fmt::Display for GatewayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name is not one of the supported gateways.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown gateway name")]
pub struct UnknownGateway;

impl FromStr for GatewayId {
    type Err = UnknownGateway;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GatewayId::ALL
            .into_iter()
            .find(|id| id.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownGateway)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_round_trip() {
        for id in GatewayId::ALL {
            assert_eq!(id.as_str().parse::<GatewayId>(), Ok(id));
            assert_eq!(GatewayId::from_tag(id.tag()), Some(id));
        }
        assert_eq!("zarinpal".parse::<GatewayId>(), Err(UnknownGateway));
        assert_eq!(GatewayId::from_tag(0), None);
    }
}
