"""Signed door-plate links (DESIGN §7): ``/q/<house code>?sig=<key id>.<mac>``.

The MAC is HMAC-SHA256 over the purpose and the house code, cut to 96 bits (enough against
forgery, short enough for a dense QR code). Keys rotate: ``CIVICGRID_QR_KEYS`` lists
``id:secret`` pairs, the first signs and all verify, so plates printed with an old key stay
valid until it is dropped from the list. Without it one key is generated into the data
directory on first use, like the PII key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from django.utils.crypto import constant_time_compare

from civicgrid import config

_KID = re.compile(r"^[A-Za-z0-9]{1,8}$")


@lru_cache(maxsize=4)
def _parse(spec: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for part in spec.split(","):
        kid, sep, secret = part.strip().partition(":")
        if not sep or not _KID.match(kid) or len(secret) < 16:
            raise ValueError("CIVICGRID_QR_KEYS 须为 id:secret[,id:secret…]，密钥至少 16 个字符")
        keys.append((kid, secret.encode()))
    return tuple(keys)


def keys() -> tuple[tuple[str, bytes], ...]:
    """(key id, secret) pairs, the signing key first."""
    spec = os.environ.get("CIVICGRID_QR_KEYS", "").strip()
    if not spec:
        spec = "k1:" + config.persistent_secret("CIVICGRID_QR_KEY", "qr_key")
    return _parse(spec)


def _mac(secret: bytes, purpose: str, code: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{code}".encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(code: str, purpose: str = "door") -> str:
    kid, secret = keys()[0]
    return f"{kid}.{_mac(secret, purpose, code)}"


def verify(code: str, sig: str | None, purpose: str = "door") -> bool:
    if not sig or "." not in sig:
        return False
    kid, _, mac = sig.partition(".")
    for known, secret in keys():
        if known == kid:
            return constant_time_compare(mac, _mac(secret, purpose, code))
    return False


def key_id(sig: str) -> str:
    return sig.partition(".")[0]
