//! Zarinpal's documented result codes, each with its meaning in English and Persian.

use crate::codes::code_table;

code_table! {
    /// Zarinpal's codes (payment gateway API v4): the `data.code` of a success (100, and
    /// 101 for a payment verified before) and the `errors.code` of a refusal (-9 … -63),
    /// in the order of Zarinpal's error list. The English texts follow the list's own
    /// (spelling mended); -18 and -19 are in the current list but not in every copy of it.
    pub enum ZarinpalCode {
        ValidationError = -9, false, "validation error (merchant_id, callback_url, description of at most 500 characters, amount within the limits, referrer_id)", "خطای اعتبار سنجی";
        TerminalNotValid = -10, false, "terminal is not valid: check merchant_id or the IP address", "ای پی یا مرچنت كد پذیرنده صحیح نیست.";
        TerminalNotActive = -11, false, "terminal is not active", "مرچنت کد فعال نیست، پذیرنده مشکل خود را به امور مشتریان زرین‌پال ارجاع دهد.";
        TooManyAttempts = -12, true, "too many attempts, try again later", "تلاش بیش از دفعات مجاز در یک بازه زمانی کوتاه";
        TerminalLimitReached = -13, false, "terminal transaction limit reached", "خطای مربوط به محدودیت تراکنش";
        CallbackDomainMismatch = -14, false, "the callback URL's domain does not match the terminal's registered domain", "کالبک URL با دامنه ثبت شده درگاه مغایرت دارد.";
        TerminalSuspended = -15, false, "terminal is suspended", "درگاه پرداخت به حالت تعلیق در آمده است.";
        LevelBelowSilver = -16, false, "merchant's verification level is below silver", "سطح تایید پذیرنده پایین تر از سطح نقره ای است.";
        BlueLevelLimit = -17, false, "merchant is limited at the blue level", "محدودیت پذیرنده در سطح آبی";
        ReferrerMismatch = -18, false, "referrer address mismatch: the terminal is used on another domain", "استفاده از کد درگاه در دامنه دیگر مجاز نیست";
        TransactionsBanned = -19, false, "the terminal may not create transactions", "امکان ایجاد تراکنش برای این ترمینال وجود ندارد";
        Success = 100, false, "success", "عملیات موفق";
        FloatingWagesNotAllowed = -30, false, "terminal may not accept floating wages", "پذیرنده اجازه دسترسی به سرویس تسویه اشتراکی شناور را ندارد.";
        NoDefaultBankAccount = -31, false, "terminal may not accept wages: add a default bank account in the panel", "حساب بانکی تسویه را به پنل اضافه کنید.";
        FloatingWagesOverAmount = -32, false, "floating wages exceed the amount", "مبلغ وارد شده از مبلغ کل تراکنش بیشتر است.";
        FloatingWagesInvalid = -33, false, "floating wages are not valid", "درصدهای وارد شده صحیح نیست.";
        FixedWagesOverAmount = -34, false, "fixed wages exceed the amount", "مبلغ وارد شده از مبلغ کل تراکنش بیشتر است.";
        TooManyWageParts = -35, false, "too many wage recipients", "تعداد افراد دریافت کننده تسهیم بیش از حد مجاز است.";
        WageBelowMinimum = -36, false, "a floating wage must be at least 10,000 rial", "حداقل مبلغ جهت تسهیم باید ۱۰۰۰۰ ریال باشد";
        WageIbanInactive = -37, false, "one or more wage IBANs are inactive at the bank", "یک یا چند شماره شبای وارد شده برای تسهیم از سمت بانک غیر فعال است.";
        WageIbanNotSet = -38, false, "wage IBAN not set at Shaparak", "خطا، عدم تعریف صحیح شبا، لطفا دقایقی دیگر تلاش کنید.";
        WageError = -39, false, "wages error", "خطایی رخ داده است به امور مشتریان زرین پال اطلاع دهید";
        InvalidExtraParams = -40, false, "invalid extra parameters (expire_in)", "پارامترهای اضافی نامعتبر است (expire_in)";
        AmountAboveMaximum = -41, false, "the maximum amount is 100,000,000 toman", "حداکثر مبلغ پرداختی ۱۰۰ میلیون تومان است";
        AmountMismatch = -50, false, "the amount paid differs from the amount sent to verify", "مبلغ پرداخت شده با مقدار مبلغ ارسالی در متد وریفای متفاوت است.";
        NotPaid = -51, false, "not a paid attempt (payment failed)", "پرداخت ناموفق";
        Unexpected = -52, true, "unexpected error, contact Zarinpal's support", "خطای غیر منتظره‌ای رخ داده است.";
        OtherMerchant = -53, false, "the payment is not this merchant_id's", "پرداخت متعلق به این مرچنت کد نیست.";
        InvalidAuthority = -54, false, "invalid authority", "اتوریتی نامعتبر است.";
        NotFound = -55, false, "payment request not found", "تراکنش مورد نظر یافت نشد";
        ReverseRefusedByBank = -60, false, "the payment cannot be reversed with the bank", "امکان ریورس کردن تراکنش با بانک وجود ندارد";
        NotSuccessful = -61, false, "the payment is not successful, or was reversed before", "تراکنش موفق نیست یا قبلا ریورس شده است";
        IpLimitNotActive = -62, false, "the terminal's IP limit must be set (reverse needs it)", "آی پی درگاه ست نشده است";
        ReverseWindowExpired = -63, false, "the 30 minutes to reverse this payment have passed", "حداکثر زمان (۳۰ دقیقه) برای ریورس کردن این تراکنش منقضی شده است";
        Verified = 101, false, "verified before", "تراکنش وریفای شده است.";
    }
}

/// A payment's status as Zarinpal's inquiry (`inquiry.json`) reports it: a name, not a
/// number, so it is kept apart from [`ZarinpalCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZarinpalStatus {
    /// `VERIFIED`: paid and verified.
    Verified,
    /// `PAID`: paid, not verified yet.
    Paid,
    /// `IN_BANK`: the buyer is paying at the bank.
    InBank,
    /// `FAILED`: not completed.
    Failed,
    /// `REVERSED`: reversed (refunded).
    Reversed,
}

impl ZarinpalStatus {
    /// Every documented status, in the document's order.
    pub const ALL: &'static [ZarinpalStatus] = &[
        ZarinpalStatus::Verified,
        ZarinpalStatus::Paid,
        ZarinpalStatus::InBank,
        ZarinpalStatus::Failed,
        ZarinpalStatus::Reversed,
    ];

    /// The status as Zarinpal sends it (`"VERIFIED"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ZarinpalStatus::Verified => "VERIFIED",
            ZarinpalStatus::Paid => "PAID",
            ZarinpalStatus::InBank => "IN_BANK",
            ZarinpalStatus::Failed => "FAILED",
            ZarinpalStatus::Reversed => "REVERSED",
        }
    }

    /// The documented status with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == name)
    }

    /// The documented meaning, in English.
    pub const fn english(self) -> &'static str {
        match self {
            ZarinpalStatus::Verified => "verified",
            ZarinpalStatus::Paid => "paid, not verified",
            ZarinpalStatus::InBank => "being paid at the bank",
            ZarinpalStatus::Failed => "failed (not completed)",
            ZarinpalStatus::Reversed => "reversed",
        }
    }

    /// The documented meaning, in Persian.
    pub const fn persian(self) -> &'static str {
        match self {
            ZarinpalStatus::Verified => "وریفای شده",
            ZarinpalStatus::Paid => "پرداخت شده (وریفای نشده)",
            ZarinpalStatus::InBank => "درحال پرداخت",
            ZarinpalStatus::Failed => "ناموفق (تکمیل نشده)",
            ZarinpalStatus::Reversed => "تراکنش ریورس شده",
        }
    }
}
