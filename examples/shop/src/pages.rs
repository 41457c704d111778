//! The HTML pages: server-rendered strings, right-to-left Persian with English subtitles,
//! one inline stylesheet, no scripts and no build step.
//!
//! Everything that comes from a gateway or the database goes through [`escape`].

use std::fmt::Write as _;

use payment_axum::payment_core::{
    GatewayId, Rial,
    ledger::{PaymentRecord, PaymentStatus},
};

use crate::{
    catalog::{PRODUCTS, Product, product},
    config::Mode,
    db::{OrderRow, Status},
};

const STYLE: &str = r#"
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7fb;--card:#fff;--brand:#0f766e;
--ok:#15803d;--ok-bg:#ecfdf3;--bad:#b91c1c;--bad-bg:#fef2f2;--wait:#b45309;--wait-bg:#fffbeb;
--info:#1d4ed8;--info-bg:#eff6ff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);line-height:1.7;
font-family:Vazirmatn,"Noto Sans Arabic","Noto Naskh Arabic",Tahoma,"DejaVu Sans",sans-serif}
a{color:var(--brand)}
header{background:#fff;border-bottom:1px solid var(--line)}
.bar{max-width:60rem;margin:0 auto;padding:.8rem 1.2rem;display:flex;align-items:center;gap:1.5rem}
.brand{font-size:1.35rem;font-weight:700;color:var(--ink);text-decoration:none}
.brand small{font-weight:400;color:var(--muted);font-size:.8rem;margin-inline-start:.4rem}
nav{display:flex;gap:1rem;margin-inline-start:auto}
nav a{text-decoration:none;color:var(--ink);padding:.2rem .6rem;border-radius:.5rem}
nav a:hover{background:var(--bg)}
.sandbox{background:#fff7ed;border-bottom:1px solid #fed7aa;color:#9a3412;font-size:.9rem}
.sandbox .bar{padding:.35rem 1.2rem}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1.2rem 3rem}
h1{margin:.2rem 0 0;font-size:1.6rem}
.en{direction:ltr;unicode-bidi:isolate;color:var(--muted);font-size:.92rem}
p.en,div.en,h2.en{text-align:right}
h2.en{margin:0 0 1rem;font-weight:400;font-size:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:1rem;margin-top:1.2rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:1rem;padding:1rem;display:flex;flex-direction:column}
.art{height:6.5rem;border-radius:.8rem;display:flex;align-items:center;justify-content:center;
color:#fff;font-size:3rem;font-weight:700;margin-bottom:.8rem}
.card h3{margin:0;font-size:1.1rem}
.price{margin:.6rem 0 .2rem;font-size:1.2rem;font-weight:700}
.price .en{font-weight:400;font-size:.82rem;display:block;text-align:right}
.card .btn{margin-top:auto}
.btn{display:inline-block;text-align:center;background:var(--brand);color:#fff;border:0;border-radius:.7rem;
padding:.65rem 1.2rem;font:inherit;font-weight:700;text-decoration:none;cursor:pointer}
.btn:hover{filter:brightness(1.1)}
.btn.ghost{background:#fff;color:var(--brand);border:1px solid var(--brand)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:1rem;padding:1.2rem 1.4rem;margin-top:1rem}
.checkout{display:grid;grid-template-columns:1fr 1.3fr;gap:1.2rem}
@media (max-width:700px){.checkout{grid-template-columns:1fr}}
.gateways{display:grid;gap:.6rem;margin:.8rem 0 1.2rem}
.gateways label{display:flex;align-items:center;gap:.7rem;border:1px solid var(--line);border-radius:.8rem;
padding:.6rem .8rem;cursor:pointer;background:#fff}
.gateways label:has(input:checked){border-color:var(--brand);background:#f0fdfa}
.gateways .en{margin-inline-start:auto}
table{width:100%;border-collapse:collapse}
th,td{text-align:start;padding:.55rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:400;white-space:nowrap}
td.ltr,span.ltr{direction:ltr;unicode-bidi:isolate;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92rem}
.status{border-radius:1rem;padding:1.2rem 1.4rem;margin-top:1rem;border:1px solid}
.status h1{display:flex;gap:.6rem;align-items:center}
.status.paid{background:var(--ok-bg);border-color:#bbf7d0}.status.paid h1{color:var(--ok)}
.status.failed{background:var(--bad-bg);border-color:#fecaca}.status.failed h1{color:var(--bad)}
.status.pending{background:var(--wait-bg);border-color:#fde68a}.status.pending h1{color:var(--wait)}
.status.awaiting_payment,.status.created{background:var(--info-bg);border-color:#bfdbfe}
.status.awaiting_payment h1,.status.created h1{color:var(--info)}
.badge{display:inline-block;border-radius:99rem;padding:.05rem .7rem;font-size:.85rem;white-space:nowrap}
.badge.paid{background:var(--ok-bg);color:var(--ok)}.badge.failed{background:var(--bad-bg);color:var(--bad)}
.badge.pending{background:var(--wait-bg);color:var(--wait)}
.badge.awaiting_payment,.badge.created{background:var(--info-bg);color:var(--info)}
.note{background:#fff;border:1px dashed var(--wait);border-radius:.7rem;padding:.6rem .9rem;margin-top:.8rem}
.actions{display:flex;gap:.7rem;flex-wrap:wrap;margin-top:1.2rem}
.empty{color:var(--muted);text-align:center;padding:2rem}
.nowrap{white-space:nowrap}
.panel>table th{width:35%}
#orders th{width:auto}
footer{max-width:60rem;margin:0 auto;padding:0 1.2rem 2rem;color:var(--muted);font-size:.85rem}
td{overflow-wrap:anywhere}
@media (max-width:640px){
.bar{flex-wrap:wrap;gap:.4rem 1rem;padding:.7rem 1rem}
main{padding:1rem .8rem 2.5rem}
.panel,.status{padding:1rem}
.panel>table th{width:auto}
.panel>table tr{display:flex;flex-direction:column;border-bottom:1px solid var(--line);padding:.4rem 0}
.panel>table th,.panel>table td{border:0;padding:.1rem 0}
#orders thead{display:none}
#orders,#orders tbody,#orders tr,#orders td{display:block;width:100%}
#orders tr{border-bottom:1px solid var(--line);padding:.6rem 0}
#orders td{border:0;padding:.15rem 0;display:flex;justify-content:space-between;gap:1rem;text-align:end}
#orders td::before{content:attr(data-label);color:var(--muted);text-align:start;white-space:nowrap}
.nowrap{white-space:normal}
}
"#;

/// Whose view of the orders a page is: a buyer's own, or the admin's of every order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// A buyer, seeing the orders of their session.
    Buyer,
    /// The admin, seeing every order (behind the admin password).
    Admin,
}

impl View {
    /// Where this view's order pages live.
    pub const fn orders_path(self) -> &'static str {
        match self {
            View::Buyer => "/orders",
            View::Admin => "/admin/orders",
        }
    }
}

/// Persian digits and the Arabic thousands separator, for Persian text.
pub fn fa_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap_or(c),
            ',' => '٬',
            other => other,
        })
        .collect()
}

/// `۴۸۵٬۰۰۰ تومان` (and `۵ ریال` more, where the amount is not whole toman).
pub fn toman_fa(amount: Rial) -> String {
    let (toman, rest) = amount.to_toman();
    let main = fa_digits(&Rial::new(toman.get()).grouped());
    if rest == 0 {
        format!("{main} تومان")
    } else {
        format!("{main} تومان و {} ریال", fa_digits(&rest.to_string()))
    }
}

/// `4,850,000 rial (485,000 toman)`.
pub fn rial_en(amount: Rial) -> String {
    let (toman, _) = amount.to_toman();
    format!("{} rial ({toman})", amount.grouped())
}

/// The price block: toman in Persian, then rial and toman in English.
fn price(amount: Rial) -> String {
    format!(
        "<div class=\"price\" data-rial=\"{}\">{}<span class=\"en\">{}</span></div>",
        amount.get(),
        toman_fa(amount),
        rial_en(amount)
    )
}

/// A unix time in milliseconds as a Persian (Jalali) date and time in Tehran
/// (UTC+03:30), e.g. `۱۴۰۵/۰۹/۰۲ ۱۳:۴۵`.
pub fn jalali_datetime(unix_ms: i64) -> String {
    let local = unix_ms.div_euclid(1000) + 3 * 3600 + 30 * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (gy, gm, gd) = civil_from_days(days);
    let (jy, jm, jd) = gregorian_to_jalali(gy, gm, gd);
    fa_digits(&format!(
        "{jy}/{jm:02}/{jd:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    ))
}

/// Days since 1970-01-01 to a Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A Gregorian date to the Jalali calendar (the widely used arithmetic conversion,
/// exact for 1800–2200).
fn gregorian_to_jalali(gy: i64, gm: i64, gd: i64) -> (i64, i64, i64) {
    const G_DAYS: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let gy2 = if gm > 2 { gy + 1 } else { gy };
    let month_days = usize::try_from(gm - 1)
        .ok()
        .and_then(|i| G_DAYS.get(i))
        .copied()
        .unwrap_or(0);
    let mut days =
        355_666 + 365 * gy + (gy2 + 3) / 4 - (gy2 + 99) / 100 + (gy2 + 399) / 400 + gd + month_days;
    let mut jy = -1595 + 33 * (days / 12_053);
    days %= 12_053;
    jy += 4 * (days / 1461);
    days %= 1461;
    if days > 365 {
        jy += (days - 1) / 365;
        days = (days - 1) % 365;
    }
    let (jm, jd) = if days < 186 {
        (1 + days / 31, 1 + days % 31)
    } else {
        (7 + (days - 186) / 30, 1 + (days - 186) % 30)
    };
    (jy, jm, jd)
}

/// The frame every page shares.
pub fn layout(title: &str, mode: Mode, sandbox_admin: Option<&str>, body: &str) -> String {
    let banner = match mode {
        Mode::Sandbox => {
            let admin = sandbox_admin
                .map(|url| {
                    format!(
                        " · <a href=\"{}\" lang=\"en\">sandbox admin</a>",
                        escape(url)
                    )
                })
                .unwrap_or_default();
            format!(
                "<div class=\"sandbox\"><div class=\"bar\">حالت آزمایشی: پرداخت‌ها در شبیه‌ساز درگاه‌ها انجام می‌شوند و پولی جابه‌جا نمی‌شود.\
                 <span class=\"en\">Sandbox mode: payments go to the gateway simulator; no real money moves{admin}</span></div></div>"
            )
        }
        Mode::Live => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · بازارچه</title><style>{STYLE}</style></head><body>\
         <header><div class=\"bar\"><a class=\"brand\" href=\"/\">بازارچه<small lang=\"en\">Bazaarche demo shop</small></a>\
         <nav><a href=\"/\">محصولات <span class=\"en\">Products</span></a>\
         <a href=\"/orders\" id=\"nav-orders\">سفارش‌ها <span class=\"en\">Orders</span></a></nav></div></header>\
         {banner}<main>{body}</main>\
         <footer>نمونهٔ فروشگاه با payment-rs: axum، SQLite و هفت درگاه پرداخت ایرانی. \
         <span class=\"en\">A payment-rs example: axum, SQLite and seven Iranian payment gateways.</span></footer>\
         </body></html>\n"
    )
}

/// The product list.
pub fn home(mode: Mode, sandbox_admin: Option<&str>) -> String {
    let mut cards = String::new();
    for p in &PRODUCTS {
        let _ = write!(
            cards,
            "<article class=\"card\" data-product=\"{slug}\">\
             <div class=\"art\" style=\"background:{colour}\">{glyph}</div>\
             <h3>{fa}</h3><div class=\"en\">{en}</div>\
             <p>{bfa}<br><span class=\"en\">{ben}</span></p>{price}\
             <a class=\"btn\" id=\"buy-{slug}\" href=\"/products/{slug}\">خرید <span lang=\"en\">· Buy</span></a></article>",
            slug = p.slug,
            colour = p.colour,
            glyph = p.glyph,
            fa = p.name_fa,
            en = p.name_en,
            bfa = p.blurb_fa,
            ben = p.blurb_en,
            price = price(p.price),
        );
    }
    let body = format!(
        "<h1>محصولات</h1><h2 class=\"en\">Products</h2>\
         <p>کالایی را انتخاب کنید، درگاه پرداخت را برگزینید و پرداخت کنید؛ وضعیت هر سفارش در صفحهٔ سفارش‌ها ثبت می‌شود.\
         <br><span class=\"en\">Pick a product, choose a payment gateway and pay; every order's state is kept on the orders page.</span></p>\
         <div class=\"grid\">{cards}</div>"
    );
    layout("محصولات", mode, sandbox_admin, &body)
}

/// The checkout page: the product, its price and the gateway picker.
pub fn checkout(
    p: &Product,
    gateways: &[GatewayId],
    error: Option<(&str, &str)>,
    mode: Mode,
    sandbox_admin: Option<&str>,
) -> String {
    let mut options = String::new();
    for (i, g) in gateways.iter().enumerate() {
        let _ = write!(
            options,
            "<label><input type=\"radio\" name=\"gateway\" value=\"{id}\" id=\"gateway-{id}\"{checked}>\
             <span>{fa}</span><span class=\"en\">{en}</span></label>",
            id = g.as_str(),
            checked = if i == 0 { " checked" } else { "" },
            fa = g.persian_name(),
            en = g.display_name(),
        );
    }
    let error = error
        .map(|(fa, en)| {
            format!(
                "<div class=\"note\" role=\"alert\">{}<br><span class=\"en\">{}</span></div>",
                escape(fa),
                escape(en)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>تسویه حساب</h1><h2 class=\"en\">Checkout</h2>{error}\
         <div class=\"checkout\"><section class=\"card\" data-product=\"{slug}\">\
         <div class=\"art\" style=\"background:{colour}\">{glyph}</div>\
         <h3>{fa}</h3><div class=\"en\">{en}</div><p>{bfa}<br><span class=\"en\">{ben}</span></p>{price}</section>\
         <section class=\"panel\"><form method=\"post\" action=\"/checkout\">\
         <input type=\"hidden\" name=\"product\" value=\"{slug}\">\
         <strong>درگاه پرداخت</strong> <span class=\"en\">Payment gateway</span>\
         <div class=\"gateways\">{options}</div>\
         <table><tr><th>مبلغ قابل پرداخت <span class=\"en\">Amount due</span></th>\
         <td>{toman}<br><span class=\"en\">{rial}</span></td></tr></table>\
         <div class=\"actions\"><button class=\"btn\" id=\"pay\" type=\"submit\">پرداخت <span lang=\"en\">· Pay</span></button>\
         <a class=\"btn ghost\" href=\"/\">بازگشت <span lang=\"en\">· Back</span></a></div>\
         </form></section></div>",
        slug = p.slug,
        colour = p.colour,
        glyph = p.glyph,
        fa = p.name_fa,
        en = p.name_en,
        bfa = p.blurb_fa,
        ben = p.blurb_en,
        price = price(p.price),
        toman = toman_fa(p.price),
        rial = rial_en(p.price),
    );
    layout("تسویه حساب", mode, sandbox_admin, &body)
}

fn status_label(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Created => ("ثبت شده", "Created"),
        Status::AwaitingPayment => ("در انتظار پرداخت", "Awaiting payment"),
        Status::Paid => ("پرداخت شده", "Paid"),
        Status::Failed => ("ناموفق", "Failed"),
        Status::Pending => ("در حال بررسی", "Pending"),
    }
}

fn badge(status: Status) -> String {
    let (fa, en) = status_label(status);
    format!(
        "<span class=\"badge {s}\" data-status=\"{s}\">{fa} <span lang=\"en\">· {en}</span></span>",
        s = status.as_str()
    )
}

fn product_names(slug: &str) -> (String, String) {
    match product(slug) {
        Some(p) => (p.name_fa.to_owned(), p.name_en.to_owned()),
        None => (escape(slug), escape(slug)),
    }
}

/// A note shown once on the order page after "check again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The gateway still has not confirmed.
    StillPending,
    /// Another request is verifying this payment right now.
    InProgress,
    /// The payment can no longer be verified automatically.
    TooLate,
    /// The check could not be done.
    CheckFailed,
    /// The gateway refunded the payment.
    Refunded,
    /// The gateway refused the refund (too late, or already refunded) or did not answer.
    RefundRefused,
}

impl Note {
    /// The query value that names the note.
    pub fn as_str(self) -> &'static str {
        match self {
            Note::StillPending => "still_pending",
            Note::InProgress => "in_progress",
            Note::TooLate => "too_late",
            Note::CheckFailed => "check_failed",
            Note::Refunded => "refunded",
            Note::RefundRefused => "refund_refused",
        }
    }

    /// The note named by a query value.
    pub fn parse(s: &str) -> Option<Note> {
        [
            Note::StillPending,
            Note::InProgress,
            Note::TooLate,
            Note::CheckFailed,
            Note::Refunded,
            Note::RefundRefused,
        ]
        .into_iter()
        .find(|n| n.as_str() == s)
    }

    fn text(self) -> (&'static str, &'static str) {
        match self {
            Note::StillPending => (
                "درگاه هنوز پرداخت را تایید نکرده است. چند لحظهٔ دیگر دوباره بررسی کنید.",
                "The gateway has not confirmed the payment yet. Check again in a moment.",
            ),
            Note::InProgress => (
                "این پرداخت همین حالا در حال بررسی است؛ لحظه‌ای بعد صفحه را تازه کنید.",
                "This payment is being checked right now; refresh in a moment.",
            ),
            Note::TooLate => (
                "مهلت بررسی خودکار این پرداخت گذشته است؛ با پشتیبانی تماس بگیرید.",
                "This payment can no longer be checked automatically; please contact support.",
            ),
            Note::CheckFailed => (
                "بررسی انجام نشد؛ لطفا کمی بعد دوباره تلاش کنید.",
                "The check could not be done; please try again later.",
            ),
            Note::Refunded => (
                "مبلغ این پرداخت به خریدار بازگردانده شد.",
                "The payment was refunded to the buyer.",
            ),
            Note::RefundRefused => (
                "درگاه بازگرداندن مبلغ را نپذیرفت یا پاسخ نداد (مهلت آن گذشته، یا پیش‌تر بازگردانده شده است).",
                "The gateway refused the refund or did not answer (its window has passed, or it was refunded before).",
            ),
        }
    }
}

/// One order: paid (with the references and card), failed, pending (with "check
/// again"), or waiting.
/// One order, with its payments as the library's ledger has them (`payments`, oldest
/// first): what the buyer's return, "check again" or the reconciler did to each.
pub fn order(
    o: &OrderRow,
    payments: &[PaymentRecord],
    refunded_at: Option<i64>,
    note: Option<Note>,
    view: View,
    mode: Mode,
    sandbox_admin: Option<&str>,
) -> String {
    let (name_fa, name_en) = product_names(&o.product);
    let (title_fa, title_en, icon, text_fa, text_en) = match o.status {
        Status::Paid => (
            "پرداخت موفق بود",
            "Payment successful",
            "✓",
            "سفارش شما پرداخت و ثبت شد. کد پیگیری را برای پیگیری‌های بعدی نگه دارید.",
            "Your order is paid. Keep the reference for any follow-up.",
        ),
        Status::Failed => (
            "پرداخت انجام نشد",
            "Payment not completed",
            "✕",
            "این سفارش پرداخت نشد. اگر مبلغی از حساب شما کسر شده باشد، بانک آن را حداکثر ظرف ۷۲ ساعت بازمی‌گرداند.",
            "This order was not paid. If money left your account, the bank returns it within 72 hours.",
        ),
        Status::Pending => (
            "پرداخت در حال بررسی است",
            "Payment being confirmed",
            "…",
            "پاسخ تایید درگاه به موقع نرسید. اگر پرداخت کرده‌اید نگران نباشید: با «بررسی دوباره» وضعیت را از درگاه می‌پرسیم.",
            "The gateway's confirmation did not arrive in time. If you paid, don't worry: \"Check again\" asks the gateway.",
        ),
        Status::AwaitingPayment => (
            "در انتظار پرداخت",
            "Awaiting payment",
            "…",
            "این سفارش به درگاه فرستاده شده و منتظر بازگشت شما از صفحهٔ پرداخت است.",
            "This order was sent to the gateway and waits for you to return from its payment page.",
        ),
        Status::Created => (
            "پرداخت آغاز نشده",
            "Payment not started",
            "…",
            "این سفارش هنوز به درگاه فرستاده نشده است.",
            "This order has not been sent to a gateway yet.",
        ),
    };
    let mut rows = vec![
        (
            "شماره سفارش",
            "Order",
            format!(
                "<span class=\"ltr\" id=\"order-id\">{}</span>",
                escape(&o.id)
            ),
        ),
        (
            "کالا",
            "Product",
            format!("{name_fa} <span class=\"en\">{name_en}</span>"),
        ),
        (
            "مبلغ",
            "Amount",
            format!(
                "{}<br><span class=\"en\">{}</span>",
                toman_fa(o.amount),
                rial_en(o.amount)
            ),
        ),
        (
            "درگاه",
            "Gateway",
            format!(
                "{} <span class=\"en\">{}</span>",
                o.gateway.persian_name(),
                o.gateway.display_name()
            ),
        ),
    ];
    if o.status == Status::Paid {
        if let Some(r) = &o.gateway_ref {
            rows.push((
                "شناسهٔ درگاه",
                "Gateway reference",
                format!(
                    "<span class=\"ltr\" id=\"gateway-ref\">{}</span>",
                    escape(r)
                ),
            ));
        }
        if let Some(r) = &o.bank_reference {
            rows.push((
                "کد پیگیری بانک",
                "Bank reference",
                format!("<span class=\"ltr\" id=\"bank-ref\">{}</span>", escape(r)),
            ));
        }
        if let Some(c) = &o.card_mask {
            rows.push((
                "کارت",
                "Card",
                format!("<span class=\"ltr\" id=\"card\">{}</span>", escape(c)),
            ));
        }
        if let Some(t) = o.paid_at {
            rows.push(("زمان پرداخت", "Paid at", jalali_datetime(t)));
        }
        if let Some(t) = refunded_at {
            rows.push((
                "بازگردانده شد",
                "Refunded",
                format!("<span id=\"refunded\">{}</span>", jalali_datetime(t)),
            ));
        }
    }
    if o.status == Status::Failed
        && let Some(reason) = &o.failure_reason
    {
        let (fa, en) = reason.split_once('\n').unwrap_or((reason, ""));
        rows.push((
            "علت",
            "Reason",
            format!("{}<br><span class=\"en\">{}</span>", escape(fa), escape(en)),
        ));
    }
    rows.push(("زمان ثبت", "Ordered at", jalali_datetime(o.created_at)));
    let table: String = rows
        .iter()
        .map(|(fa, en, v)| {
            format!("<tr><th>{fa} <span class=\"en\">{en}</span></th><td>{v}</td></tr>")
        })
        .collect();
    let note = note
        .map(|n| {
            let (fa, en) = n.text();
            format!("<div class=\"note\" id=\"note\" data-note=\"{}\">{fa}<br><span class=\"en\">{en}</span></div>", n.as_str())
        })
        .unwrap_or_default();
    let check = if o.status == Status::Pending {
        format!(
            "<form method=\"post\" action=\"{}/{}/check\"><button class=\"btn\" id=\"check-again\" type=\"submit\">\
             بررسی دوباره <span lang=\"en\">· Check again</span></button></form>",
            view.orders_path(),
            escape(&o.id)
        )
    } else {
        String::new()
    };
    // The admin may refund a paid order at a gateway that has refunds, once.
    let refund = if view == View::Admin
        && o.status == Status::Paid
        && refunded_at.is_none()
        && matches!(o.gateway, GatewayId::NovinPal | GatewayId::Zarinpal)
    {
        format!(
            "<form method=\"post\" action=\"{}/{}/refund\"><button class=\"btn ghost\" id=\"refund\" type=\"submit\">\
             بازگرداندن مبلغ <span lang=\"en\">· Refund</span></button></form>",
            view.orders_path(),
            escape(&o.id)
        )
    } else {
        String::new()
    };
    let again = if o.status == Status::Failed {
        format!(
            "<a class=\"btn\" href=\"/products/{}\">تلاش دوباره <span lang=\"en\">· Try again</span></a>",
            escape(&o.product)
        )
    } else {
        String::new()
    };
    let body = format!(
        "<section class=\"status {s}\" id=\"order\" data-order=\"{id}\" data-status=\"{s}\">\
         <h1><span aria-hidden=\"true\">{icon}</span> {title_fa}</h1><h2 class=\"en\">{title_en}</h2>\
         <p>{text_fa}<br><span class=\"en\">{text_en}</span></p>{note}</section>\
         <section class=\"panel\"><table>{table}</table>{ledger}\
         <div class=\"actions\">{check}{refund}{again}<a class=\"btn ghost\" href=\"{list}\">همهٔ سفارش‌ها <span lang=\"en\">· All orders</span></a>\
         <a class=\"btn ghost\" href=\"/\">ادامهٔ خرید <span lang=\"en\">· Keep shopping</span></a></div></section>",
        s = o.status.as_str(),
        id = escape(&o.id),
        ledger = payment_history(payments),
        list = match view {
            View::Buyer => "/orders",
            View::Admin => "/admin",
        },
    );
    layout(title_fa, mode, sandbox_admin, &body)
}

/// The ledger's record of an order's payments: each attempt's gateway, where it ended and
/// when. A payment settled without the buyer (the reconciler) shows here too.
fn payment_history(payments: &[PaymentRecord]) -> String {
    if payments.is_empty() {
        return String::new();
    }
    let rows: String = payments
        .iter()
        .map(|p| {
            let (fa, en) = ledger_status(p.status);
            let gateway = p.account.gateway();
            let millis = i64::try_from(p.updated_at.unix_timestamp_nanos() / 1_000_000)
                .unwrap_or_default();
            format!(
                "<tr data-ledger-status=\"{s}\"><td>{gfa}<br><span class=\"en\">{gen}</span></td>\
                 <td>{fa}<br><span class=\"en\">{en}</span></td><td class=\"nowrap\">{when}</td></tr>",
                s = p.status.as_str(),
                gfa = gateway.persian_name(),
                gen = gateway.display_name(),
                when = jalali_datetime(millis),
            )
        })
        .collect();
    format!(
        "<h3>پرداخت‌ها <span class=\"en\">Payments</span></h3><table id=\"ledger\">{rows}</table>"
    )
}

fn ledger_status(status: PaymentStatus) -> (&'static str, &'static str) {
    match status {
        PaymentStatus::Started => ("به درگاه فرستاده شد", "sent to the gateway"),
        PaymentStatus::Returned => ("خریدار بازگشت", "buyer returned"),
        PaymentStatus::Pending => (
            "در انتظار تایید درگاه",
            "awaiting the gateway's confirmation",
        ),
        PaymentStatus::Paid => ("تایید و ثبت شد", "confirmed and recorded"),
        PaymentStatus::Failed => ("ناموفق", "failed"),
        PaymentStatus::Expired => (
            "مهلت تایید گذشت؛ بسته شد",
            "closed: the verify window passed unconfirmed",
        ),
    }
}

/// A list of orders, newest first: the buyer's own, or every order for the admin.
pub fn orders(list: &[OrderRow], view: View, mode: Mode, sandbox_admin: Option<&str>) -> String {
    let rows: String = list
        .iter()
        .map(|o| {
            let (fa, en) = product_names(&o.product);
            format!(
                "<tr data-order=\"{id}\" data-status=\"{s}\"><td class=\"ltr\" data-label=\"سفارش · Order\"><a href=\"{path}/{id}\">{id}</a></td>\
                 <td data-label=\"کالا · Product\">{fa}<br><span class=\"en\">{en}</span></td><td class=\"nowrap\" data-label=\"مبلغ · Amount\">{toman}<br><span class=\"en\">{rial} rial</span></td>\
                 <td data-label=\"درگاه · Gateway\">{gfa}<br><span class=\"en\">{gen}</span></td><td data-label=\"وضعیت · Status\">{badge}</td><td class=\"nowrap\" data-label=\"زمان · Time\">{when}</td></tr>",
                id = escape(&o.id),
                path = view.orders_path(),
                s = o.status.as_str(),
                toman = toman_fa(o.amount),
                rial = o.amount.grouped(),
                gfa = o.gateway.persian_name(),
                gen = o.gateway.display_name(),
                badge = badge(o.status),
                when = jalali_datetime(o.created_at),
            )
        })
        .collect();
    let table = if list.is_empty() {
        "<p class=\"empty\">هنوز سفارشی ثبت نشده است.<br><span class=\"en\">No orders yet.</span></p>".to_owned()
    } else {
        format!(
            "<table id=\"orders\"><thead><tr><th>سفارش <span class=\"en\">Order</span></th><th>کالا <span class=\"en\">Product</span></th>\
             <th>مبلغ <span class=\"en\">Amount</span></th><th>درگاه <span class=\"en\">Gateway</span></th>\
             <th>وضعیت <span class=\"en\">Status</span></th><th>زمان <span class=\"en\">Time</span></th></tr></thead>\
             <tbody>{rows}</tbody></table>"
        )
    };
    let (title_fa, title_en) = match view {
        View::Buyer => ("سفارش‌های من", "My orders"),
        View::Admin => ("همهٔ سفارش‌ها (مدیر)", "All orders (admin)"),
    };
    let body = format!(
        "<h1>{title_fa}</h1><h2 class=\"en\">{title_en}</h2><section class=\"panel\" data-view=\"{v}\">{table}</section>",
        v = match view {
            View::Buyer => "buyer",
            View::Admin => "admin",
        }
    );
    layout(title_fa, mode, sandbox_admin, &body)
}

/// The admin view: every order, and how many callbacks were refused of each kind.
pub fn admin(
    list: &[OrderRow],
    refusals: &[(&str, u64)],
    mode: Mode,
    sandbox_admin: Option<&str>,
) -> String {
    let page = orders(list, View::Admin, mode, sandbox_admin);
    let rows: String = refusals
        .iter()
        .map(|(kind, count)| {
            format!(
                "<tr data-refusal=\"{k}\"><td class=\"ltr\">{k}</td><td>{n}</td></tr>",
                k = escape(kind),
                n = fa_digits(&count.to_string())
            )
        })
        .collect();
    let table = if refusals.is_empty() {
        "<p class=\"empty\">هیچ بازگشتی رد نشده است.<br><span class=\"en\">No callback was refused.</span></p>".to_owned()
    } else {
        format!("<table id=\"refusals\">{rows}</table>")
    };
    let section = format!(
        "<section class=\"panel\"><h3>بازگشت‌های ردشده از آغاز <span class=\"en\">Refused callbacks since start</span></h3>{table}</section></main>"
    );
    page.replacen("</main>", &section, 1)
}

/// A page with a title and a message, for errors and refused callbacks.
pub fn message(
    title: (&str, &str),
    text: (&str, &str),
    mode: Mode,
    sandbox_admin: Option<&str>,
) -> String {
    let body = format!(
        "<section class=\"status failed\" id=\"message\"><h1>{}</h1><h2 class=\"en\">{}</h2>\
         <p>{}<br><span class=\"en\">{}</span></p></section>\
         <div class=\"actions\"><a class=\"btn ghost\" href=\"/orders\">سفارش‌ها <span lang=\"en\">· Orders</span></a>\
         <a class=\"btn ghost\" href=\"/\">محصولات <span lang=\"en\">· Products</span></a></div>",
        escape(title.0),
        escape(title.1),
        escape(text.0),
        escape(text.1)
    );
    layout(&escape(title.0), mode, sandbox_admin, &body)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_toman_and_rial() {
        assert_eq!(toman_fa(Rial::new(4_850_000)), "۴۸۵٬۰۰۰ تومان");
        assert_eq!(toman_fa(Rial::new(12_345)), "۱٬۲۳۴ تومان و ۵ ریال");
        assert_eq!(
            rial_en(Rial::new(4_850_000)),
            "4,850,000 rial (485,000 toman)"
        );
    }

    #[test]
    fn jalali_dates() {
        // 2024-03-20 03:06:24 UTC was Nowruz 1403 (1403/01/01) at 06:36 Tehran time.
        assert_eq!(jalali_datetime(1_710_903_984_000), "۱۴۰۳/۰۱/۰۱ ۰۶:۳۶");
        // 2026-11-23 00:00 UTC = 1405/09/02 03:30 in Tehran.
        assert_eq!(jalali_datetime(1_795_392_000_000), "۱۴۰۵/۰۹/۰۲ ۰۳:۳۰");
    }
}
