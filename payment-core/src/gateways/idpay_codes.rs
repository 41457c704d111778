//! IDPay's documented result codes, each with its meaning in English and Persian.

use crate::codes::code_table;

code_table! {
    /// IDPay's codes: the transaction statuses (v1 and v1.1) and the API error codes.
    /// The two ranges do not overlap. 53 and 54 come from IDPay v1.1, not the v1 document.
    pub enum IdPayCode {
        NotPaid = 1, false, "payment not made", "پرداخت انجام نشده است";
        PaymentFailed = 2, false, "payment failed", "پرداخت ناموفق بوده است";
        ErrorOccurred = 3, false, "an error occurred", "خطا رخ داده است";
        Blocked = 4, false, "blocked", "بلوکه شده";
        ReturnedToPayer = 5, false, "returned to payer", "برگشت به پرداخت کننده";
        SystemReversal = 6, false, "reversed by the system", "برگشت خورده سیستمی";
        CancelledByPayer = 7, false, "cancelled by payer", "انصراف از پرداخت";
        SentToGateway = 8, false, "sent to the payment gateway", "به درگاه پرداخت منتقل شد";
        AwaitingVerify = 10, false, "paid, awaiting verify", "در انتظار تایید پرداخت";
        UserBlocked = 11, false, "user is blocked", "کاربر مسدود شده است.";
        ApiKeyNotFound = 12, false, "API key not found", "API Key یافت نشد.";
        IpMismatch = 13, false, "request IP does not match the web service's IPs", "این IP با IP های ثبت شده در وب سرویس همخوانی ندارد.";
        WebServiceNotApproved = 14, false, "web service not approved", "وب سرویس تایید نشده است.";
        BankAccountNotApproved = 21, false, "bank account not approved", "حساب بانکی متصل به وب سرویس تایید نشده است.";
        IdEmpty = 31, false, "id must not be empty", "کد تراکنش id نباید خالی باشد.";
        OrderIdEmpty = 32, false, "order_id must not be empty", "شماره سفارش order_id نباید خالی باشد.";
        AmountEmpty = 33, false, "amount must not be empty", "مبلغ amount نباید خالی باشد.";
        AmountBelowMinimum = 34, false, "amount below minimum", "مبلغ amount باید بیشتر از حداقل مبلغ باشد.";
        AmountAboveMaximum = 35, false, "amount above maximum", "مبلغ amount باید کمتر از حداکثر مبلغ باشد.";
        AmountOverLimit = 36, false, "amount over the allowed limit", "مبلغ amount بیشتر از حد مجاز است.";
        CallbackEmpty = 37, false, "callback must not be empty", "آدرس بازگشت callback نباید خالی باشد.";
        CallbackDomainMismatch = 38, false, "callback domain does not match the web service", "دامنه آدرس بازگشت callback با آدرس ثبت شده در وب سرویس همخوانی ندارد.";
        TransactionNotCreated = 51, false, "transaction not created", "تراکنش ایجاد نشد.";
        InquiryNoResult = 52, false, "inquiry found nothing", "استعلام نتیجه ای نداشت.";
        VerifyNotPossible = 53, false, "payment cannot be verified", "تایید پرداخت امکان پذیر نیست.";
        VerifyWindowPassed = 54, false, "the verify window has passed", "مدت زمان تایید پرداخت سپری شده است.";
        Verified = 100, false, "payment verified", "پرداخت تایید شده است";
        AlreadyVerified = 101, false, "payment already verified", "پرداخت قبلا تایید شده است";
        PaidOut = 200, false, "paid out to the merchant", "به دریافت کننده واریز شد";
    }
}
