//! Gateway result codes: one typed table per gateway, each code with its Persian and
//! English meaning, so an error can be shown to a buyer and logged for a developer.

use std::fmt;

use crate::{
    GatewayId,
    gateways::{
        idpay::IdPayCode,
        inopal::InopalCode,
        novinpal::NovinPalCode,
        zarinpal::ZarinpalCode,
        zibal::{ZibalCode, ZibalStatus},
    },
};

/// Defines a gateway's code table: an enum whose variants are the documented codes.
///
/// Each row is `Variant = code, transient, "English", "Persian";`.
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident = $code:literal, $transient:literal, $en:literal, $fa:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($code), "`: ", $en, " (", $fa, ")")]
                $variant,
            )+
        }

        impl $name {
            /// Every documented code, in the document's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The documented code with this number, if there is one.
            pub fn from_code(code: i64) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $name {
            /// The numeric code as the gateway sends it.
            pub fn code(self) -> i64 {
                match self { $($name::$variant => $code,)+ }
            }
            /// The gateway's own meaning, in English.
            pub fn english(self) -> &'static str {
                match self { $($name::$variant => $en,)+ }
            }
            /// The gateway's own meaning, in Persian, as the document words it.
            pub fn persian(self) -> &'static str {
                match self { $($name::$variant => $fa,)+ }
            }
            /// `true` when the same call may succeed later (server or bank error), so a
            /// payment answered with it is pending, not failed.
            pub fn is_transient(self) -> bool {
                match self { $($name::$variant => $transient,)+ }
            }
        }
    };
}
pub(crate) use code_table;

/// A result code from a gateway, typed where the gateway's document lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GatewayCode {
    /// A code from IDPay's table.
    IdPay(IdPayCode),
    /// A code from NovinPal's table.
    NovinPal(NovinPalCode),
    /// A code from Inopal's table.
    Inopal(InopalCode),
    /// A code from Zarinpal's table.
    Zarinpal(ZarinpalCode),
    /// A `result` code from Zibal's tables.
    Zibal(ZibalCode),
    /// A payment status from Zibal's table of statuses (a callback's `status`, or a
    /// verify or inquiry answer's).
    ZibalStatus(ZibalStatus),
    /// A code the gateway's document does not list (CanPay and GardeshPay publish no
    /// table at all).
    Undocumented(i64),
}

impl GatewayCode {
    /// The numeric code.
    pub fn code(self) -> i64 {
        match self {
            GatewayCode::IdPay(c) => c.code(),
            GatewayCode::NovinPal(c) => c.code(),
            GatewayCode::Inopal(c) => c.code(),
            GatewayCode::Zarinpal(c) => c.code(),
            GatewayCode::Zibal(c) => c.code(),
            GatewayCode::ZibalStatus(c) => c.code(),
            GatewayCode::Undocumented(c) => c,
        }
    }

    /// The documented meaning in English, or a generic phrase for undocumented codes.
    pub fn english(self) -> &'static str {
        match self {
            GatewayCode::IdPay(c) => c.english(),
            GatewayCode::NovinPal(c) => c.english(),
            GatewayCode::Inopal(c) => c.english(),
            GatewayCode::Zarinpal(c) => c.english(),
            GatewayCode::Zibal(c) => c.english(),
            GatewayCode::ZibalStatus(c) => c.english(),
            GatewayCode::Undocumented(_) => "undocumented code",
        }
    }

    /// The documented meaning in Persian, or a generic phrase for undocumented codes.
    pub fn persian(self) -> &'static str {
        match self {
            GatewayCode::IdPay(c) => c.persian(),
            GatewayCode::NovinPal(c) => c.persian(),
            GatewayCode::Inopal(c) => c.persian(),
            GatewayCode::Zarinpal(c) => c.persian(),
            GatewayCode::Zibal(c) => c.persian(),
            GatewayCode::ZibalStatus(c) => c.persian(),
            GatewayCode::Undocumented(_) => "کد مستند نشده",
        }
    }

    /// Whether the same call may succeed later.
    pub fn is_transient(self) -> bool {
        match self {
            GatewayCode::IdPay(c) => c.is_transient(),
            GatewayCode::NovinPal(c) => c.is_transient(),
            GatewayCode::Inopal(c) => c.is_transient(),
            GatewayCode::Zarinpal(c) => c.is_transient(),
            GatewayCode::Zibal(c) => c.is_transient(),
            GatewayCode::ZibalStatus(c) => c.is_transient(),
            GatewayCode::Undocumented(_) => false,
        }
    }

    /// Looks a number up in the table of the given gateway. Zibal's `result` codes and
    /// payment statuses do not overlap, so a Zibal number is looked up in both.
    pub fn lookup(gateway: GatewayId, code: i64) -> Self {
        let typed = match gateway {
            GatewayId::IdPay => IdPayCode::from_code(code).map(GatewayCode::IdPay),
            GatewayId::NovinPal => NovinPalCode::from_code(code).map(GatewayCode::NovinPal),
            GatewayId::Inopal => InopalCode::from_code(code).map(GatewayCode::Inopal),
            GatewayId::Zarinpal => ZarinpalCode::from_code(code).map(GatewayCode::Zarinpal),
            GatewayId::Zibal => ZibalCode::from_code(code)
                .map(GatewayCode::Zibal)
                .or_else(|| ZibalStatus::from_code(code).map(GatewayCode::ZibalStatus)),
            GatewayId::CanPay | GatewayId::GardeshPay => None,
        };
        typed.unwrap_or(GatewayCode::Undocumented(code))
    }
}

impl fmt::Display for GatewayCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.english())
    }
}
