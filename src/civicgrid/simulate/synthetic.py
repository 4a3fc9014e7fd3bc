"""The synthetic city inside a running civicgrid: generate files from the grids in the
database, then import them through the same importer an office's files go through."""

from __future__ import annotations

from pathlib import Path

import shapely

from civicgrid.registry.importers import ImportReport, import_file

KINDS_IN_ORDER = ("buildings", "houses", "persons", "organisations", "places")


def grid_infos() -> list:
    """Every grid with its governance district, address prefix and polygon."""
    from civicgrid.geo.models import Level, Region
    from civicgrid.simulate.city import GridInfo

    names = dict(Region.objects.exclude(level=Level.GRID).values_list("code", "name"))
    out = []
    for code, district, path, wkb in (
        Region.objects.filter(level=Level.GRID)
        .exclude(geometry=None)
        .order_by("code")
        .values_list("code", "district_code", "path", "geometry")
    ):
        ancestors = path.split(".")[:-1]  # city, district, street, community
        prefix = "".join(names[c] for c in ancestors)
        out.append(
            GridInfo(
                code=code,
                district_code=district,
                address_prefix=prefix,
                polygon=shapely.from_wkb(bytes(wkb)),
            )
        )
    return out


def generate(out_dir: Path, *, scale: float, seed: int = 0, progress=None) -> dict[str, Path]:
    from civicgrid.simulate.city import generate_city

    out_dir.mkdir(parents=True, exist_ok=True)
    return generate_city(out_dir, grid_infos(), scale, seed=seed, progress=progress)


def load(files: dict[str, Path], *, actor="init", progress=None) -> list[ImportReport]:
    return [
        import_file(kind, files[kind], actor=actor, progress=progress) for kind in KINDS_IN_ORDER
    ]


def build_city(data_dir: Path, *, scale: float, seed: int = 0, progress=None) -> list:
    """Generate and import F × Shenzhen once: a marker file makes a rerun add nothing (and
    a rerun after an interrupted import completes it, since imports upsert)."""
    folder = data_dir / "synthetic" / f"scale-{scale:g}-seed-{seed}"
    marker = folder / "imported"
    if marker.exists():
        return []
    files = {k: folder / f"{k}.csv" for k in KINDS_IN_ORDER}
    if not all(p.exists() for p in files.values()) or not (folder / "generated").exists():
        files = generate(folder, scale=scale, seed=seed, progress=progress)
        (folder / "generated").write_text("ok")
    reports = load(files, progress=progress)
    marker.write_text("\n".join(f"{r.kind}\t{r.written}\t{r.rejected}" for r in reports))
    return reports
