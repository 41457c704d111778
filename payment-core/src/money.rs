//! Money: every amount is a whole number of rial; toman converts explicitly.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in Iranian rial, the unit every gateway API in this crate speaks.
///
/// There are no fractions of a rial and no floats anywhere: amounts are whole numbers.
///
/// ```
/// use payment_core::{Rial, Toman};
/// let price = Rial::new(120_000);
/// assert_eq!(Rial::try_from(Toman::new(12_000)), Ok(price));
/// assert_eq!(price.to_string(), "120,000 rial");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rial(u64);

impl Rial {
    /// An amount of `rial` rial.
    pub const fn new(rial: u64) -> Self {
        Self(rial)
    }

    /// The amount as a plain number of rial, as gateways expect it on the wire.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The amount in toman, rounded down, with the rial left over (`(toman, rial)`).
    pub const fn to_toman(self) -> (Toman, u64) {
        (Toman(self.0 / 10), self.0 % 10)
    }

    /// Digits grouped by thousands, without a unit: `1,200,000`.
    pub fn grouped(self) -> String {
        group_digits(self.0)
    }
}

impl fmt::Display for Rial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rial", group_digits(self.0))
    }
}

/// An amount in toman (ten rial), the unit shops usually show to buyers.
///
/// A `Toman` never goes to a gateway directly: convert it with `Rial::try_from`, which
/// fails only if the result would not fit in 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Toman(u64);

impl Toman {
    /// An amount of `toman` toman.
    pub const fn new(toman: u64) -> Self {
        Self(toman)
    }

    /// The amount as a plain number of toman.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Toman {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} toman", group_digits(self.0))
    }
}

/// The toman amount is too large to be expressed in rial in 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} toman does not fit in rial")]
pub struct AmountOverflow(pub u64);

impl TryFrom<Toman> for Rial {
    type Error = AmountOverflow;

    fn try_from(toman: Toman) -> Result<Self, Self::Error> {
        toman
            .0
            .checked_mul(10)
            .map(Rial)
            .ok_or(AmountOverflow(toman.0))
    }
}

fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toman_converts_to_rial_times_ten() {
        assert_eq!(Rial::try_from(Toman::new(5_000)), Ok(Rial::new(50_000)));
        assert_eq!(
            Rial::try_from(Toman::new(u64::MAX / 10 + 1)),
            Err(AmountOverflow(u64::MAX / 10 + 1))
        );
    }

    #[test]
    fn rial_splits_into_toman_and_rest() {
        assert_eq!(Rial::new(123_457).to_toman(), (Toman::new(12_345), 7));
    }

    #[test]
    fn digits_are_grouped_by_thousands() {
        assert_eq!(Rial::new(0).to_string(), "0 rial");
        assert_eq!(Rial::new(999).grouped(), "999");
        assert_eq!(Rial::new(1_000).grouped(), "1,000");
        assert_eq!(Toman::new(12_345_678).to_string(), "12,345,678 toman");
    }
}
