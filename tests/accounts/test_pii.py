"""Masks, encryption and keyed lookup hashes of personal data (DESIGN §12). No database."""

from __future__ import annotations

import base64
import hmac
import re

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicgrid.accounts import pii
from civicgrid.accounts.pii import (
    PiiCipher,
    PiiError,
    cipher,
    mask_id_number,
    mask_name,
    mask_phone,
)

KEY = "test-key-0123456789abcdefghijklmnopqrstuvwxyz"
OTHER_KEY = "another-key-0123456789abcdefghijklmnopqrstuv"
ID = "11010519491231002X"


@pytest.fixture(scope="module")
def c() -> PiiCipher:
    return PiiCipher(KEY)


# --- masks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("440306199001011234", "440306********1234"),
        ("11010519491231002x", "110105********002X"),
        (" 11010519491231002X ", "110105********002X"),
        ("110105491231002", "11***********02"),  # old 15-digit number
        ("123456", "12**56"),
        ("12345", "1****"),
        ("123", "1**"),
        ("12", "**"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        (" 138 1234 5678 ", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("008613812345678", "+86 138****5678"),
        ("0755-12345678", "0755-******78"),
        ("010-12345678", "010-******78"),
        ("(0755)12345678", "(0755)******78"),
        ("0755 12345678", "0755 ******78"),
        ("075512345678", "0755******78"),
        ("01012345678", "010******78"),
        ("0755-12345678-123", "0755-********-*23"),
        ("26543210", "******10"),
        ("12345", "***45"),
        ("1234", "****"),
        ("110", "***"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_phone_hides_the_middle_of_any_mobile(number):
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[7:]


@given(st.text(alphabet="0123456789- ()+", max_size=30))
def test_mask_phone_never_shows_more_than_seven_digits(value):
    masked = mask_phone(value).removeprefix("+86 ")  # the country code is not personal
    shown = sum(ch.isdigit() for ch in masked)
    total = sum(ch.isdigit() for ch in value)
    assert shown <= 7
    assert shown < total or total == 0


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("张", "*"),
        ("买买提·艾力", "买*****"),
        ("John Smith", "J*********"),
        ("  李四 ", "李*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, masked):
    assert mask_name(value) == masked


# --- encryption ----------------------------------------------------------------------------------


@hypothesis.settings(max_examples=200)
@given(st.text())
def test_encrypt_decrypt_round_trip(c, plain):
    token = c.encrypt(plain)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert c.decrypt(token) == plain


def test_id_token_fits_in_80_characters(c):
    token = c.encrypt(ID)
    assert len(token) <= 80
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) == 12 + len(ID) + 16  # nonce, ciphertext, tag
    assert ID.encode() not in raw


def test_same_plaintext_encrypts_differently_but_hashes_alike(c):
    tokens = {c.encrypt(ID) for _ in range(20)}
    assert len(tokens) == 20
    assert {c.decrypt(t) for t in tokens} == {ID}
    assert len({c.lookup_hash(ID) for _ in range(5)}) == 1


def test_other_key_cannot_decrypt_and_hashes_differently(c):
    other = PiiCipher(OTHER_KEY)
    token = c.encrypt(ID)
    with pytest.raises(PiiError, match="无法解密"):
        other.decrypt(token)
    assert other.lookup_hash(ID) != c.lookup_hash(ID)
    # Same key string, new instance: everything still agrees.
    again = PiiCipher(KEY)
    assert again.decrypt(token) == ID
    assert again.lookup_hash(ID) == c.lookup_hash(ID)


@hypothesis.settings(max_examples=50)
@given(st.data())
def test_tampering_with_one_character_is_detected(c, data):
    token = c.encrypt(ID)
    i = data.draw(st.integers(0, len(token) - 1), label="position")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = data.draw(st.sampled_from(alphabet.replace(token[i], "")), label="char")
    with pytest.raises(PiiError):
        c.decrypt(token[:i] + replacement + token[i + 1 :])


def test_every_last_character_change_is_detected(c):
    """The last base64 character carries spare bits a lenient decoder would ignore."""
    token = c.encrypt(ID)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for ch in alphabet.replace(token[-1], ""):
        with pytest.raises(PiiError):
            c.decrypt(token[:-1] + ch)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "not base64!", "A" * 30, "é" * 40, "=" * 8],
)
def test_garbage_tokens_raise_pii_error(c, token):
    with pytest.raises(PiiError):
        c.decrypt(token)


def test_stray_characters_in_a_token_are_refused(c):
    token = c.encrypt(ID)
    for bad in (token + "=", token + "\n", " " + token, token[:10] + "!" + token[10:]):
        with pytest.raises(PiiError):
            c.decrypt(bad)


def test_empty_key_is_refused():
    with pytest.raises(ValueError):
        PiiCipher("")


def test_repr_hides_the_key(c):
    assert KEY not in repr(c)


# --- lookup hash ---------------------------------------------------------------------------------


def test_lookup_hash_is_64_hex(c):
    assert re.fullmatch(r"[0-9a-f]{64}", c.lookup_hash(ID))


def test_lookup_hash_normalises_id_numbers(c):
    expected = c.lookup_hash(ID)
    assert c.lookup_hash("11010519491231002x") == expected
    assert c.lookup_hash(f"  {ID}\n") == expected
    assert c.lookup_hash("１１０１０５１９４９１２３１００２ｘ") == expected
    assert c.lookup_hash("110105194912310038") != expected


@given(st.text(max_size=40))
def test_lookup_hash_is_standard_hmac_sha256_with_the_derived_key(c, value):
    derived = pii._derive(KEY.encode(), pii._INFO_HASH)
    expected = hmac.new(derived, pii.normalise_pii(value).encode(), "sha256").hexdigest()
    assert c.lookup_hash(value) == expected


def test_encryption_and_hash_keys_are_distinct():
    secret = KEY.encode()
    assert pii._derive(secret, pii._INFO_AEAD) != pii._derive(secret, pii._INFO_HASH)


# --- bulk --------------------------------------------------------------------------------------


@given(st.lists(st.text(max_size=30), max_size=30))
def test_bulk_matches_single(c, values):
    tokens = c.encrypt_many(values)
    assert len(tokens) == len(values)
    assert [c.decrypt(t) for t in tokens] == values
    assert c.lookup_hash_many(values) == [c.lookup_hash(v) for v in values]


def test_bulk_nonces_are_distinct(c):
    tokens = c.encrypt_many([ID] * 1000)
    nonces = {base64.urlsafe_b64decode(t + "==")[:12] for t in tokens}
    assert len(nonces) == 1000


# --- settings ----------------------------------------------------------------------------------


def test_cipher_follows_the_pii_key_setting(settings):
    settings.PII_KEY = KEY
    first = cipher()
    assert cipher() is first
    assert first.lookup_hash(ID) == PiiCipher(KEY).lookup_hash(ID)
    token = first.encrypt(ID)

    settings.PII_KEY = OTHER_KEY
    second = cipher()
    assert second is not first
    with pytest.raises(PiiError):
        second.decrypt(token)

    settings.PII_KEY = KEY
    assert cipher() is first
