//! GardeshPay (gardeshpay.ir).
