//! Zibal's documented result and status codes, each with its meaning in English and
//! Persian.

use crate::codes::code_table;

code_table! {
    /// Zibal's `result` codes: of payment requests (100, 102 … 116), of verify (100,
    /// 102 … 104, 201 … 203) and of inquiry (100, 102 … 104, 203). They do not overlap
    /// with the payment statuses ([`ZibalStatus`]).
    pub enum ZibalCode {
        Success = 100, false, "success", "با موفقیت تایید شد.";
        MerchantNotFound = 102, false, "merchant not found", "merchant یافت نشد.";
        MerchantInactive = 103, false, "merchant inactive, or the gateway's contract not signed", "merchant غیرفعال / عدم امضا قرارداد درگاه مربوطه";
        MerchantInvalid = 104, false, "merchant invalid", "merchant نامعتبر";
        AmountTooLow = 105, false, "amount must be more than 1,000 rial", "amount بایستی بزرگتر از 1,000 ریال باشد.";
        CallbackUrlInvalid = 106, false, "callbackUrl invalid (must start with http or https)", "callbackUrl نامعتبر می‌باشد. (شروع با http و یا https)";
        PercentModeInvalid = 107, false, "percentMode invalid (only 0 and 1)", "percentMode نامعتبر می‌باشد. (تنها 0 و 1 قابل قبول هستند)";
        BeneficiaryInvalid = 108, false, "one or more beneficiaries in multiplexingInfos are invalid", "یک یا چند ذی‌نفع در multiplexingInfos نامعتبر می‌باشند.";
        BeneficiaryInactive = 109, false, "one or more beneficiaries in multiplexingInfos are inactive", "یک یا چند ذی‌نفع در multiplexingInfos غیرفعال می‌باشند.";
        SelfMissing = 110, false, "id = self is missing from multiplexingInfos", "id = self در multiplexingInfos وجود ندارد.";
        SharesMismatch = 111, false, "amount differs from the sum of the shares in multiplexingInfos", "amount با مجموع سهم‌ها در multiplexingInfos برابر نمی‌باشد.";
        FeeWalletInsufficient = 112, false, "the fee wallet's balance cannot cover the fee", "موجودی کیف پول کارمزد جهت کسر کارمزد کافی نیست.";
        AmountAboveLimit = 113, false, "amount is above the transaction limit", "amount مبلغ تراکنش از سقف میزان تراکنش بیشتر است.";
        NationalCodeInvalid = 114, false, "national code invalid", "کدملی ارسالی نامعتبر است.";
        IpNotRegistered = 115, false, "the calling IP is not registered in the panel", "ip شما در پنل کاربری ثبت نشده است.";
        FeeModeInvalid = 116, false, "feeMode invalid (integers only)", "feeMode نامعتبر می‌باشد. (تنها عدد صحیح قابل قبول است)";
        AlreadyVerified = 201, false, "verified before", "قبلا تایید شده";
        NotPaid = 202, false, "order not paid or failed (see the status)", "سفارش پرداخت نشده یا ناموفق بوده است.";
        TrackIdInvalid = 203, false, "trackId invalid", "trackId نامعتبر می‌باشد.";
    }
}

code_table! {
    /// Zibal's payment statuses: the `status` of a callback, and of a verify or inquiry
    /// answer. They do not overlap with the `result` codes ([`ZibalCode`]).
    pub enum ZibalStatus {
        AwaitingPayment = -1, true, "awaiting payment", "در انتظار پرداخت";
        InternalError = -2, true, "internal error", "خطای داخلی";
        PaidVerified = 1, false, "paid, verified", "پرداخت شده - تاییدشده";
        PaidNotVerified = 2, false, "paid, not verified", "پرداخت شده - تاییدنشده";
        CancelledByUser = 3, false, "cancelled by the buyer", "لغوشده توسط کاربر";
        InvalidCard = 4, false, "invalid card number", "شماره کارت نامعتبر می‌باشد.";
        InsufficientFunds = 5, false, "insufficient balance", "موجودی حساب کافی نمی‌باشد.";
        WrongPin = 6, false, "wrong PIN", "رمز واردشده اشتباه می‌باشد.";
        TooManyRequests = 7, false, "too many requests", "تعداد درخواست‌ها بیش از حد مجاز می‌باشد.";
        DailyCountExceeded = 8, false, "too many internet payments today", "تعداد پرداخت اینترنتی روزانه بیش از حد مجاز می‌باشد.";
        DailyAmountExceeded = 9, false, "daily internet payment amount exceeded", "مبلغ پرداخت اینترنتی روزانه بیش از حد مجاز می‌باشد.";
        InvalidIssuer = 10, false, "invalid card issuer", "صادرکننده‌ی کارت نامعتبر می‌باشد.";
        SwitchError = 11, false, "switch error", "خطای سوییچ";
        CardUnreachable = 12, false, "card not reachable", "کارت قابل دسترسی نمی‌باشد.";
        Refunded = 15, false, "refunded", "تراکنش استرداد شده";
        Refunding = 16, false, "refund in progress", "تراکنش در حال استرداد";
        Reversed = 18, false, "reversed", "تراکنش ریورس شده";
        InvalidMerchant = 21, false, "invalid merchant", "پذیرنده نامعتبر است";
    }
}
