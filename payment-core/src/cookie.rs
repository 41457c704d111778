//! A framework-neutral cookie description. Framework crates turn it into their own cookie
//! type or write [`StateCookie::to_header_value`] as a `Set-Cookie` header, so this crate
//! carries no `cookie` or `http` types in its API (axum and actix-web use different
//! versions of both).

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
    /// use payment_core::reply::{SameSite, StateCookie};
    /// let c = StateCookie { name: "pay_x".into(), value: "v".into(), path: "/pay/callback".into(),
    ///     max_age: 1800, secure: true, http_only: true, same_site: SameSite::Lax };
    /// assert_eq!(c.to_header_value(),
    ///     "pay_x=v; Path=/pay/callback; Max-Age=1800; HttpOnly; Secure; SameSite=Lax");
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = format!(
            "{}={}; Path={}; Max-Age={}",
            self.name, self.value, self.path, self.max_age
        );
        if self.is_removal() {
            out.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if self.secure {
            out.push_str("; Secure");
        }
        out.push_str("; SameSite=");
        out.push_str(self.same_site.as_str());
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
    fn a_removal_also_expires_in_the_past() {
        let cookie = StateCookie {
            name: "pay_novinpal_0011aabbccdd".into(),
            value: String::new(),
            path: "/pay/callback".into(),
            max_age: 0,
            secure: false,
            http_only: true,
            same_site: SameSite::Lax,
        };
        assert_eq!(
            cookie.to_header_value(),
            "pay_novinpal_0011aabbccdd=; Path=/pay/callback; Max-Age=0; \
             Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
        );
        assert!(!format!("{cookie:?}").contains("value"));
    }
}
