"""Door plates (DESIGN §7): the signed scan URL as a QR code, the plate around it (grade
colour as background, house code, address), and A4 print sheets with cut marks.

segno makes about a hundred QR codes a second, so each code's SVG is made once and kept in the
data directory under its key id (a rotated key makes new ones); a plate is string formatting
around it. Sheets for a community are made in the background (Celery; inline in the embedded
mode) and land as a zip of SVG pages.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from html import escape
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicgrid.core.errors import FieldError, NotFound, ServiceError
from civicgrid.rental import selectors, signing
from civicgrid.rental.models import PlateSheet, RentalProfile

# A4 in mm; plates 2 × 5 a page, 90 × 52 mm, with 3 mm cut marks outside each plate
PAGE_W, PAGE_H = 210, 297
PLATE_W, PLATE_H = 90, 52
COLS, ROWS = 2, 5
MARGIN_X = (PAGE_W - COLS * PLATE_W) / (COLS + 1)
MARGIN_Y = (PAGE_H - ROWS * PLATE_H) / (ROWS + 1)
CUT = 3
UNRENTED_COLOUR = "#5b6b7a"


def public_url() -> str:
    """Where the scan page is served: ``CIVICGRID_PUBLIC_URL`` (e.g. https://gov.example)."""
    return os.environ.get("CIVICGRID_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def scan_path(code: str) -> str:
    return f"/q/{code}?sig={signing.sign(code)}"


def scan_url(code: str) -> str:
    return public_url() + scan_path(code)


def _cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "rental" / "qr"


def qr_svg(code: str) -> str:
    """The QR code of the scan URL as a bare SVG (viewBox, no size), made once per key."""
    import segno

    url = scan_url(code)
    kid = signing.key_id(url.rsplit("sig=", 1)[1])
    digest = hashlib.sha256(public_url().encode()).hexdigest()[:8]
    path = _cache_dir() / f"{kid}-{digest}" / f"{code}.svg"
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buf, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=0, scale=1
    )
    svg = buf.getvalue().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.part")
    tmp.write_text(svg)
    tmp.replace(path)
    return svg


def _qr_at(code: str, x: float, y: float, size: float) -> str:
    svg = qr_svg(code)
    return svg.replace("<svg ", f'<svg x="{x}" y="{y}" width="{size}" height="{size}" ', 1)


def _lines(text: str, x: float, y: float, width: int = 13, size: float = 2.8) -> str:
    """Text wrapped by characters (Chinese addresses have no spaces), at most four lines."""
    rows = [text[i : i + width] for i in range(0, len(text), width)][:4]
    return "".join(
        f'<text x="{x}" y="{y + i * (size + 1)}" font-size="{size}" fill="#fff">{escape(r)}</text>'
        for i, r in enumerate(rows)
    )


def _plate(house, profile: RentalProfile | None, x: float = 0, y: float = 0) -> str:
    """One plate (mm units) at (x, y): colour background, white QR panel, code and address."""
    rules = selectors.active_rules()
    if profile is not None:
        grade = rules.grade(profile.grade)
        colour, title = grade.colour, f"出租屋 · {grade.label}"
    else:
        colour, title = UNRENTED_COLOUR, "房屋编码"
    address = f"{house.building.address} {house.room}"
    qr = 40
    return (
        f'<g transform="translate({x},{y})">'
        f'<rect width="{PLATE_W}" height="{PLATE_H}" rx="3" fill="{colour}"/>'
        f'<rect x="4" y="6" width="{qr + 4}" height="{qr + 4}" fill="#fff"/>'
        f"{_qr_at(house.code, 6, 8, qr)}"
        f'<text x="52" y="14" font-size="5.2" font-weight="bold" fill="#fff">{escape(title)}</text>'
        f'<text x="52" y="22" font-size="3" fill="#fff">扫码申报居住登记</text>'
        f'<text x="52" y="27" font-size="3" fill="#fff">反映问题</text>'
        f"{_lines(address, 52, 33)}"
        f'<text x="4" y="{PLATE_H - 1.5}" font-size="3.4" font-family="monospace" '
        f'fill="#fff">{house.code}</text>'
        f"</g>"
    )


def plate_svg(house, profile: RentalProfile | None) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PLATE_W} {PLATE_H}" '
        f'width="{PLATE_W}mm" height="{PLATE_H}mm" font-family="sans-serif">'
        f"{_plate(house, profile)}</svg>"
    )


def _cut_marks(x: float, y: float) -> str:
    lines = []
    for cx, cy, dx, dy in (
        (x, y, -1, -1),
        (x + PLATE_W, y, 1, -1),
        (x, y + PLATE_H, -1, 1),
        (x + PLATE_W, y + PLATE_H, 1, 1),
    ):
        lines.append(f'<line x1="{cx + dx}" y1="{cy}" x2="{cx + dx * (1 + CUT)}" y2="{cy}"/>')
        lines.append(f'<line x1="{cx}" y1="{cy + dy}" x2="{cx}" y2="{cy + dy * (1 + CUT)}"/>')
    return "".join(lines)


def sheet_pages(houses: list) -> list[str]:
    """A4 SVG pages of plates, with cut marks; ``houses`` carry ``rental`` or not."""
    per_page = COLS * ROWS
    pages = []
    for start in range(0, len(houses), per_page):
        body = []
        for i, house in enumerate(houses[start : start + per_page]):
            col, row = i % COLS, i // COLS
            x = MARGIN_X + col * (PLATE_W + MARGIN_X)
            y = MARGIN_Y + row * (PLATE_H + MARGIN_Y)
            profile = getattr(house, "rental", None)  # a missing profile raises AttributeError
            body.append(_plate(house, profile, x, y))
            body.append(f'<g stroke="#000" stroke-width="0.2">{_cut_marks(x, y)}</g>')
        pages.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W}mm" height="{PAGE_H}mm" '
            f'viewBox="0 0 {PAGE_W} {PAGE_H}" font-family="sans-serif">{"".join(body)}</svg>'
        )
    return pages


def _houses(sheet: PlateSheet) -> list:
    from civicgrid.registry.models import House

    qs = House.objects.select_related("building", "rental").filter(use="rent")
    if sheet.kind == "building":
        qs = qs.filter(building__code=sheet.scope)
    else:
        upper = str(int(sheet.scope) + 1).zfill(len(sheet.scope))
        qs = qs.filter(grid_code__gte=sheet.scope, grid_code__lt=upper)
    return list(qs.order_by("code"))


def request_sheet(actor, *, building: str | None = None, community: str | None = None):
    """Queue a sheet of plates for a building or a community (rented houses only)."""
    from civicgrid.geo.models import Region
    from civicgrid.registry import selectors as registry

    if bool(building) == bool(community):
        raise ServiceError("输入有误", [FieldError("building", "请给出楼栋编码或社区编码之一")])
    if not actor.has_perm("registry.view_house"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("无权打印门牌")
    if building:
        registry.building_for(actor, building)  # scoped: 404 outside the jurisdiction
        kind, scope = "building", building
    else:
        from civicgrid.accounts.scoping import contains

        region = Region.objects.filter(code=community, level="community").first()
        if region is None or not contains(actor, region.path):
            raise NotFound(f"社区 {community} 不存在")
        kind, scope = "community", community
    sheet = PlateSheet.objects.create(scope=scope, kind=kind, requested_by=actor.get_username())
    if settings.CELERY_TASK_ALWAYS_EAGER:  # embedded mode: in-process, now
        return make_sheet(sheet.pk)
    transaction.on_commit(lambda: _enqueue(sheet.pk))
    return sheet


def _enqueue(sheet_id: int) -> None:
    from civicgrid.rental.tasks import make_sheet

    make_sheet.delay(sheet_id)


def make_sheet(sheet_id: int) -> PlateSheet:
    """Render a queued sheet to ``DATA_DIR/rental/sheets/<id>.zip`` (one SVG per A4 page)."""
    sheet = PlateSheet.objects.get(pk=sheet_id)
    if sheet.status == "done":
        return sheet
    PlateSheet.objects.filter(pk=sheet_id).update(status="running")
    try:
        houses = _houses(sheet)
        pages = sheet_pages(houses)
        folder = Path(settings.DATA_DIR) / "rental" / "sheets"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{sheet.pk}-{sheet.scope}.zip"
        tmp = path.with_suffix(".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for i, page in enumerate(pages, 1):
                zf.writestr(f"plates-{sheet.scope}-{i:03d}.svg", page)
        tmp.replace(path)
        PlateSheet.objects.filter(pk=sheet_id).update(
            status="done",
            plates=len(houses),
            pages=len(pages),
            file=str(path),
            finished_at=timezone.now(),
        )
    except Exception as exc:
        PlateSheet.objects.filter(pk=sheet_id).update(status="failed", error=str(exc)[:500])
        raise
    return PlateSheet.objects.get(pk=sheet_id)


def sheet_for(actor, sheet_id: int) -> PlateSheet:
    sheet = PlateSheet.objects.filter(pk=sheet_id, requested_by=actor.get_username()).first()
    if sheet is None:
        raise NotFound(f"打印任务 {sheet_id} 不存在")
    return sheet


def sheet_body(sheet: PlateSheet) -> dict:
    return {
        "id": sheet.pk,
        "scope": sheet.scope,
        "kind": sheet.kind,
        "status": sheet.status,
        "plates": sheet.plates,
        "pages": sheet.pages,
        "download": f"/api/v1/rental/plates/{sheet.pk}/download"
        if sheet.status == "done"
        else None,
        "error": sheet.error,
    }
