//! Shortening values that must not be shown whole.

/// The first four characters of `value` followed by `…`, or `[redacted]` for short values.
pub(crate) fn partial(value: &str) -> String {
    if value.chars().count() <= 8 {
        "[redacted]".to_owned()
    } else {
        let head: String = value.chars().take(4).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_values_are_hidden_whole() {
        assert_eq!(super::partial("abc"), "[redacted]");
        assert_eq!(super::partial("SNHQA1TYFGSFARZUM5"), "SNHQ…");
    }
}
