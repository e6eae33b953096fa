"""X's webhook checks: the CRC answer and the signature of every delivery.

Both are `"sha256=" + base64(HMAC-SHA256(consumer_secret, message))`: the message is the
`crc_token` for the CRC and the raw request body for a delivery (header
`x-twitter-webhooks-signature`). The consumer secret is the X app's, not an account's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from django.conf import settings

SIGNATURE_HEADER = "x-twitter-webhooks-signature"

# The CRC answer is the very HMAC a delivery is signed with, so answering any crc_token would
# sign any bytes a caller chose: ask for the "CRC answer" of a forged event and POST it with
# that answer as its signature. X's tokens are short random strings in the base64 alphabets;
# only that shape is answered, and no event body (a JSON object, "{...}") ever has it.
CRC_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-+/=]{8,128}")


class NotACrcToken(ValueError):
    """The string is not shaped like X's crc_token; signing it could forge a delivery."""


def sign(message: bytes, secret: str | None = None) -> str:
    key = (secret if secret is not None else settings.X_WEBHOOK_CONSUMER_SECRET).encode()
    return "sha256=" + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def crc_response_token(crc_token: str) -> str:
    if not CRC_TOKEN_SHAPE.fullmatch(crc_token):
        raise NotACrcToken(crc_token[:40])
    return sign(crc_token.encode())


def is_signed_by_x(body: bytes, signature: str | None) -> bool:
    """Constant-time: the comparison must not tell an attacker how much of a guess was right."""
    if not signature or not settings.X_WEBHOOK_CONSUMER_SECRET:
        return False
    return hmac.compare_digest(sign(body).encode(), signature.strip().encode())
