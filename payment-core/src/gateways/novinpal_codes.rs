//! NovinPal's documented result codes, each with its meaning in English and Persian.

use crate::codes::code_table;

code_table! {
    /// NovinPal's codes: verify `status` values (1, 0, -1, -2) and `errorCode`/callback
    /// `code` values (100–123). The ranges do not overlap.
    pub enum NovinPalCode {
        Paid = 1, false, "transaction succeeded", "تراکنش موفقیت آمیز بوده است";
        AwaitingPayment = 0, true, "awaiting payment", "در انتظار پرداخت";
        Failed = -1, false, "transaction failed", "تراکنش ناموفق بوده است";
        ServerErrorStatus = -2, true, "server error", "خطای سرور";
        Ok = 100, false, "request succeeded", "درخواست موفقیت آمیز بود";
        IpNotAllowed = 101, false, "merchant site IP not allowed", "آی پی سایت پذیرنده مجاز نیست";
        TerminalBlocked = 102, false, "terminal blocked", "ترمینال بلاک شده است";
        ReturnUrlNotMerchants = 103, false, "return URL does not belong to the merchant", "آدرس بازگشتی متعلق به سایت پذیرنده نیست";
        PspError = 104, true, "PSP error", "خطای PSP";
        TransactionNotFound = 105, false, "transaction not found", "تراکنش یافت نشد";
        WrongReference = 106, false, "wrong reference id", "شناسه مرجع اشتباه است";
        PspNotFound = 107, false, "PSP not found", "PSP یافت نشد";
        ServerError = 108, true, "server error", "خطای سرور";
        TransactionFailed = 109, false, "transaction failed", "تراکنش ناموفق بوده است";
        WrongAmount = 110, false, "wrong amount or below 10,000 rial", "مبلغ اشتباه وارد شده یا کمتر از 10000 ریال است";
        WrongApiKey = 111, false, "wrong API key", "کلید API اشتباه است";
        MerchantInactive = 112, false, "merchant inactive", "پذیرنده غیرفعال است";
        WrongOrderId = 113, false, "wrong order id", "شناسه سفارش اشتباه است";
        WrongMethod = 114, false, "wrong method", "متد ارسال شده اشتباه است";
        TerminalNotApproved = 115, false, "terminal not approved", "ترمینال تأیید نشده است";
        TerminalInactive = 116, false, "terminal inactive", "ترمینال غیرفعال است";
        TerminalRejected = 117, false, "terminal rejected", "ترمینال رد شده است";
        TerminalSuspended = 118, false, "terminal suspended", "ترمینال تعلیق شده است";
        NoTerminal = 119, false, "no terminal defined", "ترمینالی تعریف نشده است";
        AccountSuspended = 120, false, "merchant account suspended", "حساب کاربری پذیرنده به حالت تعلیق درآمده است";
        AccountNotApproved = 121, false, "merchant account not approved", "حساب کاربری پذیرنده تأیید نشده است";
        AccountNotFound = 122, false, "merchant account not found", "حساب کاربری پذیرنده یافت نشد";
        CardMismatch = 123, false, "card mismatch (paid with a card other than the one required)", "کارت نامعتبر است (عدم تطبیق کارت ارسالی با کارت پرداختی)";
    }
}
