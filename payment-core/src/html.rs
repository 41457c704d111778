//! Minimal HTML pages the library itself must answer with (auto-submitting forms).

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A page that submits one form on load, with a visible button when scripts are off.
pub(crate) fn auto_submit_page(method: &str, action: &str, fields: &[(String, String)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>در حال انتقال… / Redirecting…</title></head>\
         <body><form id=\"payment-redirect\" method=\"{method}\" action=\"{action}\">{inputs}\
         <noscript><button type=\"submit\">ادامه / Continue</button></noscript></form>\
         <script>document.getElementById('payment-redirect').submit();</script></body></html>\n",
        method = escape(method),
        action = escape(action),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped() {
        let page = auto_submit_page(
            "POST",
            "https://x/a?b=1&c=2",
            &[("to\"k".into(), "<v>".into())],
        );
        assert!(page.contains("action=\"https://x/a?b=1&amp;c=2\""));
        assert!(page.contains("name=\"to&quot;k\" value=\"&lt;v&gt;\""));
    }
}
