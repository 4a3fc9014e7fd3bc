"""Cleaning one row of a bulk file: text in, typed values out, or the reasons per column.

Pure functions (no database): what needs the database — does this grid, building or house
exist — is checked a batch at a time by the importer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from civicgrid.registry import codes, formats

MAX_ADDRESS = 200
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")


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


def _text(c: Cleaned, row: dict, column: str, max_len: int, *, required: bool = True) -> None:
    raw = row.get(column, "")
    if not raw and required:
        c.error(column, raw, "必填")
    elif len(raw) > max_len:
        c.error(column, raw[:40], f"过长（最多 {max_len} 个字符）")
    else:
        c.values[column] = raw


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


def _date(c: Cleaned, row: dict, column: str, today: dt.date) -> None:
    raw = _present(c, row, column, required=False, empty=None)
    if raw is None:
        return
    text = raw.replace("/", "-").replace(".", "-")[:10]
    try:
        value = (
            dt.date.fromisoformat(text)
            if len(text) == 10
            else dt.datetime.strptime(text, "%Y-%m-%d").date()
        )
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
        c.values[column] = raw


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


def _owner_id(c: Cleaned, row: dict, column: str) -> None:
    raw = _present(c, row, column, required=False, empty="")
    if raw is None:
        return
    reason = codes.validate_id_number(raw)
    if reason:
        c.error(column, raw, reason)
    else:
        c.values[column] = raw.strip().upper()


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
    _owner_id(c, row, "owner_id_number")
    _credit(c, row, "owner_credit_code", required=False)
    c.values.pop("credit_warning", None)
    if c.values.get("owner_id_number") and c.values.get("owner_credit_code"):
        c.error("owner_credit_code", row["owner_credit_code"], "业主只能是个人或单位之一")
    return c


def clean_person(row: dict, today: dt.date) -> Cleaned:
    c = Cleaned()
    raw = row.get("id_number", "")
    if not raw:
        c.error("id_number", raw, "必填")
    else:
        try:
            info = codes.parse_id_number(raw)
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
    else:
        c.values["phone"] = phone.replace(" ", "")
    _coded(c, row, "household_type", formats.HOUSEHOLD_TYPES)
    tags = []
    for tag in filter(
        None, (t.strip() for t in re.split(f"[{formats.TAG_SEPARATORS}]", row.get("tags", "")))
    ):
        code = _LOOKUPS[id(formats.CARE_TAGS)].get(tag.lower())
        if code is None:
            c.error("tags", tag, "未知标签，可选：" + "、".join(formats.CARE_TAGS.values()))
        elif code not in tags:
            tags.append(code)
    c.values["tags"] = f",{','.join(tags)}," if tags else ""
    _code(c, row, "house_code", 25, required=False)
    _coded(c, row, "relation", formats.RELATIONS, required=bool(row.get("house_code")))
    _date(c, row, "since", today)
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
    _text(c, row, "note", 500, required=False)
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
