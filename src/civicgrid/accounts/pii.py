"""Personal data at rest and on screen (DESIGN §12).

ID numbers are stored encrypted (AES-256-GCM) next to a keyed hash (HMAC-SHA256), so an exact
lookup is one indexed equality and the clear value needs the key. ID numbers, phones and names
are masked in every response, page and export; revealing them is the caller's business (it needs
a permission, a reason and an access-log entry).

Only :func:`cipher` touches Django, and only when called, so the rest can be used by the
importer and the generator without settings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import unicodedata
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "PiiCipher",
    "PiiError",
    "cipher",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalise_pii",
]


# --- masks -------------------------------------------------------------------------------------


def mask_id_number(s: str | None) -> str:
    """``440306********1234`` for an 18-character number; other lengths keep at most the first
    two and last two characters so that at least half is hidden."""
    s = unicodedata.normalize("NFKC", s or "").strip().upper()
    n = len(s)
    if n == 18:
        return f"{s[:6]}{'*' * 8}{s[-4:]}"
    if n >= 6:
        return f"{s[:2]}{'*' * (n - 4)}{s[-2:]}"
    if n >= 3:
        return f"{s[0]}{'*' * (n - 1)}"
    return "*" * n


_PHONE_SEPARATORS = re.compile(r"[\s\-.]")
_MOBILE = re.compile(r"(?P<cc>(?:\+|00)?86)?(?P<number>1\d{10})", re.ASCII)
# Landline with its area code written apart: 0755-12345678, (0755)12345678, 010 12345678.
_LANDLINE_SPLIT = re.compile(
    r"(?P<area>\(0\d{2,3}\)[\s\-]?|0\d{2,3}[\s\-])(?P<rest>\d.*)", re.ASCII
)
# Landline written without a separator: 010/02x have 3-digit area codes, the rest 4 digits.
_LANDLINE_JOINED = re.compile(r"(?P<area>0(?:10|2\d|[3-9]\d\d))(?P<rest>\d{7,8})", re.ASCII)


def _mask_digits(s: str, keep_last: int) -> str:
    """Stars for every digit except the last ``keep_last`` ones; separators stay."""
    total = sum(c.isdigit() for c in s)
    seen = 0
    out = []
    for c in s:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - keep_last else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_phone(s: str | None) -> str:
    """``138****5678`` for a mobile number; a landline keeps its area code and last two digits
    (``0755-******78``); anything else keeps only its last two digits."""
    s = unicodedata.normalize("NFKC", s or "").strip()
    if not s:
        return ""
    compact = _PHONE_SEPARATORS.sub("", s)
    if m := _MOBILE.fullmatch(compact):
        cc = f"+{m['cc'].removeprefix('+').removeprefix('00')} " if m["cc"] else ""
        number = m["number"]
        return f"{cc}{number[:3]}****{number[-4:]}"
    if (m := _LANDLINE_SPLIT.fullmatch(s)) and sum(c.isdigit() for c in m["rest"]) >= 5:
        return m["area"] + _mask_digits(m["rest"], 2)
    if m := _LANDLINE_JOINED.fullmatch(compact):
        return m["area"] + _mask_digits(m["rest"], 2)
    if sum(c.isdigit() for c in s) <= 4:
        return re.sub(r"\d", "*", s)
    return _mask_digits(s, 2)


def mask_name(s: str | None) -> str:
    """``张*``, ``欧***``: the first character, then one star per remaining character."""
    s = (s or "").strip()
    if len(s) <= 1:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 1)


# --- encryption and keyed hash -----------------------------------------------------------------


class PiiError(ValueError):
    """A token that cannot be decrypted with this key; the message is in Chinese."""


_NONCE_LEN = 12
_TAG_LEN = 16
_SHA256_BLOCK = 64
_HKDF_SALT = b"civicgrid/pii"
_INFO_AEAD = b"civicgrid/pii/aes-256-gcm/v1"
_INFO_HASH = b"civicgrid/pii/hmac-sha256-lookup/v1"


def normalise_pii(value: str) -> str:
    """The form that is hashed: full-width folded, surrounding whitespace stripped, upper-case,
    so '11010519491231002x ' and '11010519491231002X' find the same person."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=info).derive(key)


class PiiCipher:
    """Encrypts personal data and computes its lookup hash with keys derived from one secret.

    HKDF with distinct labels gives independent encryption and hashing keys, so publishing
    hashes (e.g. in an export for matching) reveals nothing about the encryption key.
    Tokens are ``base64url(nonce ‖ ciphertext ‖ tag)`` without padding and carry no key id:
    rotating the secret means re-encrypting and re-hashing every stored value.
    """

    __slots__ = ("_aead", "_inner", "_outer")

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("PII key must not be empty")
        secret = key.encode()
        self._aead = AESGCM(_derive(secret, _INFO_AEAD))
        # HMAC (RFC 2104) with the padded-key states hashed once: each value then costs two
        # hash copies, about half of what hmac.digest spends re-keying on every call.
        hash_key = _derive(secret, _INFO_HASH).ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in hash_key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in hash_key))

    def __repr__(self) -> str:
        return "PiiCipher(<key hidden>)"

    def encrypt(self, plain: str) -> str:
        """A fresh random-nonce token for ``plain`` (the same value never encrypts alike)."""
        nonce = os.urandom(_NONCE_LEN)
        sealed = self._aead.encrypt(nonce, plain.encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")

    def encrypt_many(self, values: list[str]) -> list[str]:
        """:meth:`encrypt` for a batch, drawing all nonces in one system call."""
        seal = self._aead.encrypt
        b64 = base64.urlsafe_b64encode
        nonces = os.urandom(_NONCE_LEN * len(values))
        out = []
        for i, plain in enumerate(values):
            nonce = nonces[i * _NONCE_LEN : (i + 1) * _NONCE_LEN]
            out.append(b64(nonce + seal(nonce, plain.encode(), None)).rstrip(b"=").decode("ascii"))
        return out

    def decrypt(self, token: str) -> str:
        """The clear value of a token made by this key; :class:`PiiError` for anything else."""
        if not isinstance(token, str) or not token.isascii():
            raise PiiError("密文格式无效")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise PiiError("密文格式无效") from None
        # The decoder skips stray characters and ignores the spare low bits of the last one;
        # only the canonical spelling is accepted, so any edited character is refused.
        canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
        if canonical != token or len(raw) < _NONCE_LEN + _TAG_LEN:
            raise PiiError("密文格式无效")
        try:
            plain = self._aead.decrypt(raw[:_NONCE_LEN], raw[_NONCE_LEN:], None)
        except InvalidTag:
            raise PiiError("密文无法解密：已被篡改，或不是用本系统密钥加密的") from None
        return plain.decode()

    def lookup_hash(self, value: str) -> str:
        """HMAC-SHA256 (64 hex characters) of the normalised value: deterministic, for an
        indexed exact-match lookup without decrypting anything."""
        inner = self._inner.copy()
        inner.update(normalise_pii(value).encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def lookup_hash_many(self, values: list[str]) -> list[str]:
        """:meth:`lookup_hash` for a batch."""
        inner0, outer0, norm = self._inner, self._outer, normalise_pii
        out = []
        for value in values:
            inner = inner0.copy()
            inner.update(norm(value).encode())
            outer = outer0.copy()
            outer.update(inner.digest())
            out.append(outer.hexdigest())
        return out


@lru_cache(maxsize=4)
def _cipher_for(key: str) -> PiiCipher:
    return PiiCipher(key)


def cipher() -> PiiCipher:
    """The process-wide cipher for ``settings.PII_KEY`` (one instance per key, so a test that
    overrides the setting gets a matching cipher)."""
    from django.conf import settings

    return _cipher_for(settings.PII_KEY)


# --- personal data written into free text ------------------------------------------------

_TEXT_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_TEXT_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
_TEXT_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_TEXT_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact_text(s: str) -> str:
    """Free text for the public: ID numbers, phone numbers and e-mail addresses that people
    write into descriptions and notes are starred out (DESIGN §12)."""
    s = _TEXT_ID_NUMBER.sub(lambda m: f"{m[0][:6]}{'*' * 8}{m[0][-4:]}", s)
    s = _TEXT_MOBILE.sub(lambda m: _keep_digits(m[0], 3, 4), s)
    s = _TEXT_LANDLINE.sub(lambda m: _keep_digits(m[0], 4, 2), s)
    return _TEXT_EMAIL.sub(lambda m: m[0][0] + "***@" + m[0].split("@", 1)[1], s)


def _keep_digits(s: str, head: int, tail: int) -> str:
    digits = [i for i, c in enumerate(s) if c.isdigit()]
    hide = set(digits[head : len(digits) - tail])
    return "".join("*" if i in hide else c for i, c in enumerate(s))


def mask_email(s: str) -> str:
    s = s.strip()
    if "@" not in s:
        return "*" * len(s)
    user, domain = s.split("@", 1)
    return f"{user[:1]}***@{domain}"
