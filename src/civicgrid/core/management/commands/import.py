"""``civicgrid import KIND FILE``: bulk data into the platform; exit 1 when anything was refused.

Each kind's importer validates the whole input and reports problems by place (row and column,
or feature); a refused file changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


def _regions(path: Path, stdout) -> int:
    from civicgrid.geo.importers import RegionImportError, import_regions

    try:
        result = import_regions(path, actor="cli")
    except RegionImportError as exc:
        sys.stderr.write(f"导入失败，未做任何更改。共 {len(exc.problems)} 个问题：\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        return 1
    stdout.write(
        f"导入完成：更新边界 {len(result.updated)} 个，新增网格 {len(result.created)} 个，"
        f"重新生成示意边界 {result.regenerated} 个"
    )
    return 0


def _registry(kind: str):
    def run(path: Path, stdout) -> int:
        from civicgrid.core.progress import progress_bar
        from civicgrid.registry.importers import FileError, import_file

        try:
            with progress_bar() as progress:
                r = import_file(kind, path, actor="cli", progress=progress)
        except FileError as exc:
            sys.stderr.write(f"导入失败：{exc}\n")
            return 1
        if r.ignored_columns:
            stdout.write(f"已忽略无法识别的列：{'、'.join(r.ignored_columns)}")
        stdout.write(
            f"读取 {r.rows} 行（{r.encoding}），写入 {r.written} 行，拒绝 {r.rejected} 行，"
            f"警告 {r.warnings} 条；用时 {r.seconds:.1f} 秒（{r.rate:,.0f} 行/秒）"
        )
        if r.report_path:
            stdout.write(f"问题明细见：{r.report_path}")
        return 1 if r.rejected else 0

    return run


def _catalogue(path: Path, stdout) -> int:
    from civicgrid.events.catalogue import CatalogueError
    from civicgrid.events.catalogue_services import load_catalogue
    from civicgrid.registry.reader import FileError

    try:
        r = load_catalogue("cli", path)
    except (CatalogueError, FileError) as exc:
        problems = getattr(exc, "problems", [exc])
        sys.stderr.write(f"导入失败，未做任何更改。共 {len(problems)} 个问题：\n")
        for problem in problems:
            sys.stderr.write(f"  {problem}\n")
        return 1
    stdout.write(f"事项目录：新增 {r.created}，更新 {r.updated}，未变 {r.unchanged}")
    return 0


def _events(path: Path, stdout) -> int:
    from civicgrid.core.progress import progress_bar
    from civicgrid.events.importers import import_events
    from civicgrid.registry.reader import FileError

    try:
        with progress_bar() as progress:
            r = import_events(path, actor="cli", progress=progress)
    except FileError as exc:
        sys.stderr.write(f"导入失败：{exc}\n")
        return 1
    stdout.write(
        f"读取 {r.rows} 行，新登记 {r.created} 件，已存在 {r.existing} 件，拒绝 {r.rejected} 行；"
        f"用时 {r.seconds:.1f} 秒"
    )
    if r.report_path:
        stdout.write(f"问题明细见：{r.report_path}")
    return 1 if r.rejected else 0


REGISTRY_KINDS = ("buildings", "houses", "persons", "organisations", "places")
IMPORTERS = {
    "regions": _regions,
    **{kind: _registry(kind) for kind in REGISTRY_KINDS},
    "catalogue": _catalogue,
    "events": _events,
}


class Command(BaseCommand):
    help = (
        "批量导入：regions（GeoJSON 区域边界与网格）、buildings、houses、persons、organisations、"
        "places、catalogue（事项目录）、events（存量事件）（CSV 或 XLSX，UTF-8 或 GBK，"
        "中文或英文表头）"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind: str, file: Path, **o):
        if not file.exists():
            raise CommandError(f"文件不存在：{file}")
        code = IMPORTERS[kind](file, self.stdout)
        if code:
            sys.exit(code)
