#!/usr/bin/env python3
"""Generate webhook test vectors independently of the Rust code (Python `hmac` + `cryptography`).

Usage: gateways_webhook_vectors.py > gateways_webhook_vectors.json
The JSON is committed; tests/it/gateways/webhook.rs verifies it with our verifier.
"""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

mp = []
for secret, data_id, request_id, ts in [
    ("a6b9f3c2e1d04a7b8c9d0e1f2a3b4c5d", "123456789", "bb56a2f1-6aae-46ac-982e-9dcd3581d08e", "1704908010"),
    ("another-secret", "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3", "6f1e3b1c-4f57-4b4a-9a7e-0b5d8f2c9a11", "1742505638"),
    ("s3cr3t", None, "c0ffee00-1111-2222-3333-444455556666", "1700000000"),
    ("s3cr3t", "987654321", None, "1700000000"),
]:
    manifest = ""
    if data_id is not None:
        manifest += f"id:{data_id};"
    if request_id is not None:
        manifest += f"request-id:{request_id};"
    manifest += f"ts:{ts};"
    v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    mp.append({"secret": secret, "data_id": data_id, "request_id": request_id, "ts": int(ts),
               "manifest": manifest, "x_signature": f"ts={ts},v1={v1}"})

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
conekta = []
for body in [
    '{"id":"5f1a2b3c4d5e6f7a8b9c0d1e","object":"event","type":"order.paid","data":{"object":{"id":"ord_2znsF4cv7L8sWnRya","payment_status":"paid"}}}',
    '{"type":"order.refunded","data":{"object":{"id":"ord_x","metadata":{"purchase_id":"é ñ ü"}}}}',
]:
    sig = key.sign(body.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    conekta.append({"body": body, "digest": base64.b64encode(sig).decode()})

print(json.dumps({"mercado_pago": mp, "conekta": {"public_key_pem": pem, "events": conekta}}, indent=2,
                 ensure_ascii=False))
