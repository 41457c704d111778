//! Inopal's documented result codes, each with its meaning in English and Persian.

use crate::codes::code_table;

code_table! {
    /// Inopal's status codes, as the document's table lists them.
    pub enum InopalCode {
        Ok = 1, false, "Ok", "موفق";
        RequiredInputParametersNotSatisfied = -4, false, "requiredInputParametersNotSatisfied", "تمامی فیلدهای ضروری ارسال نشده است";
        IncorrectTerminalId = -5, false, "incorrectTerminalId", "شناسه ترمینال معتبر نیست";
        IncorrectAmount = -6, false, "incorrectAmount", "مبلغ معتبر نیست";
        LowAmount = -7, false, "lowAmount", "مبلغ کمتر از حداقل است";
        HighAmount = -8, false, "highAmount", "مبلغ بیشتر از حداکثر است";
        EmptyOrderId = -9, false, "emptyOrderId", "شناسه سفارش نمیتواند خالی باشد";
        ShortOrderId = -10, false, "shortOrderId", "طول شناسه سفارش کوتاه است";
        LongOrderId = -11, false, "longOrderId", "طول شناسه سفارش بلند است";
        PaymentFailed = -12, false, "paymentFailed", "تراکنش ناموفق";
        PaymentDataNotValid = -13, false, "paymentDataNotValid", "تراکنش شناسایی نشد";
        InactiveTerminal = -14, false, "inactiveTerminal", "ترمینال فعال نیست";
        InvalidCardNumber = -15, false, "invalidCardNumber", "شماره کارت معتبر نیست";
        RetryVerification = -16, false, "retryVerification", "تراکنش قبلا وریفای شده است";
        RetryToken = -17, false, "retryToken", "توکن تکراری است";
        InvalidCallbackAddress = -23, false, "invalidCallbackAddress", "آدرس برگشت معتبر نیست";
        ShopsInactive = -24, false, "shopsInactive", "فروشگاه فعال نیست";
        AmountExceededLimit = -25, false, "amountExeededLimit", "تراکنش بیشتر از سقف محدودیت می باشد";
        Error = -99, true, "error", "خطای سامانه";
    }
}
