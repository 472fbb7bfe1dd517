#!/usr/bin/env python3
"""Cross-test: the official Python SDKs (PyPI `conekta` and `mercadopago`) against the sandbox gateways.

Usage: gateways_sdk_crosstest.py BASE_URL
Exits non-zero (never skips) when a package is missing or any step does not behave as the real API does.
"""
import sys
import uuid

BASE = sys.argv[1].rstrip("/")

try:
    import conekta
    import mercadopago
    from mercadopago.config import RequestOptions
    from mercadopago.http.http_client import HttpClient
except ImportError as e:  # fail, do not skip
    print(f"FAIL: missing package: {e}. pip install conekta==9.0.0 mercadopago==3.6.0", file=sys.stderr)
    sys.exit(2)


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


# ---------------------------------------------------------------- Conekta
api = conekta.ApiClient(conekta.Configuration(host=BASE, access_token="key_sdk_crosstest"))
orders = conekta.OrdersApi(api)
ref = f"sdk-{uuid.uuid4()}"
order = orders.create_order(
    conekta.OrderRequest(
        currency="MXN",
        customer_info=conekta.OrderRequestCustomerInfo(
            conekta.CustomerInfo(name="Juan Perez", email="juan@example.mx", phone="+525512345678")
        ),
        line_items=[conekta.Product(name="WiFi 1 hora", unit_price=1999, quantity=1)],
        charges=[
            conekta.ChargeRequest(
                payment_method=conekta.ChargeRequestPaymentMethod(
                    conekta.PaymentMethodGeneralRequest(type="card", token_id="tok_test_visa_4242")
                )
            )
        ],
        metadata={"purchase_id": ref},
    ),
    accept_language="es",
)
check(order.id.startswith("ord_"), "conekta create_order returns an ord_ id")
check(order.payment_status == "paid", "conekta order is paid")
check(order.amount == 1999, "conekta amount in cents")
got = orders.get_order_by_id(order.id, accept_language="es")
check(got.id == order.id and got.payment_status == "paid", "conekta get_order_by_id")
check(got.metadata.get("purchase_id") == ref, "conekta metadata round-trips")
refunded = orders.order_refund(
    order.id, conekta.OrderRefundRequest(amount=1999, reason="requested_by_client"), accept_language="es"
)
check(refunded.payment_status == "refunded", "conekta order_refund refunds in full")
try:
    orders.create_order(
        conekta.OrderRequest(
            currency="MXN",
            customer_info=conekta.OrderRequestCustomerInfo(
                conekta.CustomerInfo(name="Juan Perez", email="juan@example.mx", phone="+525512345678")
            ),
            line_items=[conekta.Product(name="WiFi 1 hora", unit_price=1999, quantity=1)],
            charges=[
                conekta.ChargeRequest(
                    payment_method=conekta.ChargeRequestPaymentMethod(
                        conekta.PaymentMethodGeneralRequest(type="card", token_id="tok_test_card_declined")
                    )
                )
            ],
        )
    )
    check(False, "conekta declined token raises")
except conekta.ApiException as e:
    check(e.status == 402, "conekta declined token answers 402")

# ---------------------------------------------------------------- Mercado Pago


class Rebase(HttpClient):
    def request(self, method, url, **kw):
        return super().request(method, url.replace("https://api.mercadopago.com", BASE, 1), **kw)


sdk = mercadopago.SDK("TEST-sdk-crosstest-token", http_client=Rebase())
tok = sdk.card_token().create(
    {
        "card_number": "4075595716483764",
        "expiration_month": 11,
        "expiration_year": 2030,
        "security_code": "123",
        "cardholder": {"name": "APRO", "identification": {"type": "RFC", "number": "XAXX010101000"}},
    }
)
check(tok["status"] == 201 and tok["response"]["id"], "mercadopago card_token().create")
ext = f"sdk-{uuid.uuid4()}"
key = str(uuid.uuid4())
created = sdk.payment().create(
    {
        "transaction_amount": 58.8,
        "token": tok["response"]["id"],
        "description": "WiFi 1 hora",
        "installments": 1,
        "payment_method_id": "visa",
        "external_reference": ext,
        "payer": {"email": "juan@example.mx"},
    },
    RequestOptions(custom_headers={"x-idempotency-key": key}),
)
check(created["status"] == 201, "mercadopago payment().create answers 201")
pay = created["response"]
check(pay["status"] == "approved" and pay["status_detail"] == "accredited", "APRO is approved/accredited")
check(pay["transaction_amount"] == 58.8, "mercadopago amount round-trips")
got = sdk.payment().get(pay["id"])
check(got["status"] == 200 and got["response"]["id"] == pay["id"], "mercadopago payment().get")
found = sdk.payment().search({"external_reference": ext})
check(found["status"] == 200 and found["response"]["results"][0]["id"] == pay["id"], "mercadopago payment().search")
refund = sdk.refund().create(pay["id"])
check(refund["status"] == 201 and refund["response"]["amount"] == 58.8, "mercadopago refund().create refunds in full")
after = sdk.payment().get(pay["id"])
check(after["response"]["status"] == "refunded", "payment is refunded afterwards")

tok2 = sdk.card_token().create(
    {"card_number": "5474925432670366", "expiration_month": 11, "expiration_year": 2030, "security_code": "123",
     "cardholder": {"name": "FUND"}}
)
rej = sdk.payment().create(
    {"transaction_amount": 10, "token": tok2["response"]["id"], "installments": 1, "payment_method_id": "master",
     "payer": {"email": "juan@example.mx"}},
    RequestOptions(custom_headers={"x-idempotency-key": str(uuid.uuid4())}),
)
check(rej["status"] == 201 and rej["response"]["status_detail"] == "cc_rejected_insufficient_amount",
      "FUND is rejected with cc_rejected_insufficient_amount (HTTP 201)")
print("ALL OK")
