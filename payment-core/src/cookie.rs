//! A framework-neutral cookie description. Framework crates turn it into their own cookie
//! type or write [`StateCookie::to_header_value`] as a `Set-Cookie` header, so this crate
//! carries no `cookie` or `http` types in its API (axum and actix-web use different
//! versions of both).

use std::fmt::Write as _;

/// The `SameSite` attribute of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on same-site requests and top-level cross-site `GET` navigations.
    Lax,
    /// Sent on same-site requests only.
    Strict,
    /// Sent on every request (requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

/// A cookie to set (or, with an empty value and `max_age` 0, to remove).
#[derive(Clone, PartialEq, Eq)]
pub struct StateCookie {
    /// The cookie's name.
    pub name: String,
    /// The cookie's value (a signed state, or empty when removing).
    pub value: String,
    /// The `Path` attribute: the callback routes only.
    pub path: String,
    /// `Max-Age` in seconds.
    pub max_age: i64,
    /// The `Secure` attribute.
    pub secure: bool,
    /// The `HttpOnly` attribute (always `true` for order states).
    pub http_only: bool,
    /// The `SameSite` attribute.
    pub same_site: SameSite,
}

impl StateCookie {
    /// Whether this cookie removes a previous one.
    pub fn is_removal(&self) -> bool {
        self.max_age == 0
    }

    /// The value of a `Set-Cookie` header for this cookie.
    ///
    /// ```
    /// use payment_core::{SameSite, StateCookie};
    /// let c = StateCookie { name: "pay_x".into(), value: "v".into(), path: "/pay/callback".into(),
    ///     max_age: 1800, secure: true, http_only: true, same_site: SameSite::Lax };
    /// assert_eq!(c.to_header_value(),
    ///     "pay_x=v; Path=/pay/callback; Max-Age=1800; HttpOnly; Secure; SameSite=Lax");
    /// ```
    pub fn to_header_value(&self) -> String {
        const EXPIRED: &str = "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
        // Sized exactly: this runs for every start and callback, and a string whose length
        // is its capacity becomes an HTTP header value without another allocation.
        let max_age_digits = self
            .max_age
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |log| log as usize + 1)
            + usize::from(self.max_age < 0);
        let len = self.name.len()
            + 1
            + self.value.len()
            + "; Path=".len()
            + self.path.len()
            + "; Max-Age=".len()
            + max_age_digits
            + if self.max_age == 0 { EXPIRED.len() } else { 0 }
            + if self.http_only {
                "; HttpOnly".len()
            } else {
                0
            }
            + if self.secure { "; Secure".len() } else { 0 }
            + "; SameSite=".len()
            + self.same_site.as_str().len();
        let mut out = String::with_capacity(len);
        out.push_str(&self.name);
        out.push('=');
        out.push_str(&self.value);
        out.push_str("; Path=");
        out.push_str(&self.path);
        let _ = write!(out, "; Max-Age={}", self.max_age);
        if self.max_age == 0 {
            out.push_str(EXPIRED);
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if self.secure {
            out.push_str("; Secure");
        }
        out.push_str("; SameSite=");
        out.push_str(self.same_site.as_str());
        debug_assert_eq!(out.len(), len);
        out
    }
}

// The value is a signed state: not secret, but long and of no use in logs.
impl std::fmt::Debug for StateCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCookie")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("max_age", &self.max_age)
            .field("secure", &self.secure)
            .field("same_site", &self.same_site)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_value_is_sized_exactly() {
        for (max_age, secure, same_site) in [
            (0, true, SameSite::Lax),
            (9, false, SameSite::Strict),
            (10, true, SameSite::None),
            (1800, true, SameSite::Lax),
            (-1, false, SameSite::Lax),
            (-10, true, SameSite::Lax),
            (i64::MAX, true, SameSite::Lax),
            (i64::MIN, false, SameSite::Lax),
        ] {
            let cookie = StateCookie {
                name: "pay_novinpal_0011aabbccdd".into(),
                value: if max_age == 0 {
                    String::new()
                } else {
                    "AQEC".into()
                },
                path: "/pay/callback".into(),
                max_age,
                secure,
                http_only: max_age != 9,
                same_site,
            };
            let value = cookie.to_header_value();
            assert_eq!(value.capacity(), value.len(), "{value}");
            assert!(value.contains(&format!("; Max-Age={max_age}")), "{value}");
        }
    }
}
