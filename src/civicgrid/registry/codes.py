"""Identification codes of the registry (DESIGN §4): Shenzhen house and building codes, GB 11643
citizen ID numbers and GB 32100 unified social credit codes.

Pure functions with no Django import, so the importer, the API, the forms and the synthetic-city
generator all apply exactly the same rules. Reasons for rejection are in Chinese because they
are shown as-is to the stewards who fix the data. The vectorised generators at the end exist
because the generator writes tens of millions of rows; a per-row Python loop would dominate.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date

import numpy as np

__all__ = [
    "CREDIT_CHARSET",
    "ID_PROVINCES",
    "BuildingCode",
    "CodeError",
    "CreditCheck",
    "HouseCode",
    "IdInfo",
    "building_code",
    "check_credit_code",
    "credit_check_char",
    "credit_codes_from_parts",
    "house_code",
    "id_check_char",
    "id_numbers_from_parts",
    "normalise_code",
    "parse_building_code",
    "parse_house_code",
    "parse_id_number",
    "validate_building_code",
    "validate_house_code",
    "validate_id_number",
]


class CodeError(ValueError):
    """A code that is malformed; the message is a Chinese reason fit for the steward."""


def normalise_code(s: str) -> str:
    """Canonical form of a typed or pasted code: full-width characters folded (NFKC), surrounding
    whitespace stripped, letters upper-cased — so 'x', '１' and trailing blanks never matter."""
    return unicodedata.normalize("NFKC", s).strip().upper()


def _is_digits(s: str) -> bool:
    # str.isdigit() alone also accepts '²' or Arabic-Indic digits.
    return s.isascii() and s.isdigit()


# --- house and building codes ------------------------------------------------------------------

BUILDING_CODE_LEN = 19
HOUSE_CODE_LEN = 25
GRID_CODE_LEN = 14
MAX_BUILDING_SEQ = 99_999
MAX_ROOM_SEQ = 999_999


@dataclass(frozen=True)
class BuildingCode:
    """The parts of a 19-digit building code (楼栋编码). Every field is read from the code alone,
    so a building keeps its grid prefix even after its grid is re-drawn (codes are frozen)."""

    province: str  # 2 digits
    city: str  # 2 digits
    district: str  # 2 digits
    street: str  # 3 digits
    community: str  # 3 digits
    grid: str  # 2 digits: the grid's sequence inside its community
    building_seq: int  # 1..99999

    @property
    def district_code(self) -> str:
        return self.province + self.city + self.district

    @property
    def street_code(self) -> str:
        return self.district_code + self.street

    @property
    def community_code(self) -> str:
        return self.street_code + self.community

    @property
    def grid_code(self) -> str:
        return self.community_code + self.grid

    @property
    def building_code(self) -> str:
        return f"{self.grid_code}{self.building_seq:05d}"

    @property
    def code(self) -> str:
        """The full code this object was parsed from."""
        return self.building_code

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class HouseCode(BuildingCode):
    """The parts of a 25-digit house code (房屋编码): its building's code plus the room."""

    room_seq: int  # 1..999999

    @property
    def house_code(self) -> str:
        return f"{self.building_code}{self.room_seq:06d}"

    @property
    def code(self) -> str:
        return self.house_code

    @property
    def building(self) -> BuildingCode:
        return BuildingCode(
            self.province,
            self.city,
            self.district,
            self.street,
            self.community,
            self.grid,
            self.building_seq,
        )


def _check_grid_code(grid_code: str) -> None:
    if not (isinstance(grid_code, str) and len(grid_code) == GRID_CODE_LEN):
        raise ValueError(f"网格编码须为 14 位数字：{grid_code!r}")
    if not _is_digits(grid_code):
        raise ValueError(f"网格编码只能包含数字：{grid_code!r}")


def building_code(grid_code: str, seq: int) -> str:
    """The building code for the ``seq``-th building registered in a grid (issued once, then
    stored: the code never follows the building into a re-drawn grid)."""
    _check_grid_code(grid_code)
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_BUILDING_SEQ:
        raise ValueError(f"楼栋序号须在 1–{MAX_BUILDING_SEQ} 之间：{seq!r}")
    return f"{grid_code}{seq:05d}"


def house_code(building_code: str, room_seq: int) -> str:
    """The house code for the ``room_seq``-th room of a building."""
    if not (
        isinstance(building_code, str)
        and len(building_code) == BUILDING_CODE_LEN
        and _is_digits(building_code)
    ):
        raise ValueError(f"楼栋编码须为 19 位数字：{building_code!r}")
    if (
        isinstance(room_seq, bool)
        or not isinstance(room_seq, int)
        or not 1 <= room_seq <= MAX_ROOM_SEQ
    ):
        raise ValueError(f"房屋序号须在 1–{MAX_ROOM_SEQ} 之间：{room_seq!r}")
    return f"{building_code}{room_seq:06d}"


def _validate_location(
    code: str, kind: str, length: int, known_grids: Container[str] | None
) -> list[str]:
    """Reasons shared by building and house codes; stops early when the parts cannot be read."""
    if len(code) != length:
        return [f"{kind}长度须为 {length} 位（实为 {len(code)} 位）"]
    if not _is_digits(code):
        return [f"{kind}只能包含数字 0–9"]
    reasons: list[str] = []
    street, community, grid = code[6:9], code[9:12], code[12:14]
    if not 1 <= int(street) <= 599:
        reasons.append(f"街道（乡镇）码 {street} 须在 001–599 之间")
    if community == "000":
        reasons.append("社区（村）码不能为 000")
    if grid == "00":
        reasons.append("网格序号须在 01–99 之间（实为 00）")
    if code[14:19] == "00000":
        reasons.append("楼栋序号须在 00001–99999 之间（实为 00000）")
    if known_grids is not None and code[:14] not in known_grids:
        reasons.append(f"编码前 14 位 {code[:14]} 不是已知网格")
    return reasons


def validate_building_code(code: str, known_grids: Container[str] | None = None) -> list[str]:
    """Chinese reasons why ``code`` is not a valid 19-digit building code; empty when valid.

    ``known_grids`` (e.g. the set of grid codes in the governance tree) lets the caller check
    that the prefix names a real grid; this module knows no regions itself.
    """
    return _validate_location(normalise_code(code), "楼栋编码", BUILDING_CODE_LEN, known_grids)


def validate_house_code(code: str, known_grids: Container[str] | None = None) -> list[str]:
    """Chinese reasons why ``code`` is not a valid 25-digit house code; empty when valid."""
    code = normalise_code(code)
    reasons = _validate_location(code, "房屋编码", HOUSE_CODE_LEN, known_grids)
    if len(code) == HOUSE_CODE_LEN and _is_digits(code) and code[19:] == "000000":
        reasons.append("房屋序号须在 000001–999999 之间（实为 000000）")
    return reasons


def _parts(code: str) -> tuple[str, str, str, str, str, str, int]:
    return (code[0:2], code[2:4], code[4:6], code[6:9], code[9:12], code[12:14], int(code[14:19]))


def parse_building_code(code: str, known_grids: Container[str] | None = None) -> BuildingCode:
    """Split a building code into its parts; raises :class:`CodeError` with the reasons."""
    code = normalise_code(code)
    reasons = validate_building_code(code, known_grids)
    if reasons:
        raise CodeError("；".join(reasons))
    return BuildingCode(*_parts(code))


def parse_house_code(code: str, known_grids: Container[str] | None = None) -> HouseCode:
    """Split a house code into its parts; raises :class:`CodeError` with the reasons."""
    code = normalise_code(code)
    reasons = validate_house_code(code, known_grids)
    if reasons:
        raise CodeError("；".join(reasons))
    return HouseCode(*_parts(code), room_seq=int(code[19:25]))


# --- GB 11643 citizen ID number ----------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
#: First two digits of a GB/T 2260 area code (plus 71 台湾, 81 香港, 82 澳门, 91 for the
#: foreigners' permanent-residence card) — enough to catch shifted or invented numbers.
ID_PROVINCES = frozenset(
    {*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55)}
    | {*range(61, 66), 71, 81, 82, 91}
)
ID_MIN_BIRTH = date(1890, 1, 1)


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says about its holder; ``number`` is the normalised number."""

    number: str
    area: str  # 6-digit area code where the number was first issued
    birth_date: date
    sex: str  # "M" or "F"
    sequence: int  # 3-digit sequence, odd for men


def id_check_char(body17: str) -> str:
    """The GB 11643 check character ('0'–'9' or 'X') for the first 17 digits."""
    if len(body17) != 17 or not _is_digits(body17):
        raise CodeError("身份证号本体须为 17 位数字")
    total = sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _id_reason(number: str, today: date) -> str | None:
    if len(number) != 18:
        return f"长度须为 18 位（实为 {len(number)} 位）"
    if not _is_digits(number[:17]) or not (number[17] == "X" or _is_digits(number[17])):
        return "前 17 位须为数字，末位须为数字或 X"
    if int(number[:2]) not in ID_PROVINCES:
        return f"地区码无效：{number[:6]}（省级代码 {number[:2]} 不存在）"
    ymd = number[6:14]
    try:
        born = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
    except ValueError:
        return f"出生日期无效：{ymd} 不是真实日期"
    if born > today:
        return f"出生日期无效：{ymd} 晚于今天"
    if born < ID_MIN_BIRTH:
        return f"出生日期无效：{ymd} 早于 1890 年"
    expected = id_check_char(number[:17])
    if number[17] != expected:
        return f"校验码错误（应为 {expected}）"
    return None


def validate_id_number(s: str, *, today: date | None = None) -> str | None:
    """The Chinese reason why ``s`` is not a valid ID number, or None when it is valid.

    Lower-case 'x', full-width characters and surrounding whitespace are accepted.
    """
    return _id_reason(normalise_code(s), today or date.today())


def parse_id_number(s: str, *, today: date | None = None) -> IdInfo:
    """Normalise and decode an ID number; raises :class:`CodeError` with the Chinese reason."""
    number = normalise_code(s)
    reason = _id_reason(number, today or date.today())
    if reason:
        raise CodeError(f"身份证号{reason}")
    seq = int(number[14:17])
    return IdInfo(
        number=number,
        area=number[:6],
        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        sex="M" if seq % 2 else "F",
        sequence=seq,
    )


# --- GB 32100 unified social credit code -------------------------------------------------------

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I O S V Z
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_VALUE = {c: i for i, c in enumerate(CREDIT_CHARSET)}


@dataclass(frozen=True)
class CreditCheck:
    """Outcome of checking a credit code: ``errors`` reject it, ``warnings`` (a failed check
    character, which some early legal codes have) need a steward to accept it."""

    code: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing forbids storing the code (warnings may remain)."""
        return not self.errors


def credit_check_char(body17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    if len(body17) != 17 or any(c not in _CREDIT_VALUE for c in body17):
        raise CodeError("统一社会信用代码本体须为 17 位，且只能用 0–9 及除 I O S V Z 外的大写字母")
    total = sum(_CREDIT_VALUE[c] * w for c, w in zip(body17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def check_credit_code(s: str) -> CreditCheck:
    """Check a unified social credit code: wrong length or characters are errors; a check
    character mismatch or a non-numeric area code (positions 3–8) are warnings."""
    code = normalise_code(s)
    errors: list[str] = []
    warnings: list[str] = []
    if len(code) != 18:
        errors.append(f"长度须为 18 位（实为 {len(code)} 位）")
    bad = sorted({c for c in code if c not in _CREDIT_VALUE})
    if bad:
        errors.append(f"含非法字符 {'、'.join(bad)}（只能用 0–9 及除 I O S V Z 外的大写字母）")
    if not errors:
        if not _is_digits(code[2:8]):
            warnings.append(f"第 3–8 位登记机关行政区划码 {code[2:8]} 应为数字")
        expected = credit_check_char(code[:17])
        if code[17] != expected:
            warnings.append(f"校验码不符（应为 {expected}，实为 {code[17]}），请核实后确认")
    return CreditCheck(code=code, errors=errors, warnings=warnings)


# --- vectorised generators ---------------------------------------------------------------------

_ASCII_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
_ID_CHECK_ASCII = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)
_CREDIT_ASCII = np.frombuffer(CREDIT_CHARSET.encode(), dtype=np.uint8)
# Code point → value in CREDIT_CHARSET, 255 for anything else (the table covers all of ASCII).
_CREDIT_LOOKUP = np.full(128, 255, dtype=np.uint8)
_CREDIT_LOOKUP[_CREDIT_ASCII] = np.arange(31, dtype=np.uint8)
_PROVINCE_TABLE = np.zeros(100, dtype=bool)
_PROVINCE_TABLE[sorted(ID_PROVINCES)] = True


def _char_matrix(values: np.ndarray, width: int, what: str) -> np.ndarray:
    """Code points of a 1-D array of strings of exactly ``width`` characters, shape (width, n)."""
    if values.dtype.kind == "O":
        values = values.astype(str)
    if values.dtype.kind == "U":
        unit, cell = np.uint32, 4
    elif values.dtype.kind == "S":
        unit, cell = np.uint8, 1
    else:
        raise TypeError(f"{what}: expected strings, got dtype {values.dtype}")
    length = values.dtype.itemsize // cell
    if length < width:
        raise ValueError(f"{what}: every value must have exactly {width} characters")
    cps = np.ascontiguousarray(values).view(unit).reshape(-1, length)
    # Numpy pads short strings with NUL; a NUL inside the first ``width`` columns is caught by the
    # callers' character checks, so only the columns beyond ``width`` need checking here.
    if length > width and cps[:, width:].any():
        raise ValueError(f"{what}: every value must have exactly {width} characters")
    return np.ascontiguousarray(cps[:, :width].T)


def _flat(*arrays: object) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast the inputs together; their common shape and 1-D copies."""
    broadcast = np.broadcast_arrays(*(np.asarray(a) for a in arrays))
    return broadcast[0].shape, [a.reshape(-1) for a in broadcast]


def _write_digits(rows: np.ndarray, start: int, width: int, values: np.ndarray) -> None:
    """Decimal digits of ``values`` (non-negative, < 10**width) into rows start..start+width."""
    q = values.copy()
    for k in range(start + width - 1, start - 1, -1):
        rows[k] = q % 10
        q //= 10


def _as_strings(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(18, n) ASCII rows → an array of 18-character str of the given shape."""
    return np.ascontiguousarray(rows.T).view("S18").reshape(shape).astype("U18")


def id_numbers_from_parts(
    area: np.ndarray, birth_yyyymmdd: np.ndarray, seq: np.ndarray, *, today: date | None = None
) -> np.ndarray:
    """Valid 18-character ID numbers (dtype ``<U18``) built from their parts, vectorised.

    ``area`` holds 6-digit area codes as ints or strings, ``birth_yyyymmdd`` ints such as
    19491231, ``seq`` ints 0–999 (odd = male); the arrays broadcast together. Every input is
    checked the way :func:`validate_id_number` checks it (ValueError otherwise), so each
    output passes the scalar validator. Digits are kept one row per position (17 × n) so that
    every step is a contiguous vector operation.
    """
    shape, (area_a, birth_a, seq_a) = _flat(area, birth_yyyymmdd, seq)
    n = area_a.size
    rows = np.empty((18, n), dtype=np.uint8)

    if area_a.dtype.kind in "OUS":
        area_digits = _char_matrix(area_a, 6, "area").astype(np.int64) - ord("0")
        if ((area_digits < 0) | (area_digits > 9)).any():
            raise ValueError("area: codes must be 6 ASCII digits")
        rows[:6] = area_digits
        province = area_digits[0] * 10 + area_digits[1]
    elif area_a.dtype.kind in "iu":
        area_num = area_a.astype(np.int64)
        if ((area_num < 0) | (area_num > 999_999)).any():
            raise ValueError("area: codes must be 6-digit numbers")
        _write_digits(rows, 0, 6, area_num.astype(np.int32))
        province = area_num // 10_000
    else:
        raise TypeError(f"area: expected ints or strings, got dtype {area_a.dtype}")
    if not _PROVINCE_TABLE[province].all():
        raise ValueError("area: some codes do not start with a province code")

    if birth_a.dtype.kind not in "iu" or seq_a.dtype.kind not in "iu":
        raise TypeError("birth_yyyymmdd and seq must be integer arrays")
    ymd = birth_a.astype(np.int64)
    year, month, day = ymd // 10_000, ymd // 100 % 100, ymd % 100
    if ((month < 1) | (month > 12) | (year < ID_MIN_BIRTH.year) | (year > 9999)).any():
        raise ValueError("birth_yyyymmdd: some values are not real dates")
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    month_len = (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
    if ((day < 1) | (day > month_len.astype(np.int64))).any():
        raise ValueError("birth_yyyymmdd: some values are not real dates")
    limit = today or date.today()
    if (ymd > limit.year * 10_000 + limit.month * 100 + limit.day).any():
        raise ValueError("birth_yyyymmdd: some dates are after today")
    sequence = seq_a.astype(np.int64)
    if ((sequence < 0) | (sequence > 999)).any():
        raise ValueError("seq: values must be in 0..999")
    _write_digits(rows, 6, 8, ymd.astype(np.int32))
    _write_digits(rows, 14, 3, sequence.astype(np.int16))

    total = np.zeros(n, dtype=np.int32)
    for k, weight in enumerate(ID_WEIGHTS):
        total += rows[k] * np.int32(weight)
    rows[17] = _ID_CHECK_ASCII[total % 11]
    rows[:17] += ord("0")
    return _as_strings(rows, shape)


def credit_codes_from_parts(prefix8: np.ndarray, body9_numbers: np.ndarray) -> np.ndarray:
    """Unified social credit codes (dtype ``<U18``) with correct check characters, vectorised.

    ``prefix8`` holds the first 8 characters (registration department, institution type, 6-digit
    area code); ``body9_numbers`` ints in 0..31**9−1 written in base 31 over the charset as the
    9-character organisation identifier. The GB 11714 check inside that identifier is not
    modelled: synthetic identifiers are just numbers. The arrays broadcast together.
    """
    shape, (prefix_a, body_a) = _flat(prefix8, body9_numbers)
    n = prefix_a.size
    values = np.empty((17, n), dtype=np.uint8)

    cps = _char_matrix(prefix_a, 8, "prefix8")
    if (cps > 127).any():
        raise ValueError("prefix8: characters outside the credit-code charset")
    values[:8] = _CREDIT_LOOKUP[cps]
    if (values[:8] == 255).any():
        raise ValueError("prefix8: characters outside the credit-code charset")

    if body_a.dtype.kind not in "iu":
        raise TypeError("body9_numbers must be an integer array")
    q = body_a.astype(np.int64)
    if ((q < 0) | (q >= 31**9)).any():
        raise ValueError("body9_numbers: values must be in 0..31**9-1")
    for k in range(16, 7, -1):
        values[k] = q % 31
        q //= 31

    total = np.zeros(n, dtype=np.int32)
    for k, weight in enumerate(CREDIT_WEIGHTS):
        total += values[k] * np.int32(weight)
    rows = np.empty((18, n), dtype=np.uint8)
    rows[:17] = _CREDIT_ASCII[values]
    rows[17] = _CREDIT_ASCII[(31 - total % 31) % 31]
    return _as_strings(rows, shape)


# --- vectorised checks (the importer's fast path) ----------------------------------------------


def _ascii_matrix(values: list[str], width: int) -> tuple[list[int], np.ndarray]:
    """Positions of the values that are ASCII and exactly ``width`` long, and their bytes as a
    (len(positions), width) uint8 matrix."""
    keep = [i for i, s in enumerate(values) if len(s) == width and s.isascii()]
    raw = "".join([values[i] for i in keep]).encode("ascii")
    return keep, np.frombuffer(raw, dtype=np.uint8).reshape(len(keep), width)


def id_numbers_ok(values: list[str], *, today: date | None = None) -> list[bool]:
    """For each value: True when it is a valid ID number already in canonical form (what
    :func:`normalise_code` would leave unchanged), i.e. :func:`validate_id_number` accepts it
    and :func:`parse_id_number` returns it as is. False means "not known to be valid": the
    caller checks those one by one with the scalar functions, which give the reason."""
    out = [False] * len(values)
    keep, m = _ascii_matrix(values, 18)
    if not keep:
        return out
    digits = m[:, :17].astype(np.int32) - ord("0")
    last = m[:, 17]
    ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
    ok &= ((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X"))
    digits = np.where(ok[:, None], digits, 0)
    ok &= _PROVINCE_TABLE[digits[:, 0] * 10 + digits[:, 1]]
    year = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    ok &= (month >= 1) & (month <= 12) & (year >= max(ID_MIN_BIRTH.year, 1)) & (day >= 1)
    safe_month = np.where(ok, month, 1)
    safe_year = np.where(ok, year, 2000)
    months = ((safe_year - 1970) * 12 + safe_month - 1).astype("datetime64[M]")
    month_len = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(
        np.int64
    )
    ok &= day <= month_len
    limit = today or date.today()
    ok &= year * 10_000 + month * 100 + day <= limit.year * 10_000 + limit.month * 100 + limit.day
    total = (digits * np.asarray(ID_WEIGHTS, dtype=np.int32)).sum(axis=1)
    ok &= _ID_CHECK_ASCII[total % 11] == last
    for i, good in zip(keep, ok.tolist(), strict=True):
        out[i] = good
    return out


def credit_codes_ok(values: list[str]) -> list[bool]:
    """For each value: True when :func:`check_credit_code` would find neither an error nor a
    warning and leave it unchanged. False means "check it one by one"."""
    out = [False] * len(values)
    keep, m = _ascii_matrix(values, 18)
    if not keep:
        return out
    v = _CREDIT_LOOKUP[m]
    ok = (v != 255).all(axis=1)
    area = m[:, 2:8]
    ok &= ((area >= ord("0")) & (area <= ord("9"))).all(axis=1)
    body = np.where(ok[:, None], v[:, :17], 0).astype(np.int32)
    total = (body * np.asarray(CREDIT_WEIGHTS, dtype=np.int32)).sum(axis=1)
    ok &= _CREDIT_ASCII[(31 - total % 31) % 31] == m[:, 17]
    for i, good in zip(keep, ok.tolist(), strict=True):
        out[i] = good
    return out
