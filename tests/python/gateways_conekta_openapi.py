#!/usr/bin/env python3
"""Validate the Conekta requests recorded by the sandbox against the official OpenAPI file.

Usage: gateways_conekta_openapi.py SPEC_YAML RECORDED_JSON
RECORDED_JSON is a list of {"method","path","headers","body"}. Exits non-zero on any violation or missing package.
"""
import json
import re
import sys
from urllib.parse import parse_qsl

try:
    import jsonschema
    import referencing
    import referencing.jsonschema
    import yaml
except ImportError as e:
    print(f"FAIL: missing package: {e}. pip install pyyaml jsonschema", file=sys.stderr)
    sys.exit(2)

spec_path, recorded_path = sys.argv[1], sys.argv[2]
with open(spec_path, encoding="utf-8") as f:
    # One 3.0 idiom (`exclusiveMinimum: true`) is invalid in a 3.1 document; drop it (tests/fixtures/conekta/README.md).
    text = "\n".join(l for l in f.read().splitlines() if l.strip() != "exclusiveMinimum: true")
spec = yaml.safe_load(text)
schemas = spec["components"]["schemas"]
resource = referencing.Resource.from_contents(spec, default_specification=referencing.jsonschema.DRAFT202012)
registry = referencing.Registry().with_resource("urn:conekta", resource)

ROUTES = [
    ("POST", re.compile(r"^/orders$"), "order_request"),
    ("POST", re.compile(r"^/orders/[^/]+/refunds$"), "orderRefund_request"),
    ("POST", re.compile(r"^/orders/[^/]+/capture$"), "order_capture_request"),
    ("POST", re.compile(r"^/orders/[^/]+/cancel$"), None),
    ("GET", re.compile(r"^/orders(/[^/]+)?$"), None),
]
path_methods = {p: set(m.upper() for m in ops) for p, ops in spec["paths"].items()}

with open(recorded_path, encoding="utf-8") as f:
    recorded = json.load(f)
if not recorded:
    print("FAIL: no recorded requests", file=sys.stderr)
    sys.exit(1)

errors = []
checked = 0
for i, r in enumerate(recorded):
    method, path, body = r["method"], r["path"], r["body"]
    accept = r["headers"].get("accept", "")
    if not re.fullmatch(r"application/vnd\.conekta-v2\.\d+\.\d+\+json", accept):
        errors.append(f"#{i} {method} {path}: Accept header {accept!r} is not a Conekta v2 media type")
    templ = re.sub(r"^/orders/[^/]+", "/orders/{id}", path)
    if templ not in path_methods or method not in path_methods[templ]:
        errors.append(f"#{i} {method} {path}: not an operation of the spec")
        continue
    op = spec["paths"][templ][method.lower()]
    allowed = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    for k, v in parse_qsl(r.get("query", ""), keep_blank_values=True):
        if k not in allowed:
            errors.append(f"#{i} {method} {path}: query parameter {k!r} not in the spec")
        if k == "limit" and not (v.isdigit() and 1 <= int(v) <= 250):
            errors.append(f"#{i} {method} {path}: limit {v!r} out of 1..250")
    route = next((name for m, rx, name in ROUTES if m == method and rx.match(path)), "unknown")
    if route == "unknown":
        errors.append(f"#{i} {method} {path}: not covered by this validator")
        continue
    if route is None:
        if body is not None:
            errors.append(f"#{i} {method} {path}: unexpected body")
        checked += 1
        continue
    if body is None and route == "order_capture_request":
        checked += 1
        continue
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"urn:conekta#/components/schemas/{route}"}, registry=registry
    )
    for e in validator.iter_errors(body):
        errors.append(f"#{i} {method} {path}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
    # The schemas allow unknown keys; we do not send any.
    unknown = set(body) - set(schemas[route].get("properties", {}))
    if unknown:
        errors.append(f"#{i} {method} {path}: keys not in {route}: {sorted(unknown)}")
    if route == "order_request":
        for item in body.get("line_items", []):
            extra = set(item) - set(schemas["product"].get("properties", {}))
            if extra:
                errors.append(f"#{i}: line_items keys not in product: {sorted(extra)}")
    checked += 1

for e in errors:
    print("FAIL:", e, file=sys.stderr)
print(f"checked {checked} Conekta requests against {spec_path}: {len(errors)} violations")
sys.exit(1 if errors else 0)
