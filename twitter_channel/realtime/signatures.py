"""X's webhook checks: the CRC answer and the signature of every delivery.

Both are `"sha256=" + base64(HMAC-SHA256(consumer_secret, message))`: the message is the
`crc_token` for the CRC and the raw request body for a delivery (header
`x-twitter-webhooks-signature`). The consumer secret is the X app's, not an account's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def sign(message: bytes, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.X_WEBHOOK_CONSUMER_SECRET).encode()
    return "sha256=" + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def crc_response_token(crc_token: str) -> str:
    return sign(crc_token.encode())


def is_signed_by_x(body: bytes, signature: str | None) -> bool:
    """Constant-time: the comparison must not tell an attacker how much of a guess was right."""
    if not signature or not settings.X_WEBHOOK_CONSUMER_SECRET:
        return False
    return hmac.compare_digest(sign(body).encode(), signature.strip().encode())
