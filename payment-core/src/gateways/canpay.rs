//! CanPay (canpay.ir).
