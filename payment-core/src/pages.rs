//! The pages the library itself answers with, in Persian and English: each callback
//! outcome, the auto-submitting forms, and a payment that could not start.

use crate::{
    Error, Rial,
    error::{OrderProblem, TransportErrorKind},
    outcome::{NotPaid, Outcome},
    reply::Reply,
};

/// The page for a callback's outcome: the receipt, or why there is none.
pub(crate) fn outcome(outcome: &Outcome) -> String {
    match outcome {
        Ok(r) => {
            let mut rows = vec![
                ("شماره سفارش / Order", escape(r.order_id().as_str())),
                (
                    "مبلغ / Amount",
                    format!("{} ریال / rial", r.amount().grouped()),
                ),
                ("درگاه / Gateway", r.gateway().display_name().to_owned()),
            ];
            if let Some(reference) = r.bank_reference() {
                rows.push(("کد پیگیری / Reference", escape(reference)));
            }
            if let Some(card) = r.card_mask() {
                rows.push(("کارت / Card", escape(card)));
            }
            page("پرداخت موفق بود", "Payment successful", "", &rows)
        }
        Err(NotPaid::Failed(f)) => page(
            "پرداخت انجام نشد",
            "Payment not completed",
            &format!(
                "{} / {}",
                escape(&f.reason.persian()),
                escape(&f.reason.english())
            ),
            &[("شماره سفارش / Order", escape(f.order_id.as_str()))],
        ),
        Err(NotPaid::Pending(p)) => page(
            "پرداخت در حال بررسی است",
            "Payment being confirmed",
            "اگر مبلغی از حساب شما کسر شده باشد، پس از تایید ثبت می‌شود یا ظرف ۷۲ ساعت بازمی‌گردد. \
             / If money left your account, the order is confirmed shortly or the bank returns it.",
            &[("شماره سفارش / Order", escape(p.order_id.as_str()))],
        ),
        Err(NotPaid::Rejected(r)) => page(
            "درخواست نامعتبر",
            "Request refused",
            &format!("{} / {}", escape(r.persian()), escape(r.english())),
            &[],
        ),
        Err(NotPaid::Resubmit(form)) => auto_submit("POST", &form.action, &form.fields),
    }
}

fn page(title_fa: &str, title_en: &str, text: &str, rows: &[(&str, String)]) -> String {
    let rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>"))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title_fa} / {title_en}</title><style>body{{font-family:Tahoma,sans-serif;max-width:36rem;\
         margin:3rem auto;padding:0 1rem;line-height:1.7}}th{{text-align:start;padding-inline-end:1rem}}</style>\
         </head><body><h1>{title_fa}</h1><h2 lang=\"en\" dir=\"ltr\">{title_en}</h2><p>{text}</p>\
         <table>{rows}</table></body></html>\n"
    )
}

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
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

/// The one script of the library's pages: it submits the auto-submitting form.
const AUTO_SUBMIT_SCRIPT: &str = "document.getElementById('payment-redirect').submit();";

/// The Content-Security-Policy of every page the library answers with: no script but
/// [`AUTO_SUBMIT_SCRIPT`] (by its SHA-256), inline styles, no frames. An app's own,
/// stricter policy (no scripts at all) would stop the auto-submit, so the library's pages
/// carry this one and an app's header layer should keep a policy already set.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; script-src 'sha256-yadKEnHoI72AJqvZ/ZYT8ggVm8UvQpTvowV46L2Yalg='; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

/// A page that submits one form on load, with a visible button when scripts are off.
pub(crate) fn auto_submit(method: &str, action: &str, fields: &[(String, String)]) -> String {
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
         <script>{AUTO_SUBMIT_SCRIPT}</script></body></html>\n",
        method = escape(method),
        action = escape(action),
    )
}

impl Error {
    /// The HTTP status of a default answer to the buyer: 422 for an order outside the
    /// gateway's limits, 502 for a refusal or an unusable answer, 504 for a timeout, 503
    /// when the ledger could not record the payment, 500 for configuration problems.
    ///
    /// ```
    /// use payment_core::{Error, GatewayId};
    /// use payment_core::error::{Operation, TransportError, TransportErrorKind};
    /// let e = Error::Transport(TransportError {
    ///     gateway: GatewayId::IdPay, operation: Operation::Create, kind: TransportErrorKind::Timeout,
    /// });
    /// assert_eq!(e.http_status(), 504);
    /// ```
    pub fn http_status(&self) -> u16 {
        match self {
            Error::InvalidOrder(_) => 422,
            Error::Gateway(_) => 502,
            Error::Transport(t) if t.kind == TransportErrorKind::Timeout => 504,
            Error::Transport(_) => 502,
            Error::Ledger(_) => 503,
            _ => 500,
        }
    }

    /// The library's answer to a payment that could not start: a small page for the
    /// buyer with [`Error::buyer_message`], with [`Error::http_status`].
    pub fn reply(&self) -> Reply {
        Reply::page(self.http_status(), self.buyer_page(), &[])
    }

    fn buyer_page(&self) -> String {
        let (fa, en) = self.buyer_message();
        format!(
            "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>پرداخت آغاز نشد / Payment not started</title><style>body{{font-family:Tahoma,sans-serif;\
             max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.7}}</style></head><body>\
             <h1>پرداخت آغاز نشد</h1><h2 lang=\"en\" dir=\"ltr\">Payment not started</h2>\
             <p>{}</p><p lang=\"en\" dir=\"ltr\">{}</p></body></html>\n",
            escape(&fa),
            escape(&en)
        )
    }

    /// What happened and what the buyer can do, in Persian and in English (plain text, to
    /// put in your own page). It names the gateway and its documented reason, never a
    /// secret.
    pub fn buyer_message(&self) -> (String, String) {
        match self {
            Error::InvalidOrder(e) => (
                format!(
                    "این سفارش را نمی‌توان با {} پرداخت کرد: {}",
                    e.gateway.persian_name(),
                    order_problem_fa(&e.reason)
                ),
                format!(
                    "This order cannot be paid with {}: {}.",
                    e.gateway.display_name(),
                    e.reason
                ),
            ),
            Error::Gateway(e) => (
                format!(
                    "درگاه {} درخواست پرداخت را نپذیرفت ({}). لطفا بعدا یا با درگاه دیگری تلاش کنید.",
                    e.gateway.persian_name(),
                    e.code.persian()
                ),
                format!(
                    "{} refused the payment ({}). Please try later or choose another gateway.",
                    e.gateway.display_name(),
                    e.code.english()
                ),
            ),
            Error::Transport(e) => (
                format!(
                    "درگاه {} پاسخ نداد. هیچ مبلغی کسر نشده است؛ لطفا دوباره تلاش کنید.",
                    e.gateway.persian_name()
                ),
                format!(
                    "{} did not answer. Nothing was charged; please try again.",
                    e.gateway.display_name()
                ),
            ),
            Error::Ledger(_) => (
                "پرداخت اکنون آغاز نشد. هیچ مبلغی کسر نشده است؛ لطفا لحظه‌ای بعد دوباره تلاش کنید.".to_owned(),
                "The payment could not be started just now. Nothing was charged; please try again in a moment.".to_owned(),
            ),
            _ => (
                "تنظیمات پرداخت فروشگاه کامل نیست.".to_owned(),
                "The shop's payment settings are incomplete.".to_owned(),
            ),
        }
    }
}

fn order_problem_fa(problem: &OrderProblem) -> String {
    match problem {
        OrderProblem::AmountTooLow { min, .. } => {
            format!(
                "مبلغ کمتر از حداقل ({} ریال) است",
                Rial::new(*min).grouped()
            )
        }
        OrderProblem::AmountTooHigh { max, .. } => {
            format!(
                "مبلغ بیشتر از حداکثر ({} ریال) است",
                Rial::new(*max).grouped()
            )
        }
        OrderProblem::AmountNotWholeToman { .. } => {
            "مبلغ باید مضربی از ۱۰ ریال (تومان کامل) باشد".to_owned()
        }
        OrderProblem::OrderIdTooLong { max, .. } => format!("شماره سفارش بیش از {max} نویسه است"),
        OrderProblem::OrderIdCharacters { .. } => "شماره سفارش نویسه‌های غیرمجاز دارد".to_owned(),
        OrderProblem::CallbackUrl(_) => "آدرس بازگشت فروشگاه نامعتبر است".to_owned(),
        _ => "یکی از اطلاعات سفارش نامعتبر است".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sha2::Digest;

    use super::*;

    #[test]
    fn fields_are_escaped() {
        let page = auto_submit(
            "POST",
            "https://x/a?b=1&c=2",
            &[("to\"k".into(), "<v>".into())],
        );
        assert!(page.contains("action=\"https://x/a?b=1&amp;c=2\""));
        assert!(page.contains("name=\"to&quot;k\" value=\"&lt;v&gt;\""));
    }

    #[test]
    fn the_policy_allows_exactly_the_auto_submit_script() {
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(AUTO_SUBMIT_SCRIPT.as_bytes()));
        assert!(PAGE_CSP.contains(&format!("'sha256-{hash}'")), "{PAGE_CSP}");
        let page = auto_submit("POST", "https://gw.example/pay", &[]);
        assert!(page.contains(&format!("<script>{AUTO_SUBMIT_SCRIPT}</script>")));
    }
}
