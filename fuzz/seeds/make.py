#!/usr/bin/env python3
"""Writes the seed inputs of the decode_* targets: the documented answers of each
gateway (with the fuzz states' references, order id A1001 and amount 120000), each as
operation byte + HTTP status (2 bytes, big-endian) + body. Run from fuzz/."""
import json, os, struct

CREATE, VERIFY, OTHER2, OTHER3 = 0, 1, 2, 3
seeds = {
    "idpay": [
        (CREATE, 201, {"id": "d2e353189823079e1e4181772cff5292", "link": "https://idpay.ir/p/ws-sandbox/d2e353189823079e1e4181772cff5292"}),
        (CREATE, 406, {"error_code": 34, "error_message": "مبلغ amount باید بیشتر از حداقل مبلغ باشد."}),
        (VERIFY, 200, {"status": 100, "track_id": "10012", "id": "d2e353189823079e1e4181772cff5292", "order_id": "A1001", "amount": "120000", "date": "1546288200",
                       "payment": {"track_id": "888001", "amount": "120000", "card_no": "123456******1234", "date": "1546288500"}, "verify": {"date": "1546288800"}}),
        (VERIFY, 200, {"status": "101", "id": "d2e353189823079e1e4181772cff5292", "order_id": "A1001", "amount": 120000, "payment": []}),
        (VERIFY, 400, {"error_code": 53, "error_message": "تایید پرداخت امکان پذیر نیست."}),
        (OTHER2, 200, {"status": "100", "track_id": "10012", "id": "d2e353189823079e1e4181772cff5292", "order_id": "A1001", "amount": "120000", "card_no": "123456******1234", "date": "1546288200"}),
        (OTHER3, 200, {"status": "200", "id": "d2e353189823079e1e4181772cff5292", "order_id": "A1001", "amount": "120000", "payment": {"amount": "120000"}}),
    ],
    "novinpal": [
        (CREATE, 200, '{"refId":"447515262","status":1,}'),
        (CREATE, 200, {"status": 0, "errorCode": 111, "errorDescription": "کلید API اشتباه است"}),
        (CREATE, 200, "status=1&refId=447515262"),
        (VERIFY, 200, {"status": 1, "paidAt": "2023-01-01 12:00:00", "cardNumber": "610433******5678", "amount": "120000", "refNumber": "638060399619297999", "refId": "447515262", "description": "", "orderId": "A1001", "verifiedBefore": False}),
        (VERIFY, 200, {"status": 0}),
        (VERIFY, 200, {"status": -2, "errorCode": 108, "errorDescription": "خطای سرور"}),
        (OTHER2, 200, {"status": "1", "amount": 120000, "refId": "447515262", "orderId": "A1001", "verifiedBefore": "true"}),
    ],
    "inopal": [
        (CREATE, 200, {"status": 1, "message": "Ok", "data": {"token": "tok", "ref_num": "REF123", "order_id": "A1001", "payment_amount": 121000}}),
        (CREATE, 401, {"status": "unauthenticated", "message": "Unauthenticated.", "data": []}),
        (CREATE, 200, {"status": -10, "message": "shortOrderId", "data": []}),
        (VERIFY, 200, {"status": 1, "message": "Ok", "data": {"ref_num": "REF123", "price": 120000}}),
        (VERIFY, 200, {"status": -16, "message": "retryVerification", "data": []}),
    ],
    "canpay": [
        (CREATE, 200, {"status": True, "data": {"url": "https://canpay.ir/ipg/tok-canpay-1", "token": "tok-canpay-1"}}),
        (CREATE, 422, {"status": False, "error": "validation", "code": 1, "message": "amount is required", "description": ""}),
        (VERIFY, 200, {"status": True, "data": {"card": "6037997412345678", "reference": "123456789"}}),
        (VERIFY, 200, {"status": False, "error": "not_paid", "code": 4, "message": "not paid"}),
    ],
    "gardeshpay": [
        (CREATE, 200, {"success": True, "data": {"url": "https://ipg.gardeshpay.ir/pay", "token": "tok-gardeshpay-1"}, "message": "ok"}),
        (CREATE, 400, {"success": False, "code": "2", "message": "توکن پذیرنده معتبر نیست.", "errors": ["token", {"field": "x"}]}),
        (VERIFY, 200, {"success": True, "amount": 120000, "verifiedBefore": False, "data": {"cardNumber": "6104337712345678", "refNumber": "111", "invoiceNumber": "A1001"}, "message": "ok"}),
        (VERIFY, 200, {"success": True, "data": {"amount": "120000", "verifiedBefore": "1", "invoiceNumber": 1001}}),
        (VERIFY, 200, {"success": False, "code": 4, "message": "پرداخت ناموفق بوده است.", "errors": []}),
    ],
}
for gw, items in seeds.items():
    d = f"seeds/decode_{gw}"
    os.makedirs(d, exist_ok=True)
    for i, (op, status, body) in enumerate(items):
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        with open(f"{d}/{i:02}", "wb") as f:
            f.write(struct.pack(">BH", op, status) + text.encode())
