"""Cleaning one row of a bulk file: text in, typed values out, or the reasons per column.

Pure functions (no database): what needs the database — does this grid, building or house
exist — is checked a batch at a time by the importer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field

from civicgrid.registry import codes, formats

MAX_ADDRESS = 200
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")
MAX_PHONE = 20  # Person.phone, once spaces are taken out


@dataclass
class Cleaned:
    values: dict[str, object] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (column, value, reason)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)

    def error(self, column: str, value: str, reason: str) -> None:
        self.errors.append((column, value, reason))


def _lookup(mapping: dict[str, str]) -> dict[str, str]:
    """Label or code (any case) → code."""
    out = {}
    for code, label in mapping.items():
        out[code.lower()] = code
        out[label.lower()] = code
    return out


_LOOKUPS = {
    id(m): _lookup(m)
    for m in (
        formats.BUILDING_USES,
        formats.BUILDING_FORMS,
        formats.SAFETY_RATINGS,
        formats.HOUSE_USES,
        formats.HOUSEHOLD_TYPES,
        formats.CARE_TAGS,
        formats.RELATIONS,
        formats.ORG_KINDS,
        formats.PLACE_KINDS,
    )
}


def _present(c: Cleaned, row: dict, column: str, *, required: bool, empty: object) -> str | None:
    """The cell's text, or None when it is empty: then an error if the column is required,
    else ``empty`` as the column's value."""
    raw = row.get(column, "")
    if raw:
        return raw
    if required:
        c.error(column, raw, "必填")
    else:
        c.values[column] = empty
    return None


def _coded(
    c: Cleaned, row: dict, column: str, mapping: dict[str, str], *, required: bool = True
) -> None:
    raw = _present(c, row, column, required=required, empty="")
    if raw is None:
        return
    code = _LOOKUPS[id(mapping)].get(raw.lower())
    if code is None:
        c.error(column, raw, "取值无效，可选：" + "、".join(mapping.values()))
    else:
        c.values[column] = code


def _text(
    c: Cleaned,
    row: dict,
    column: str,
    max_len: int,
    *,
    required: bool = True,
    lines: bool = False,
) -> None:
    raw = row.get(column, "")
    if not raw and required:
        c.error(column, raw, "必填")
    elif len(raw) > max_len:
        c.error(column, raw[:40], f"过长（最多 {max_len} 个字符）")
    elif _controls(raw, lines):
        shown = raw[:40].replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        c.error(column, shown, "不能包含换行、制表符等控制字符")
    else:
        c.values[column] = raw


def _controls(text: str, lines: bool) -> bool:
    """Whether a one-line value (a name, an address) holds a control character: a line break
    pasted from another cell, a tab. A note (``lines``) may hold line breaks."""
    if text.isprintable():
        return False
    allowed = "\n\r" if lines else ""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def _int(c: Cleaned, row: dict, column: str, lo: int, hi: int, *, required: bool = True) -> None:
    raw = _present(c, row, column, required=required, empty=None)
    if raw is None:
        return
    try:
        number = float(raw)
        if not number.is_integer():
            raise ValueError
        value = int(number)
    except ValueError:
        c.error(column, raw, "必须是整数")
        return
    if not lo <= value <= hi:
        c.error(column, raw, f"超出范围（{lo}–{hi}）")
    else:
        c.values[column] = value


def _float(
    c: Cleaned, row: dict, column: str, lo: float, hi: float, *, required: bool = True
) -> None:
    raw = _present(c, row, column, required=required, empty=None)
    if raw is None:
        return
    try:
        value = float(raw)
    except ValueError:
        c.error(column, raw, "必须是数字")
        return
    if not math.isfinite(value) or not lo <= value <= hi:
        c.error(column, raw, f"超出范围（{lo}–{hi}）")
    else:
        c.values[column] = value


# 2023-05-01, 2023/5/1, 2023.05.01 or 2023年5月1日, optionally with the time a spreadsheet
# date cell carries (2023-05-01T00:00:00); nothing else may follow the date
_DATE = re.compile(
    r"(?P<y>\d{4})(?:[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})|年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日)"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)


def _date(c: Cleaned, row: dict, column: str, today: dt.date) -> None:
    raw = _present(c, row, column, required=False, empty=None)
    if raw is None:
        return
    m = _DATE.fullmatch(raw.strip())
    try:
        if m is None:
            raise ValueError
        value = dt.date(int(m["y"]), int(m["m"] or m["m2"]), int(m["d"] or m["d2"]))
    except ValueError:
        c.error(column, raw, f"日期格式无效（应为 {formats.DATE_FORMAT}）")
        return
    if value > today:
        c.error(column, raw, "日期不能晚于今天")
    else:
        c.values[column] = value


def _lon_lat(c: Cleaned, row: dict) -> None:
    _float(c, row, "lon", -180, 180)
    _float(c, row, "lat", -90, 90)


def _code(c: Cleaned, row: dict, column: str, length: int, *, required: bool) -> None:
    raw = _present(c, row, column, required=required, empty="")
    if raw is None:
        return
    reasons = (
        codes.validate_building_code(raw)
        if length == 19
        else codes.validate_house_code(raw)
        if length == 25
        else ([] if re.fullmatch(r"\d{14}", raw) else ["网格编码须为 14 位数字"])
    )
    if reasons:
        c.error(column, raw, "；".join(reasons))
    else:
        c.values[column] = codes.normalise_code(raw)  # full-width digits, blanks folded


def clean_building(row: dict, today: dt.date) -> Cleaned:
    c = Cleaned()
    _code(c, row, "code", 19, required=False)
    _code(c, row, "grid_code", 14, required=True)
    _text(c, row, "name", 100, required=False)
    _text(c, row, "address", MAX_ADDRESS)
    _lon_lat(c, row)
    _coded(c, row, "use", formats.BUILDING_USES)
    _coded(c, row, "form", formats.BUILDING_FORMS)
    _int(c, row, "floors", 1, 200)
    _int(c, row, "year_built", 1800, today.year, required=False)
    _coded(c, row, "safety_rating", formats.SAFETY_RATINGS, required=False)
    return c


def _owner_id(c: Cleaned, row: dict, column: str, today: dt.date) -> None:
    raw = _present(c, row, column, required=False, empty="")
    if raw is None:
        return
    reason = codes.validate_id_number(raw, today=today)
    if reason:
        c.error(column, raw, reason)
    else:
        c.values[column] = codes.normalise_code(raw)  # full-width digits folded, as persons


def _credit(c: Cleaned, row: dict, column: str, *, required: bool) -> None:
    raw = _present(c, row, column, required=required, empty="")
    if raw is None:
        return
    check = codes.check_credit_code(raw)
    if check.errors:
        c.error(column, raw, "；".join(check.errors))
        return
    c.values[column] = check.code
    if check.warnings:
        c.warnings.append((column, raw, "；".join(check.warnings)))
        c.values["credit_warning"] = "；".join(check.warnings)[:100]
    else:
        c.values["credit_warning"] = ""


def clean_house(row: dict, today: dt.date) -> Cleaned:
    c = Cleaned()
    _code(c, row, "code", 25, required=False)
    _code(c, row, "building_code", 19, required=True)
    if (
        c.values.get("code")
        and c.values.get("building_code")
        and not c.values["code"].startswith(c.values["building_code"])
    ):
        c.error("code", row["code"], "房屋编码的前 19 位须等于所属楼栋编码")
    _int(c, row, "floor", -10, 200)
    _text(c, row, "room", 16)
    _float(c, row, "area", 0.5, 1_000_000, required=False)
    _coded(c, row, "use", formats.HOUSE_USES)
    _owner_id(c, row, "owner_id_number", today)
    _credit(c, row, "owner_credit_code", required=False)
    c.values.pop("credit_warning", None)
    if c.values.get("owner_id_number") and c.values.get("owner_credit_code"):
        c.error("owner_credit_code", row["owner_credit_code"], "业主只能是个人或单位之一")
    return c


def _tags(c: Cleaned, raw: str) -> None:
    tags = []
    for tag in filter(None, (t.strip() for t in _TAG_SPLIT.split(raw))):
        code = _LOOKUPS[id(formats.CARE_TAGS)].get(tag.lower())
        if code is None:
            c.error("tags", tag, "未知标签，可选：" + "、".join(formats.CARE_TAGS.values()))
        elif code not in tags:
            tags.append(code)
    c.values["tags"] = f",{','.join(tags)}," if tags else ""


_TAG_SPLIT = re.compile(f"[{formats.TAG_SEPARATORS}]")


def clean_person(row: dict, today: dt.date) -> Cleaned:
    c = Cleaned()
    raw = row.get("id_number", "")
    if not raw:
        c.error("id_number", raw, "必填")
    else:
        try:
            info = codes.parse_id_number(raw, today=today)
        except codes.CodeError as exc:
            c.error("id_number", raw, str(exc))
        else:
            c.values["id_number"] = info.number
            c.values["sex"] = info.sex
            c.values["birth_date"] = info.birth_date
    _text(c, row, "name", 64)
    phone = row.get("phone", "")
    if phone and not PHONE.match(phone):
        c.error("phone", phone, "电话号码格式无效")
    elif len(phone.replace(" ", "")) > MAX_PHONE:
        c.error("phone", phone, f"过长（最多 {MAX_PHONE} 个字符）")
    else:
        c.values["phone"] = phone.replace(" ", "")
    _coded(c, row, "household_type", formats.HOUSEHOLD_TYPES)
    _tags(c, row.get("tags", ""))
    _code(c, row, "house_code", 25, required=False)
    _coded(c, row, "relation", formats.RELATIONS, required=bool(row.get("house_code")))
    _date(c, row, "since", today)
    since, born = c.values.get("since"), c.values.get("birth_date")
    if since and born and since < born:
        c.error("since", row.get("since", ""), f"起始日期早于出生日期（{born.isoformat()}）")
        del c.values["since"]
    return c


def clean_organisation(row: dict, today: dt.date) -> Cleaned:
    c = Cleaned()
    _credit(c, row, "credit_code", required=True)
    _text(c, row, "name", 200)
    _coded(c, row, "kind", formats.ORG_KINDS)
    _text(c, row, "industry", 64, required=False)
    _text(c, row, "legal_rep", 64, required=False)
    _code(c, row, "house_code", 25, required=False)
    _int(c, row, "staff", 0, 10_000_000, required=False)
    return c


def clean_place(row: dict, today: dt.date) -> Cleaned:
    c = Cleaned()
    _coded(c, row, "kind", formats.PLACE_KINDS)
    _text(c, row, "name", 100)
    _lon_lat(c, row)
    _text(c, row, "note", 500, required=False, lines=True)
    return c


CLEANERS = {
    "buildings": clean_building,
    "houses": clean_house,
    "persons": clean_person,
    "organisations": clean_organisation,
    "places": clean_place,
}


def clean_batch(kind: str, batch: list[tuple[int, dict]], today: dt.date) -> list:
    """[(line, Cleaned)] for a batch of (line, raw row)."""
    cleaner = CLEANERS[kind]
    return [(line, cleaner(raw, today)) for line, raw in batch]


# --- batches, column-wise ------------------------------------------------------------------------
# The importer cleans a whole batch at once. Each kind's fast path below accepts only rows it
# can prove the row cleaner above would accept without a warning, and gives them the very same
# values (the ID and credit-code checks run vectorised over the batch; values that repeat —
# codes, floors, dates — are checked once per batch). Every other row goes through the row
# cleaner, which alone words the errors: the fast path never rejects anything itself.

CleanRow = tuple[int, dict, list, list]  # (line, values, errors, warnings)


_BAD = object()  # "the row cleaner must look at this value"


class _Column:
    """A value check applied to a whole column, each distinct raw value checked once (values
    repeat a lot: dates, floors, a house's code on every resident's line). The cache is kept
    across batches and emptied when it grows past ``limit`` entries, so memory stays bounded."""

    def __init__(self, check, limit: int = 200_000):
        self.check = check
        self.limit = limit
        self.cache: dict[str, object] = {}

    def map(self, column: list[str]) -> list:
        cache = self.cache
        if len(cache) > self.limit:
            cache.clear()
        for raw in set(column).difference(cache):
            cache[raw] = self.check(raw)
        return list(map(cache.__getitem__, column))


def _via(clean, column: str = "v"):
    """A column check from a row-cleaner helper: the clean value, or _BAD on any error."""

    def check(raw: str):
        c = Cleaned()
        clean(c, {column: raw})
        return _BAD if c.errors else c.values[column]

    return check


def _code_column(length: int, *, required: bool) -> _Column:
    return _Column(_via(lambda c, row: _code(c, row, "v", length, required=required)))


def _coded_column(mapping: dict[str, str], *, required: bool) -> _Column:
    lookup = _LOOKUPS[id(mapping)]
    empty = _BAD if required else ""
    return _Column(lambda raw: lookup.get(raw.lower(), _BAD) if raw else empty)


_HOUSE_CODE = _code_column(25, required=False)
_BUILDING_CODE = _code_column(19, required=True)
_FLOOR = _Column(_via(lambda c, row: _int(c, row, "v", -10, 200)))
_AREA = _Column(_via(lambda c, row: _float(c, row, "v", 0.5, 1_000_000, required=False)))
_STAFF = _Column(_via(lambda c, row: _int(c, row, "v", 0, 10_000_000, required=False)))
_TAGS = _Column(_via(lambda c, row: _tags(c, row["tags"]), "tags"))
_HOUSEHOLD = _coded_column(formats.HOUSEHOLD_TYPES, required=True)
_RELATION = _coded_column(formats.RELATIONS, required=False)
_HOUSE_USE = _coded_column(formats.HOUSE_USES, required=True)
_ORG_KIND = _coded_column(formats.ORG_KINDS, required=True)
_BIRTH = _Column(lambda ymd: dt.date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8])))
_SINCE: dict[dt.date, _Column] = {}


def _since(today: dt.date) -> _Column:
    if today not in _SINCE:
        _SINCE.clear()
        _SINCE[today] = _Column(_via(lambda c, row: _date(c, row, "v", today)))
    return _SINCE[today]


def _fast_persons(cols: dict[str, list[str]], n: int, today: dt.date) -> list[dict | None]:
    blank = [""] * n
    ids = cols["id_number"]
    ok_ids = codes.id_numbers_ok(ids, today=today)
    births = _BIRTH.map(
        [number[6:14] if ok else "19000101" for number, ok in zip(ids, ok_ids, strict=True)]
    )
    houses = cols.get("house_code", blank)
    relations = cols.get("relation", blank)
    out: list[dict | None] = []
    for number, ok, born, name, phone, htype, tags, house, raw_house, relation, since in zip(
        ids,
        ok_ids,
        births,
        cols.get("name", blank),
        cols.get("phone", blank),
        _HOUSEHOLD.map(cols.get("household_type", blank)),
        _TAGS.map(cols.get("tags", blank)),
        _HOUSE_CODE.map(houses),
        houses,
        _RELATION.map(relations),
        _since(today).map(cols.get("since", blank)),
        strict=True,
    ):
        if (
            not ok
            or not name
            or len(name) > 64
            or not name.isprintable()  # a tab, a line break (or a wide space: the slow path says)
            or (phone and not (phone.isascii() and phone.isdigit() and 7 <= len(phone) <= 20))
            or htype is _BAD
            or tags is _BAD
            or house is _BAD
            or relation is _BAD
            or (raw_house and not relation)  # a house needs a relation
            or since is _BAD
            or (since and since < born)
        ):
            out.append(None)
            continue
        out.append(
            {
                "id_number": number,
                "sex": "M" if number[16] in "13579" else "F",
                "birth_date": born,
                "name": name,
                "phone": phone,
                "household_type": htype,
                "tags": tags,
                "house_code": house,
                "relation": relation,
                "since": since,
            }
        )
    return out


def _fast_houses(cols: dict[str, list[str]], n: int, today: dt.date) -> list[dict | None]:
    blank = [""] * n
    owner_ids = cols.get("owner_id_number", blank)
    credits = cols.get("owner_credit_code", blank)
    out: list[dict | None] = []
    for code, building, floor, room, area, use, owner, ok_id, credit, ok_credit in zip(
        _HOUSE_CODE.map(cols.get("code", blank)),
        _BUILDING_CODE.map(cols["building_code"]),
        _FLOOR.map(cols.get("floor", blank)),
        cols.get("room", blank),
        _AREA.map(cols.get("area", blank)),
        _HOUSE_USE.map(cols.get("use", blank)),
        owner_ids,
        codes.id_numbers_ok(owner_ids, today=today),
        credits,
        codes.credit_codes_ok(credits),
        strict=True,
    ):
        if (
            code is _BAD
            or building is _BAD
            or floor is _BAD
            or area is _BAD
            or use is _BAD
            or not room
            or len(room) > 16
            or not room.isprintable()  # a tab, a line break: the row cleaner says
            or (owner and not ok_id)
            or (credit and not ok_credit)
            or (owner and credit)
            or (code and not code.startswith(building))
        ):
            out.append(None)
            continue
        out.append(
            {
                "code": code,
                "building_code": building,
                "floor": floor,
                "room": room,
                "area": area,
                "use": use,
                "owner_id_number": owner,
                "owner_credit_code": credit,
            }
        )
    return out


def _fast_organisations(cols: dict[str, list[str]], n: int, today: dt.date) -> list[dict | None]:
    blank = [""] * n
    credits = cols["credit_code"]
    out: list[dict | None] = []
    for credit, ok, name, kind, industry, legal_rep, house, staff in zip(
        credits,
        codes.credit_codes_ok(credits),
        cols.get("name", blank),
        _ORG_KIND.map(cols.get("kind", blank)),
        cols.get("industry", blank),
        cols.get("legal_rep", blank),
        _HOUSE_CODE.map(cols.get("house_code", blank)),
        _STAFF.map(cols.get("staff", blank)),
        strict=True,
    ):
        if (
            not ok
            or not name
            or len(name) > 200
            or kind is _BAD
            or len(industry) > 64
            or len(legal_rep) > 64
            # a tab, a line break (or a wide space): the row cleaner decides
            or not (name + industry + legal_rep).isprintable()
            or house is _BAD
            or staff is _BAD
        ):
            out.append(None)
            continue
        out.append(
            {
                "credit_code": credit,
                "credit_warning": "",
                "name": name,
                "kind": kind,
                "industry": industry,
                "legal_rep": legal_rep,
                "house_code": house,
                "staff": staff,
            }
        )
    return out


FAST = {
    "persons": _fast_persons,
    "houses": _fast_houses,
    "organisations": _fast_organisations,
}
_NONE: list = []


# What the reader puts before a spreadsheet number too long to be exact (reader.LOST_DIGITS).
LOST_DIGITS = "\ufffe"
_LOST_REASON = (
    "该单元格是数字格式，超过 15 位的数字已被表格软件舍入（如身份证号、编码），"
    "请把该列设为文本格式后重新录入"
)


def _nul_cells(cols: dict[str, list[str]]) -> dict[int, list[tuple[str, str, str]]]:
    """Row errors for cells holding a NUL character, which PostgreSQL cannot store in text
    (the COPY of the whole batch would fail), and for spreadsheet numbers whose digits were
    lost (an ID number typed as a number becomes another, possibly valid, number). One scan
    of each column's text finds none."""
    found: dict[int, list[tuple[str, str, str]]] = {}
    for name, column in cols.items():
        joined = "".join(column)
        if "\x00" in joined:
            for i, value in enumerate(column):
                if "\x00" in value:
                    shown = value.replace("\x00", "\\0")
                    found.setdefault(i, []).append((name, shown, "不能包含空字符（NUL）"))
        if LOST_DIGITS in joined:
            for i, value in enumerate(column):
                if value.startswith(LOST_DIGITS):
                    found.setdefault(i, []).append((name, value[1:], _LOST_REASON))
    return found


def clean_columns(
    kind: str, lines: list[int], cols: dict[str, list[str]], today: dt.date
) -> list[CleanRow]:
    """[(line, values, errors, warnings)] for a batch read column-wise."""
    n = len(lines)
    fast = FAST.get(kind)
    quick = fast(cols, n, today) if fast else [None] * n
    cleaner = CLEANERS[kind]
    names = list(cols)
    nul = _nul_cells(cols)
    out: list[CleanRow] = []
    for i, (line, values) in enumerate(zip(lines, quick, strict=True)):
        if i in nul:
            out.append((line, {}, nul[i], _NONE))
        elif values is not None:
            out.append((line, values, _NONE, _NONE))
        else:
            c = cleaner({name: cols[name][i] for name in names}, today)
            out.append((line, c.values, c.errors, c.warnings))
    return out
