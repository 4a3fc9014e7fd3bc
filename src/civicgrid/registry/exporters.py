"""``civicgrid export KIND FILE``: the same columns as the import, so an export can be
re-imported. Scoped to a user's jurisdiction when one is named; personal data masked unless the
server's operator asks for ``--unmasked``, which is written to the audit trail."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from django.db.models import Q

from civicgrid.accounts import pii
from civicgrid.accounts.scoping import scope_by_grid
from civicgrid.audit import services as audit
from civicgrid.registry import formats
from civicgrid.registry.models import Building, House, Organisation, Person, Place, Residence
from civicgrid.registry.selectors import residences_seen

CHUNK = 5000
# an owner registered by a houses file: its credit code and nothing else
_NAMELESS_ORG = Q(name="") | Q(kind="")


def _label(mapping: dict[str, str], code: str) -> str:
    return mapping.get(code, code)


def _tags(tags: str) -> str:
    return "、".join(_label(formats.CARE_TAGS, t) for t in tags.split(",") if t)


def _buildings(qs, unmasked, user) -> Iterator[list]:
    for b in qs.order_by("code").iterator(CHUNK):
        yield [
            b.code,
            b.grid_code,
            b.name,
            b.address,
            b.lon,
            b.lat,
            _label(formats.BUILDING_USES, b.use),
            _label(formats.BUILDING_FORMS, b.form),
            b.floors,
            b.year_built or "",
            b.safety_rating,
        ]


def _houses(qs, unmasked, user) -> Iterator[list]:
    cipher = pii.cipher()
    rows = qs.select_related("building", "owner_person", "owner_org").order_by("code")
    for h in rows.iterator(CHUNK):
        owner_id = ""
        if h.owner_person_id:
            p = h.owner_person
            owner_id = cipher.decrypt(p.id_enc) if unmasked else p.id_masked
        yield [
            h.code,
            h.building.code,
            h.floor,
            h.room,
            h.area if h.area is not None else "",
            _label(formats.HOUSE_USES, h.use),
            owner_id,
            h.owner_org.credit_code if h.owner_org_id else "",
        ]


def _persons(qs, unmasked, user) -> Iterator[list]:
    cipher = pii.cipher()
    batch: list[Person] = []

    def flush() -> Iterator[list]:
        homes: dict[int, list] = {}
        # a user's file lists the homes in their jurisdiction only, as the API does
        homes_seen = Residence.objects.all() if user is None else residences_seen(user)
        for r in (
            homes_seen.filter(person_id__in=[p.pk for p in batch], until=None)
            .select_related("house")
            .order_by("id")
        ):
            homes.setdefault(r.person_id, []).append(r)
        for p in batch:
            number = cipher.decrypt(p.id_enc) if unmasked else p.id_masked
            name = p.name if unmasked else pii.mask_name(p.name)
            phone = p.phone if unmasked else pii.mask_phone(p.phone)
            base = [
                number,
                name,
                phone,
                _label(formats.HOUSEHOLD_TYPES, p.household_type),
                _tags(p.tags),
            ]
            # the home in the grid that keeps the person last: the import places a person
            # at the last house of theirs the file names, so a round trip keeps them there
            mine = sorted(homes.get(p.pk, ()), key=lambda r: r.grid_code == p.grid_code)
            for r in mine or [None]:
                yield base + (
                    [
                        r.house.code,
                        _label(formats.RELATIONS, r.relation),
                        r.since.isoformat() if r.since else "",
                    ]
                    if r
                    else ["", "", ""]
                )

    # records known by number alone (a house owner or a rental landlord nobody has named) are
    # left out: the import needs a name and the row would say nothing but the number (an
    # owner comes back with the houses file, which names them by number)
    for person in qs.exclude(name="").order_by("id").iterator(CHUNK):
        batch.append(person)
        if len(batch) >= CHUNK:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _organisations(qs, unmasked, user) -> Iterator[list]:
    # owners known by credit code alone (from a houses file) are left out: the import needs a
    # name and a kind, and the houses file names them by code
    rows = qs.exclude(_NAMELESS_ORG).select_related("house").order_by("credit_code")
    for o in rows.iterator(CHUNK):
        yield [
            o.credit_code,
            o.name,
            _label(formats.ORG_KINDS, o.kind),
            o.industry,
            o.legal_rep if unmasked else pii.mask_name(o.legal_rep),
            o.house.code if o.house_id else "",
            o.staff if o.staff is not None else "",
        ]


def _places(qs, unmasked, user) -> Iterator[list]:
    for p in qs.order_by("kind", "name").iterator(CHUNK):
        yield [_label(formats.PLACE_KINDS, p.kind), p.name, p.lon, p.lat, p.note]


EXPORTS = {
    "buildings": (Building, _buildings),
    "houses": (House, _houses),
    "persons": (Person, _persons),
    "organisations": (Organisation, _organisations),
    "places": (Place, _places),
}


# what the file leaves out, per kind: records the import would refuse for want of a name
LEFT_OUT = {
    "persons": Q(name=""),  # known by ID number alone
    "organisations": _NAMELESS_ORG,  # known by credit code alone
}


def left_out(kind: str, *, user=None) -> int:
    """Rows of ``kind`` the user may see that the file leaves out: persons known by number
    alone (no name) and organisations known by credit code alone (no name or kind), whom
    the import would refuse. Said, so a round trip loses nothing silently (such a person may
    still have a home registered, such an organisation may own houses)."""
    if kind not in LEFT_OUT:
        return 0
    model = EXPORTS[kind][0]
    qs = model.objects.all() if user is None else scope_by_grid(model.objects.all(), user)
    return qs.filter(LEFT_OUT[kind]).count()


class ExportError(Exception):
    """The file cannot be written (no such folder, a format we do not write); in Chinese."""


# What Excel reads as the start of a formula in a CSV cell (OWASP, CSV injection).
FORMULA_STARTS = frozenset("=+-@\t\r")


def _guarded(text: str) -> str:
    """``text`` with a leading ``'`` when, after any ``'`` it already begins with, it begins
    with a formula character: the import takes one ``'`` off under the same rule, so every
    value comes back as it was (``'=x`` too)."""
    return "'" + text if text.lstrip("'")[:1] in FORMULA_STARTS else text


class _CsvSheet:
    """CSV in UTF-8 with a BOM, so Excel reads the Chinese. A text cell that Excel would run
    as a formula (a name or note beginning with ``=``, ``+``, ``-``, ``@``) is written with a
    leading ``'``, which makes it text; the import takes that ``'`` off again, so the file
    still imports back exactly. Numbers (a floor of -1) are not text and stay as they are."""

    def __init__(self, path: Path, kind: str):
        self._fh = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._fh)

    def writerow(self, row: list) -> None:
        self._writer.writerow([_guarded(v) if v.__class__ is str else v for v in row])

    def close(self) -> None:
        self._fh.close()


class _XlsxSheet:
    """A real XLSX, written row by row (openpyxl's write-only mode streams the rows to a
    temporary file, so memory stays flat however many rows there are)."""

    def __init__(self, path: Path, kind: str):
        import openpyxl

        self._path = path
        self._book = openpyxl.Workbook(write_only=True)
        self._sheet = self._book.create_sheet(kind)
        with open(path, "wb"):  # fail now, not after the last row, when it cannot be written
            pass

    def writerow(self, row: list) -> None:
        self._sheet.append([self._cell(v) for v in row])

    def _cell(self, value: object) -> object:
        from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell

        if value == "" or value is None:
            return None
        if not isinstance(value, str):
            return value
        if ILLEGAL_CHARACTERS_RE.search(value):  # control characters XML cannot hold
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("=") or value in ERROR_CODES:
            # text, not a formula or an error value: Excel shows it as written
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def close(self) -> None:
        self._book.save(self._path)


SHEETS = {".xlsx": _XlsxSheet}
NOT_WRITTEN = (".xls", ".xlsm", ".xlsb", ".ods")  # spreadsheet formats we do not write


def _open_sheet(path: Path, kind: str) -> _CsvSheet | _XlsxSheet:
    """The writer for ``path``: XLSX for a name ending in .xlsx, CSV otherwise."""
    suffix = path.suffix.lower()
    if suffix in NOT_WRITTEN:
        raise ExportError(f"不能导出为 {suffix} 文件：请用 .csv 或 .xlsx 结尾的文件名")
    if not path.parent.is_dir():
        raise ExportError(f"目录不存在：{path.parent}（请先创建该目录）")
    try:
        return SHEETS.get(suffix, _CsvSheet)(path, kind)
    except OSError as exc:
        raise ExportError(f"无法写入 {path}：{exc.strerror or exc}") from None


def export_file(kind: str, path: Path, *, user=None, unmasked: bool = False, actor=None) -> int:
    """Write the rows the ``user`` may see (all, for the operator); returns the row count.
    CSV, or XLSX when the name ends in .xlsx; raises ExportError when it cannot be written."""
    if unmasked and user is not None:
        raise PermissionError("只有服务器运维人员可以导出未脱敏数据")
    path = Path(path)
    model, rows = EXPORTS[kind]
    qs = model.objects.all() if user is None else scope_by_grid(model.objects.all(), user)
    count = 0
    sheet = _open_sheet(path, kind)
    try:
        sheet.writerow([c.name for c in formats.KINDS[kind]])
        for row in rows(qs, unmasked, user):
            sheet.writerow(row)
            count += 1
    finally:
        sheet.close()
    audit.record(
        "pii.export_unmasked" if unmasked else "registry.export",
        actor=actor or user,
        object_type=f"registry.{kind}",
        object_id=path.name[:64],
        region_path=user.jurisdiction.path
        if user is not None and user.jurisdiction_id
        else "440300",
        extra={"kind": kind, "rows": count, "unmasked": unmasked},
    )
    return count
