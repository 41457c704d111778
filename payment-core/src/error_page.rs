//! What a buyer is shown when a payment cannot be started: the status and a readable
//! Persian and English page, shared by the framework crates.

use crate::{Error, OrderProblem, Rial, TransportErrorKind, html::escape};

impl Error {
    /// The HTTP status of a default answer to the buyer: 422 for an order outside the
    /// gateway's limits, 502 for a refusal or an unusable answer, 504 for a timeout, 500
    /// for configuration problems.
    ///
    /// ```
    /// use payment_core::{Error, GatewayId, Operation, TransportError, TransportErrorKind};
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
            _ => 500,
        }
    }

    /// A small HTML page for the buyer with [`Error::buyer_message`].
    pub fn buyer_page(&self) -> String {
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
        OrderProblem::OrderIdTooLong { max, .. } => format!("شماره سفارش بیش از {max} نویسه است"),
        OrderProblem::OrderIdCharacters { .. } => "شماره سفارش نویسه‌های غیرمجاز دارد".to_owned(),
        OrderProblem::CallbackUrl(_) => "آدرس بازگشت فروشگاه نامعتبر است".to_owned(),
        _ => "یکی از اطلاعات سفارش نامعتبر است".to_owned(),
    }
}
