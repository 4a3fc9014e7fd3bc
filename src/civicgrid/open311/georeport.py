"""GeoReport v2 as plain data: the two renderings (XML and its "Spark" JSON mapping), the
error shape, the query-string rules and the attribute checks. No ORM and no Django here, so
the shapes can be tested directly against the spec and real cities' answers.

XML: ``<?xml version="1.0" encoding="UTF-8"?>``, no namespace, the root wrapper named by the
call (``services``, ``service_requests``, ``service_definition``, ``discovery``, ``errors``),
repeated children under a plural element (``services/service``, ``attributes/attribute`` …).
JSON: the root wrapper disappears and repeated children become arrays.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
MAX_DESCRIPTION = 4000
MAX_SPAN = dt.timedelta(days=90)
MAX_REQUESTS = 1000
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")

# the element name of one item inside each plural element
ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}


@dataclass
class Problem(Exception):
    """One GeoReport error: HTTP status 400, 403 or 404, and a human-readable description."""

    status: int
    description: str
    code: int | None = None

    def body(self) -> dict:
        return {"code": self.code or self.status, "description": self.description}


class Refused(Exception):
    """Several problems at once; the answer's HTTP status is the first one's."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.description for p in problems))
        self.problems = problems


# --- rendering -------------------------------------------------------------------------------


def text(value: Any) -> str | None:
    """A scalar as GeoReport writes it: booleans ``true``/``false``, datetimes W3C with zone."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return w3c(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def w3c(when: dt.datetime) -> str:
    """``2026-11-26T10:00:00+08:00``: seconds, with the zone, as GeoReport asks."""
    return when.replace(microsecond=0).isoformat()


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    el = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        item = ITEM.get(name, name.rstrip("s") or "item")
        for v in value:
            _fill(el, item, v)
    else:
        s = text(value)
        if s is not None:
            el.text = s


def to_xml(root: str, value: Any) -> bytes:
    """``value`` under the element ``root``: a list becomes repeated items, a dict children."""
    top = ET.Element(root)
    if isinstance(value, list):
        item = ITEM[root]
        for v in value:
            _fill(top, item, v)
    else:
        for k, v in value.items():
            _fill(top, k, v)
    body = ET.tostring(top, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return w3c(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def to_json(value: Any) -> bytes:
    return json.dumps(_jsonable(value), ensure_ascii=False).encode()


def render(fmt: str, root: str, value: Any) -> bytes:
    return to_json(value) if fmt == "json" else to_xml(root, value)


def errors(problems: list[Problem]) -> list[dict]:
    return [p.body() for p in problems]


# --- query strings ---------------------------------------------------------------------------


def optional(value: str | None) -> str | None:
    """GeoReport's "optional": an empty parameter is an absent one."""
    value = (value or "").strip()
    return value or None


def comma_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_datetime(name: str, value: str, zone: dt.tzinfo) -> dt.datetime:
    """A W3C datetime (``2010-01-01T00:00:00Z``, ``…-05:00``) or a date; no zone = ``zone``."""
    raw = value.strip()
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Problem(
            400, f"{name}: not a W3C datetime (e.g. 2026-01-01T00:00:00Z): {raw}"
        ) from None
    if not 1900 <= when.year <= 2999:  # leaves room for the 90-day window either side
        raise Problem(400, f"{name}: out of range (years 1900 to 2999): {raw}")
    return when if when.tzinfo else when.replace(tzinfo=zone)


def window(
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The requested_datetime window of GET requests: at most 90 days, the last 90 by default."""
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = min(now, start + MAX_SPAN)
    if end < start:
        raise Problem(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Problem(400, "start_date and end_date may not span more than 90 days")
    return start, end


def positive_int(name: str, value: str | None, default: int, maximum: int) -> int:
    if optional(value) is None:
        return default
    try:
        n = int(value)
    except ValueError:
        raise Problem(400, f"{name} must be a positive integer") from None
    if n < 1:
        raise Problem(400, f"{name} must be a positive integer")
    return min(n, maximum)


_ATTR = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def attribute_values(items: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """``attribute[code]=v`` and ``attribute[code][]=v1&…`` from the form's (key, values)."""
    out: dict[str, list[str]] = {}
    for key, values in items:
        m = _ATTR.match(key)
        if m:
            out.setdefault(m.group(1), []).extend(v for v in values if v != "")
    return out


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    variable: bool
    description: str
    values: tuple[tuple[str, str], ...] = ()


def check_attributes(
    definition: list[Attribute], given: dict[str, list[str]]
) -> tuple[dict[str, Any], list[Problem]]:
    """The answers to a service's questions, checked against its definition."""
    answers: dict[str, Any] = {}
    problems: list[Problem] = []
    known = {a.code: a for a in definition if a.variable}
    for code in given:
        if code not in known:
            problems.append(Problem(400, f"attribute[{code}]: this service has no such attribute"))
    for a in known.values():
        values = given.get(a.code, [])
        if not values:
            if a.required:
                problems.append(Problem(400, f"attribute[{a.code}] is required ({a.description})"))
            continue
        keys = {k for k, _ in a.values}
        if a.datatype == "multivaluelist":
            bad = [v for v in values if v not in keys]
            if bad:
                problems.append(Problem(400, f"attribute[{a.code}]: not an option: {bad[0]}"))
            answers[a.code] = values
            continue
        if len(values) > 1:
            problems.append(Problem(400, f"attribute[{a.code}] takes one value"))
            continue
        v = values[0]
        if a.datatype == "singlevaluelist" and v not in keys:
            problems.append(Problem(400, f"attribute[{a.code}]: not an option: {v}"))
        elif a.datatype == "number":
            try:
                float(v)
            except ValueError:
                problems.append(Problem(400, f"attribute[{a.code}] must be a number"))
        elif a.datatype == "datetime":
            try:
                dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                problems.append(Problem(400, f"attribute[{a.code}] must be an ISO 8601 datetime"))
        elif a.datatype == "string" and ("\n" in v or "\r" in v):
            problems.append(Problem(400, f"attribute[{a.code}] is one line of text"))
        answers[a.code] = v
    return answers, problems


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>")
_EMAIL_FULL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def looks_like_html(s: str) -> bool:
    """The spec wants descriptions as plain text ("not html or code")."""
    return bool(_TAG.search(s))


def looks_like_email(s: str) -> bool:
    return bool(_EMAIL_FULL.match(s))
