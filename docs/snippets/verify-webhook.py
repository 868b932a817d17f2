"""Verify an Echo webhook in Python (standard library only).

Usage in a web framework: pass the raw request body (bytes, before any JSON parsing),
the request headers and your endpoint's secret(s). Raises ValueError when the webhook
is not authentic or is older than the tolerance.
"""
import base64
import hashlib
import hmac
import time


def verify_echo_webhook(body: bytes, headers: dict, secrets: list, tolerance_seconds: int = 300) -> dict:
    h = {k.lower(): v for k, v in headers.items()}
    msg_id = h.get("webhook-id")
    timestamp = h.get("webhook-timestamp")
    signatures = h.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise ValueError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_seconds:
        raise ValueError("timestamp outside the tolerance: possible replay")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    offered = [s[3:] for s in signatures.split(" ") if s.startswith("v1,")]
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return {"id": msg_id, "timestamp": int(timestamp)}
    raise ValueError("no valid signature")


if __name__ == "__main__":
    # The test suite feeds a real Echo delivery on stdin: {"body": ..., "headers": ..., "secret": ...}
    import json
    import sys

    case = json.load(sys.stdin)
    try:
        verify_echo_webhook(case["body"].encode(), case["headers"], [case["secret"]])
        print("valid")
    except ValueError as error:
        print(f"invalid: {error}")
