"""``civicgrid import buildings|houses|persons|organisations|places FILE``.

The file streams through in batches. A reading thread reads and cleans the next batch
(rows.py, column-wise) and hashes and encrypts what it can while the current one is written;
each batch then has its references resolved with a few set queries, its missing codes issued,
and is written with one upsert inside one transaction — so a crash leaves whole batches only,
and running the same file again completes it exactly (rows are upserted by their natural key;
a persons row's key is the ID number with the house it names: see PersonLoader).
Every refused row goes to the error report (row, column, value, reason) and the command exits 1
when any was refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, connections, transaction
from django.utils import timezone

from civicgrid.accounts import pii
from civicgrid.audit import services as audit
from civicgrid.registry import bulk, codes, formats
from civicgrid.registry.models import (
    Building,
    CodeSequence,
    House,
    ImportRun,
    Organisation,
    Person,
    Place,
    Residence,
)
from civicgrid.registry.reader import FileError, open_table
from civicgrid.registry.rows import clean_columns

BATCH_SIZE = int(os.environ.get("CIVICGRID_IMPORT_BATCH", "5000"))
# written with every upserted row: which import and line last wrote it, and when
TRACKED = ("import_run", "import_row", "created_at", "updated_at")
Refusal = tuple[int, str, str, str]  # (line, column, value, reason)
Progress = Callable[[str, int, int], None]
# the column and the value a duplicate row's report shows: what the file had there (an ID
# number, a name), not the key the import made of it (a keyed hash, a SHA-1)
Cell = Callable[[dict], tuple[str, str]]


@dataclass
class ImportReport:
    kind: str
    file: str
    rows: int = 0
    written: int = 0
    rejected: int = 0
    warnings: int = 0
    seconds: float = 0.0
    encoding: str = ""
    report_path: Path | None = None
    ignored_columns: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class ErrorReport:
    """The CSV an office opens in Excel: 行号, 列, 值, 原因 (UTF-8 with BOM, so Excel reads it)."""

    HEADER = ("行号", "列", "值", "原因")

    def __init__(self, path: Path):
        self.path = path
        self._fh = None
        self._writer = None
        self.count = 0

    def add(self, line: int, column: str, value: str, reason: str) -> None:
        if self._writer is None:
            self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            self._writer.writerow(self.HEADER)
        self._writer.writerow((line, column, value, reason))
        self.count += 1

    def close(self) -> None:
        if self._fh:
            self._fh.close()


def _ahead(items: Iterator, depth: int = 2, *, own_connection: bool = False) -> Iterator:
    """``items``, produced by a thread up to ``depth`` ahead of the consumer: the next batch is
    read and cleaned (Python) while the database takes the current one (psycopg releases the
    GIL while it waits). An exception in the producer reaches the consumer in its place in the
    sequence, after every item before it."""
    slots: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()
            if own_connection:
                connections.close_all()  # this thread's connections only

    worker = threading.Thread(target=produce, name="import-reader", daemon=True)
    # a batch allocates some hundred thousand dicts and tuples, none of them in a cycle: the
    # default collector thresholds would run a collection every 700 of them
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    # the consumer mostly waits on the database; when an answer arrives it should get the GIL
    # back promptly rather than after the producer's default 5 ms slice
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    worker.start()
    try:
        while True:
            more, item = slots.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)


# Tables whose statistics a bulk load changes, per kind (owners and residences ride along).
ANALYZE_TABLES = {
    "buildings": ("registry_building",),
    "houses": ("registry_house", "registry_person", "registry_organisation"),
    "persons": ("registry_person", "registry_residence"),
    "organisations": ("registry_organisation",),
    "places": ("registry_place",),
}


# During a long import the tables grow far beyond what the planner last saw: their statistics
# are refreshed whenever the rows written reach this, then twice as many, and so on (a dozen
# ANALYZEs for ten million rows). Without it a lookup planned for a small table (a batch's
# rooms by building) scans the whole table once per batch, and the import slows down as the
# square of its size; autovacuum, when it is on at all, comes minutes too late.
ANALYZE_FIRST = 100_000


def _analyze(kind: str) -> None:
    """Refresh PostgreSQL's statistics after a bulk load, so the planner does not plan lookups
    for the empty table it last saw (autovacuum gets there, but minutes later)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for table in ANALYZE_TABLES[kind]:
            cur.execute(f"ANALYZE {connection.ops.quote_name(table)}")


# PostgreSQL: a batch's commit does not wait for its WAL to reach the disk. A crash of the
# database server may then lose the last few batches' commits (never part of one); running the
# same file again completes them, as after any interrupted import.
ASYNC_COMMIT = os.environ.get("CIVICGRID_IMPORT_ASYNC_COMMIT", "1") == "1"


def _batch_settings() -> None:
    """A batch's statements are short set operations: compiling them (JIT, which PostgreSQL
    turns on by estimated cost) costs more than it saves."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        if ASYNC_COMMIT:
            cur.execute("SET LOCAL synchronous_commit = off")


def default_report_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".errors.csv")


# The export writes a text cell that Excel would run as a formula with a leading ``'``
# (exporters.FORMULA_STARTS); the import of a CSV takes that one ``'`` off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _unquote_formulas(columns: dict[str, list[str]]) -> None:
    """Take one leading ``'`` off each cell whose text after its leading ``'`` begins with a
    formula character, in place: the export's rule reversed, so ``'=x`` comes back as ``=x``
    and ``''=x`` as ``'=x`` (an apostrophe before anything else is the file's own). One
    C-level scan per column finds none."""
    for name, column in columns.items():
        joined = "\n".join(column)
        if not (joined.startswith("'") or "\n'" in joined):
            continue
        columns[name] = [
            v[1:] if v[:1] == "'" and v.lstrip("'")[:1] in _FORMULA_STARTS else v for v in column
        ]


# The personal data a masked export writes with stars (``张*``, ``138****5678``,
# ``440306********1234``); no real name, phone or ID number has one.
MASKED_COLUMNS = {
    "houses": ("owner_id_number",),
    "persons": ("id_number", "name", "phone"),
    "organisations": ("legal_rep",),
}
MASKED_REASON = "是脱敏导出的值（含 *），不能导入；请使用 --unmasked 导出的文件"


def _refuse_masked(kind: str, columns: dict[str, list[str]], rows: list) -> None:
    """Make every row holding a masked value a row error on that column, in place: a masked
    export imported back would otherwise overwrite the real names with ``马**``."""
    found: dict[int, list[tuple[str, str, str]]] = {}
    for name in MASKED_COLUMNS.get(kind, ()):
        column = columns.get(name)
        if column is None or "*" not in "".join(column):
            continue
        for i, value in enumerate(column):
            if "*" in value:
                found.setdefault(i, []).append((name, value, MASKED_REASON))
    for i, errs in found.items():
        line, _, others, _ = rows[i]
        named = {column for column, _, _ in errs}
        rows[i] = (line, {}, errs + [e for e in others if e[0] not in named], [])


def import_file(
    kind: str,
    path: Path,
    *,
    actor=None,
    batch_size: int = BATCH_SIZE,
    report_path: Path | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Import one file; raises FileError (nothing changed) when the file as a whole is unusable."""
    path = Path(path)
    today = today or timezone.localdate()
    table = open_table(kind, path)
    report_path = Path(report_path) if report_path else default_report_path(path)
    if report_path.exists():
        report_path.unlink()
    errors = ErrorReport(report_path)
    actor_name = actor if isinstance(actor, str) else getattr(actor, "username", "system")
    run = ImportRun.objects.create(kind=kind, file_name=path.name[:255], actor=actor_name or "")
    loader = LOADERS[kind](run.pk)
    # the reading thread may query tables this import does not write (its own connection sees
    # only committed rows, so not when the caller holds a transaction open)
    loader.ahead_reads = connection.vendor == "postgresql" and not connection.in_atomic_block
    result = ImportReport(
        kind, str(path), encoding=table.encoding, ignored_columns=tuple(table.ignored)
    )
    started = time.perf_counter()
    next_analyze = ANALYZE_FIRST

    def cleaned() -> Iterator:
        """Batches read, cleaned and prepared for writing, in the reading thread: nothing here
        writes to the database (prepare() may read tables this import does not write, over the
        thread's own connection, when ``ahead_reads``)."""
        for lines, columns in table.iter_batches(batch_size):
            if table.encoding != "xlsx":
                _unquote_formulas(columns)
            rows = clean_columns(kind, lines, columns, today)
            _refuse_masked(kind, columns, rows)
            good = [(line, values) for line, values, errs, _ in rows if not errs]
            loader.prepare(good)
            yield rows, good

    try:
        for rows, good in _ahead(cleaned(), own_connection=loader.ahead_reads):
            for line, _, errs, warns in rows:
                if errs:
                    for column, value, reason in errs:
                        errors.add(line, column, value, reason)
                    result.rejected += 1
                    continue
                for column, value, reason in warns:
                    errors.add(line, column, value, "警告：" + reason)
                    result.warnings += 1
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    _batch_settings()
                refused = loader.write(good)
            refused_lines = set()
            for line, column, value, reason in refused:
                errors.add(line, column, value, reason)
                refused_lines.add(line)
            result.rejected += len(refused_lines)
            result.written += len(good) - len(refused_lines)
            result.rows += len(rows)
            if result.written >= next_analyze:
                _analyze(kind)
                next_analyze = 2 * result.written
            if progress:
                progress(f"导入 {kind}", result.rows, 0)
    except FileError as exc:
        if result.written:  # earlier batches are in, whole; say so rather than "nothing changed"
            raise FileError(
                f"{exc}。此前 {result.written} 行已整批写入；修正文件后重新导入同一文件即可补齐"
            ) from None
        raise
    finally:
        errors.close()
        result.seconds = time.perf_counter() - started
        ImportRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            rows=result.rows,
            written=result.written,
            rejected=result.rejected,
            report=str(report_path) if errors.count else "",
        )
    result.report_path = report_path if errors.count else None
    _analyze(kind)
    audit.record(
        "registry.import",
        actor=actor,
        object_type="registry.importrun",
        object_id=str(run.pk),
        region_path="440300",
        extra={
            "kind": kind,
            "file": path.name,
            "rows": result.rows,
            "written": result.written,
            "rejected": result.rejected,
        },
    )
    return result


# --- loaders ------------------------------------------------------------------------------
class _Loader:
    """Writes one batch of cleaned rows of a kind; returns the rows it had to refuse."""

    ahead_reads = False  # may prepare() read the database (from the reading thread)?

    def __init__(self, run_id: int):
        self.run_id = run_id

    def prepare(self, rows: list[tuple[int, dict]]) -> None:
        """Work on a batch that needs no database (hashing, encrypting), done ahead of
        :meth:`write` in the reading thread; it may add entries to the rows' values."""

    def write(self, rows: list[tuple[int, dict]]) -> list[Refusal]:
        raise NotImplementedError

    # shared steps
    @staticmethod
    def _first(
        rows, key: Callable[[dict], object], cell: Cell, refused: list[Refusal]
    ) -> list[tuple[int, dict]]:
        """Drop rows whose key appeared on an earlier line of this batch."""
        first: dict[object, int] = {}
        keep = []
        for line, v in rows:
            k = key(v)
            if k in first:
                refused.append((line, *cell(v), f"与第 {first[k]} 行重复"))
            else:
                first[k] = line
                keep.append((line, v))
        return keep

    def _upsert(
        self,
        table: str,
        columns: list[str],
        values: list[tuple],
        rows: list[tuple[int, dict]],
        key: Callable[[dict], object],
        key_column: str,
        cell: Cell,
        update,
        refused: list[Refusal],
        *,
        returning: tuple[str, ...] = (),
    ) -> tuple[list[tuple[int, dict]], list[tuple]]:
        """Upsert ``values`` (one tuple per row of ``rows``, keys unique in the batch) except
        over rows an earlier batch of this run wrote: those lines repeat an earlier line of
        the file and are refused (``cell``: the column and value the report shows). Returns
        the rows written and the ``returning`` columns."""
        written, back = bulk.upsert(
            table,
            columns,
            values,
            [key_column],
            update,
            unless_run=self.run_id,
            returning=returning,
        )
        out, again = self._earlier(table, key_column, rows, key, written, back, returning)
        for line, v, hit in again:
            refused.append((line, *cell(v), f"与第 {hit[0]} 行重复"))
        return out, back

    def _earlier(
        self,
        table: str,
        key_column: str,
        rows: list[tuple[int, dict]],
        key: Callable[[dict], object],
        written: int,
        back: list[tuple],
        returning: tuple[str, ...],
        fields: tuple[str, ...] = (),
    ) -> tuple[list[tuple[int, dict]], list[tuple[int, dict, tuple]]]:
        """After an upsert with ``unless_run``: the rows it wrote, and the rows it left alone
        because an earlier batch of this run wrote their key, each with (the earlier line,
        ``fields``…) of the stored row."""
        if written == len(rows):
            return rows, []
        if returning:  # PostgreSQL: the rows left alone are the ones not returned
            got = {r[0] for r in back}
            suspects = [k for _, v in rows if (k := key(v)) not in got]
        else:
            suspects = [key(v) for _, v in rows]
        earlier = bulk.lookup(
            table,
            key_column,
            suspects,
            ["import_row", *fields],
            extra_where="import_run = %s AND import_row < %s",
            params=[self.run_id, min(line for line, _ in rows)],
        )
        out = []
        again = []
        for line, v in rows:
            hit = earlier.get(key(v))
            if hit:
                again.append((line, v, hit))
            else:
                out.append((line, v))
        return out, again


def _reserve(
    table: str, needs: dict[str, int], floors: dict[str, int], width: int, limit: int
) -> dict[str, int]:
    """Reserve ``needs[prefix]`` new sequence numbers under each prefix; returns the first
    number reserved per prefix (-1 where the prefix's numbers are used up). ``floors`` raises a
    prefix's counter to codes given explicitly, so an issued code never collides with one that
    arrived in a file."""
    prefixes = set(needs) | set(floors)
    if not prefixes:
        return {}
    current = dict(
        CodeSequence.objects.select_for_update()
        .filter(prefix__in=prefixes)
        .values_list("prefix", "last")
    )
    fresh = prefixes - set(current)
    for p, top in _top_codes(table, fresh).items():
        # first use of this prefix: start after whatever codes already exist under it
        current[p] = int(top[len(p) : len(p) + width]) if top else 0
    starts = {}
    updates = []
    for p in sorted(prefixes):
        last = max(current[p], floors.get(p, 0))
        if p in needs:
            starts[p] = last + 1 if last + needs[p] <= limit else -1
            last = min(last + needs[p], limit) if starts[p] > 0 else last
        updates.append((p, last))
    bulk.upsert(CodeSequence._meta.db_table, ["prefix", "last"], updates, ["prefix"], ["last"])
    return starts


def _issue_codes(table, rows, refused, *, parent: str, width: int, make, exhausted: str):
    """Give every row without a code the next free number under its parent's code (a grid
    for buildings, a building for rooms), and raise each parent's counter past the codes that
    arrived in the file."""
    needs: dict[str, int] = {}
    floors: dict[str, int] = {}
    for _, v in rows:
        if v["code"]:
            plen = len(v["code"]) - width
            p = v["code"][:plen]
            floors[p] = max(floors.get(p, 0), int(v["code"][plen:]))
        else:
            needs[v[parent]] = needs.get(v[parent], 0) + 1
    starts = _reserve(table, needs, floors, width, 10**width - 1)
    out = []
    for line, v in rows:
        if not v["code"]:
            start = starts[v[parent]]
            if start < 0:
                refused.append((line, parent, v[parent], exhausted))
                continue
            v["code"] = make(v[parent], start)
            starts[v[parent]] = start + 1
        out.append((line, v))
    return out


def _now():
    """This moment as the database stores it, converted once per batch, not once per row."""
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _top_codes(table: str, prefixes: set[str]) -> dict[str, str | None]:
    """The highest existing code under each prefix, in a few statements.

    A range on the unique index rather than ``LIKE 'prefix%'``, which PostgreSQL cannot serve
    from an index under a non-C collation (equal-length digit strings sort the same in every
    collation, so the range is exact).
    """
    out: dict[str, str | None] = {}
    ordered = sorted(prefixes)
    quoted = connection.ops.quote_name(table)
    if connection.vendor == "postgresql":  # one statement, one plan: a probe per prefix
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT p, (SELECT MAX(code) FROM {quoted} WHERE code >= p AND code < q) "
                "FROM unnest(%s::text[], %s::text[]) AS t(p, q)",
                [
                    bulk.text_array(ordered),
                    bulk.text_array([str(int(p) + 1).zfill(len(p)) for p in ordered]),
                ],
            )
            return dict(cur.fetchall())
    with connection.cursor() as cur:
        for start in range(0, len(ordered), 200):
            part = ordered[start : start + 200]
            sql = " UNION ALL ".join(
                f"SELECT %s, (SELECT MAX(code) FROM {quoted} WHERE code >= %s AND code < %s)"
                for _ in part
            )
            params: list[str] = []
            for p in part:
                params += [p, p, str(int(p) + 1).zfill(len(p))]
            cur.execute(sql, params)
            out.update(dict(cur.fetchall()))
    return out


def _grids() -> dict[str, str]:
    from civicgrid.geo.models import Level, Region

    return dict(Region.objects.filter(level=Level.GRID).values_list("code", "district_code"))


class _LocatedLoader(_Loader):
    """A kind whose rows carry coordinates, checked against (and placed in) the grids."""

    def __init__(self, run_id: int):
        super().__init__(run_id)
        self.grids = _grids()  # grid code → governance district

    @staticmethod
    def _locate(rows) -> list[str]:
        """The grid code of each row's point ("" outside the city)."""
        from civicgrid.geo.selectors import locate_many

        if not rows:
            return []
        return [
            str(g) for g in locate_many([v["lon"] for _, v in rows], [v["lat"] for _, v in rows])
        ]


class BuildingLoader(_LocatedLoader):
    table = Building._meta.db_table
    COLUMNS = [
        "code",
        "grid_code",
        "district_code",
        "name",
        "address",
        "lon",
        "lat",
        "use",
        "form",
        "floors",
        "year_built",
        "safety_rating",
        "fire_facilities",
        *TRACKED,
    ]

    def write(self, rows):
        refused: list[Refusal] = []
        ok = []
        for (line, v), found in zip(rows, self._locate(rows), strict=True):
            if v["grid_code"] not in self.grids:
                refused.append((line, "grid_code", v["grid_code"], "网格编码不存在"))
            elif v["code"] and v["code"][:14] not in self.grids:
                refused.append(
                    (line, "code", v["code"], f"楼栋编码前 14 位 {v['code'][:14]} 不是已知网格")
                )
            elif not found:
                refused.append((line, "lon", str(v["lon"]), "坐标不在本市辖区内"))
            else:
                ok.append((line, v))
        # rows without a code: the same address means the same building
        by_address = bulk.lookup(
            self.table, "address", [v["address"] for _, v in ok if not v["code"]], ["code"]
        )
        for _, v in ok:
            if not v["code"] and v["address"] in by_address:
                v["code"] = by_address[v["address"]][0]
                v["by_address"] = True
        ok = self._first(ok, lambda v: v["code"] or "@" + v["address"], self._cell, refused)
        ok = self._issue(ok, refused)
        now = _now()
        self._upsert(
            self.table,
            self.COLUMNS,
            [
                (
                    v["code"],
                    v["grid_code"],
                    self.grids[v["grid_code"]],
                    v["name"],
                    v["address"],
                    v["lon"],
                    v["lat"],
                    v["use"],
                    v["form"],
                    v["floors"],
                    v["year_built"],
                    v["safety_rating"],
                    "",
                    self.run_id,
                    line,
                    now,
                    now,
                )
                for line, v in ok
            ],
            ok,
            lambda v: v["code"],
            "code",
            self._cell,
            [c for c in self.COLUMNS if c not in ("code", "created_at")],
            refused,
        )
        return refused

    @staticmethod
    def _cell(v: dict) -> tuple[str, str]:
        """A row without a code is known by its address."""
        return (
            ("address", v["address"])
            if v.get("by_address") or not v["code"]
            else ("code", v["code"])
        )

    def _issue(self, rows, refused):
        return _issue_codes(
            self.table,
            rows,
            refused,
            parent="grid_code",
            width=5,
            make=codes.building_code,
            exhausted="该网格的楼栋编号（00001–99999）已用尽",
        )


class HouseLoader(_Loader):
    table = House._meta.db_table
    COLUMNS = [
        "code",
        "building_id",
        "floor",
        "room",
        "area",
        "use",
        "owner_person_id",
        "owner_org_id",
        "grid_code",
        "district_code",
        *TRACKED,
    ]

    def write(self, rows):
        refused: list[Refusal] = []
        buildings = bulk.lookup(
            Building._meta.db_table,
            "code",
            [v["building_code"] for _, v in rows],
            ["id", "grid_code", "district_code"],
        )
        ok = []
        for line, v in rows:
            b = buildings.get(v["building_code"])
            if b is None:
                refused.append((line, "building_code", v["building_code"], "楼栋编码不存在"))
            else:
                v["building_id"], v["grid_code"], v["district_code"] = b
                ok.append((line, v))
        existing, by_code = self._rooms({v["building_id"] for _, v in ok})
        for line, v in list(ok):
            have = existing.get((v["building_id"], v["room"]))
            if have and v["code"] and have != v["code"]:
                refused.append(
                    (line, "room", v["room"], f"该楼栋已有房号 {v['room']}（房屋编码 {have}）")
                )
                ok.remove((line, v))
            elif have:
                v["code"] = have
        ok = self._dedupe_rooms(ok, by_code, refused)
        ok = self._issue(ok, refused)
        owners = self._owners(ok)
        now = _now()
        bulk.upsert(
            self.table,
            self.COLUMNS,
            [
                (
                    v["code"],
                    v["building_id"],
                    v["floor"],
                    v["room"],
                    v["area"],
                    v["use"],
                    owners[0].get(v["owner_id_number"]),
                    owners[1].get(v["owner_credit_code"]),
                    v["grid_code"],
                    v["district_code"],
                    self.run_id,
                    line,
                    now,
                    now,
                )
                for line, v in ok
            ],
            ["code"],
            [c for c in self.COLUMNS if c not in ("code", "created_at")],
        )
        return refused

    def _rooms(self, building_ids) -> tuple[dict[tuple[int, str], str], dict[str, tuple]]:
        """The rooms the batch's buildings already have: (building, room) → code, and
        code → (import run, line) of the import that last wrote it."""
        rooms = {}
        by_code = {}
        ids = list(building_ids)
        step = 900 if connection.vendor != "postgresql" else max(len(ids), 1)
        with connection.cursor() as cur:
            for start in range(0, len(ids), step):
                part = ids[start : start + step]
                where = (
                    "building_id = ANY(%s)"
                    if connection.vendor == "postgresql"
                    else f"building_id IN ({', '.join(['%s'] * len(part))})"
                )
                cur.execute(
                    f"SELECT building_id, room, code, import_run, import_row FROM {self.table} "
                    f"WHERE {where}",
                    [part] if connection.vendor == "postgresql" else part,
                )
                for b, room, code, run, row in cur.fetchall():
                    rooms[(b, room)] = code
                    by_code[code] = (run, row)
        return rooms, by_code

    def _dedupe_rooms(self, rows, by_code, refused):
        """Drop rows repeating a room or a code of an earlier line of this file. A house
        this run wrote is always among its building's rooms (its code begins with the
        building's), so ``by_code`` tells the earlier batches' lines without a query."""
        seen: dict[tuple, int] = {}
        keep = []
        for line, v in rows:
            k = (v["building_id"], v["room"])
            if k in seen:
                refused.append((line, "room", v["room"], f"与第 {seen[k]} 行重复"))
            else:
                seen[k] = line
                keep.append((line, v))
        out = []
        first: dict[str, int] = {}
        for line, v in keep:
            code = v["code"]
            if not code:
                continue
            earlier = by_code.get(code)
            if code in first:
                refused.append((line, "code", code, f"与第 {first[code]} 行重复"))
                continue
            first[code] = line
            if earlier and earlier[0] == self.run_id:
                refused.append((line, "code", code, f"与第 {earlier[1]} 行重复"))
            else:
                out.append((line, v))
        return out + [(line, v) for line, v in keep if not v["code"]]

    def _issue(self, rows, refused):
        return _issue_codes(
            self.table,
            rows,
            refused,
            parent="building_code",
            width=6,
            make=codes.house_code,
            exhausted="该楼栋的房间编号（000001–999999）已用尽",
        )

    def prepare(self, rows):
        """What a bare owner entry needs (hash, encrypted and masked number, sex, birth date),
        for each owner's ID number: worked out ahead, in the reading thread."""
        numbers = list(dict.fromkeys(v["owner_id_number"] for _, v in rows if v["owner_id_number"]))
        if not numbers:
            return
        cipher = pii.cipher()
        info = {}
        for number, h, encrypted in zip(
            numbers,
            cipher.lookup_hash_many(numbers),
            cipher.encrypt_many(numbers),
            strict=True,
        ):
            if number.isascii():  # the canonical form: read the parts straight off
                sex = "M" if number[16] in "13579" else "F"
                born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            else:
                parsed = codes.parse_id_number(number)
                sex, born = parsed.sex, parsed.birth_date
            info[number] = (h, encrypted, pii.mask_id_number(number), sex, born)
        for _, v in rows:
            if v["owner_id_number"]:
                v["owner_pii"] = info[v["owner_id_number"]]

    def _owners(self, rows) -> tuple[dict[str, int], dict[str, int]]:
        """Owners named by ID number or credit code; unknown ones are registered as bare
        entries (the persons or organisations file fills in the rest later)."""
        ids = {v["owner_id_number"]: v for _, v in rows if v["owner_id_number"]}
        if any("owner_pii" not in v for v in ids.values()):
            self.prepare(rows)
        by_hash = {v["owner_pii"][0]: number for number, v in ids.items()}
        found = bulk.lookup(Person._meta.db_table, "id_hash", by_hash, ["id"])
        missing = [h for h in by_hash if h not in found]
        if missing:
            now = _now()
            stubs = []
            for h in missing:
                v = ids[by_hash[h]]
                _, encrypted, masked, sex, born = v["owner_pii"]
                stubs.append(
                    (
                        h,
                        encrypted,
                        masked,
                        "",
                        "",
                        sex,
                        born,
                        "",
                        "",
                        v["grid_code"],
                        v["district_code"],
                        now,
                        now,
                    )
                )
            _, back = bulk.upsert(
                Person._meta.db_table,
                PersonLoader.STUB_COLUMNS,
                stubs,
                ["id_hash"],
                [],
                returning=("id_hash", "id"),
            )
            if len(back) == len(missing):  # PostgreSQL, and no one else added any meanwhile
                found.update((h, (pk,)) for h, pk in back)
            else:
                found = bulk.lookup(Person._meta.db_table, "id_hash", by_hash, ["id"])
        persons = {by_hash[h]: row[0] for h, row in found.items()}
        credits = {v["owner_credit_code"]: v for _, v in rows if v["owner_credit_code"]}
        orgs = bulk.lookup(Organisation._meta.db_table, "credit_code", credits, ["id"])
        missing = [c for c in credits if c not in orgs]
        if missing:
            now = _now()
            check = {c: codes.check_credit_code(c) for c in missing}
            _, back = bulk.upsert(
                Organisation._meta.db_table,
                [
                    "credit_code",
                    "credit_warning",
                    "name",
                    "kind",
                    "industry",
                    "legal_rep",
                    "grid_code",
                    "district_code",
                    "created_at",
                    "updated_at",
                ],
                [
                    (
                        c,
                        "；".join(check[c].warnings)[:100],
                        "",
                        "",
                        "",
                        "",
                        credits[c]["grid_code"],
                        credits[c]["district_code"],
                        now,
                        now,
                    )
                    for c in missing
                ],
                ["credit_code"],
                [],
                returning=("credit_code", "id"),
            )
            if len(back) == len(missing):
                orgs.update((c, (pk,)) for c, pk in back)
            else:
                orgs = bulk.lookup(Organisation._meta.db_table, "credit_code", credits, ["id"])
        return persons, {c: row[0] for c, row in orgs.items()}


def _houses(rows) -> dict[str, tuple]:
    """The houses the rows name: code → (id, grid, district), as prepare() found them when it
    could look them up ahead, else looked up now."""
    if rows and "_house" in rows[0][1]:
        return {v["house_code"]: v["_house"] for _, v in rows if v["_house"]}
    return _lookup_houses(rows)


def _houses_ahead(loader: _Loader, rows) -> None:
    if loader.ahead_reads and rows:
        houses = _lookup_houses(rows)
        for _, v in rows:
            v["_house"] = houses.get(v["house_code"]) if v["house_code"] else None


def _lookup_houses(rows) -> dict[str, tuple]:
    return bulk.lookup(
        House._meta.db_table,
        "code",
        [v["house_code"] for _, v in rows if v.get("house_code")],
        ["id", "grid_code", "district_code"],
    )


_PERSON_ZH = {c.name: c.zh for c in formats.KINDS["persons"]}


def _personal_label(column: str, value: str) -> str:
    """A person's cleaned field as the file wrote it (labels rather than codes)."""
    if column == "household_type":
        return formats.HOUSEHOLD_TYPES.get(value, value)
    if column == "tags":
        return "、".join(formats.CARE_TAGS.get(t, t) for t in value.split(",") if t)
    return value


class PersonLoader(_Loader):
    """Persons and their homes. A person may have several homes at once (owns one flat,
    rents another), and the export writes one row per open home, so the key of a row is
    (ID number, house code): a further row of the same ID number naming another house is
    another home, accepted when it repeats the person's name, phone, household type and tags
    of their first row (else a row error on the column that differs). The same ID number and
    house twice, or a row without a house beside any other row of that person, is a duplicate.
    The person's place of residence follows the last house of theirs the file names."""

    table = Person._meta.db_table
    STUB_COLUMNS = [
        "id_hash",
        "id_enc",
        "id_masked",
        "name",
        "phone",
        "sex",
        "birth_date",
        "household_type",
        "tags",
        "grid_code",
        "district_code",
        "created_at",
        "updated_at",
    ]
    COLUMNS = [*STUB_COLUMNS[:-2], *TRACKED]

    def prepare(self, rows):
        cipher = pii.cipher()
        numbers = [v["id_number"] for _, v in rows]
        for (_, v), h, enc in zip(
            rows, cipher.lookup_hash_many(numbers), cipher.encrypt_many(numbers), strict=True
        ):
            v["id_hash"] = h
            v["id_enc"] = enc
            v["id_masked"] = pii.mask_id_number(v["id_number"])
        _houses_ahead(self, rows)

    def write(self, rows):
        refused: list[Refusal] = []
        houses = _houses(rows)
        ok = []
        for line, v in rows:
            if v["house_code"] and v["house_code"] not in houses:
                refused.append((line, "house_code", v["house_code"], "房屋编码不存在"))
            else:
                ok.append((line, v))
        if ok and "id_hash" not in ok[0][1]:  # not prepared (a caller of write alone)
            self.prepare(ok)
        firsts, people = self._people(ok)
        # each person's further rows against their first: more homes, or refused
        sorted_out: dict[str, tuple[list, list[Refusal]]] = {}
        for h, ((line, v), *more) in people.items():
            first_home = {houses[v["house_code"]][0]: line} if v["house_code"] else None
            sorted_out[h] = self._homes(more, line, v, first_home, houses)
        # the person's place of residence: the last house of theirs the file names
        last = {h: homes[-1][1]["house_code"] for h, (homes, _) in sorted_out.items() if homes}
        now = _now()
        values = [
            (
                v["id_hash"],
                v["id_enc"],
                v["id_masked"],
                v["name"],
                v["phone"],
                v["sex"],
                v["birth_date"],
                v["household_type"],
                v["tags"],
                houses[home][1] if (home := last.get(v["id_hash"], v["house_code"])) else "",
                houses[home][2] if home else "",
                self.run_id,
                line,
                now,
                now,
            )
            for line, v in firsts
        ]
        keep_place = ("grid_code", "district_code")
        returning = ("id_hash", "id") if connection.vendor == "postgresql" else ()
        written, back = bulk.upsert(
            self.table,
            self.COLUMNS,
            values,
            ["id_hash"],
            [
                *(
                    c
                    for c in self.COLUMNS
                    if c not in ("id_hash", "id_enc", "created_at", *keep_place)
                ),
                # a row with a house moves the person's place of residence there; a row
                # without one leaves it where it was
                *(
                    (c, f"CASE WHEN excluded.{c} <> '' THEN excluded.{c} ELSE {self.table}.{c} END")
                    for c in keep_place
                ),
            ],
            unless_run=self.run_id,
            returning=returning,
        )
        ids = {h: (pk,) for h, pk in back}
        done, again = self._earlier(
            self.table,
            "id_hash",
            firsts,
            lambda v: v["id_hash"],
            written,
            back,
            returning,
            fields=("id", *self.PERSONAL),
        )
        living = done
        if sorted_out:
            living = []
            for first in done:
                living.append(first)
                if first[1]["id_hash"] in sorted_out:
                    homes, why = sorted_out[first[1]["id_hash"]]
                    living += homes
                    refused += why
        if again:  # persons an earlier batch of this run wrote: all their rows are checked
            living = living + self._more_homes(again, people, houses, refused)  # against that
            ids.update((v["id_hash"], (hit[1],)) for _, v, hit in again)
        self._residences(living, houses, now, ids)
        return refused

    @staticmethod
    def _people(rows) -> tuple[list[tuple[int, dict]], dict[str, list[tuple[int, dict]]]]:
        """Each person's first row, and all the rows of each person with more than one, in
        file order (most files have one row per person: found with one set, no dict)."""
        hashes = [v["id_hash"] for _, v in rows]
        if len(set(hashes)) == len(hashes):
            return rows, {}
        everyone: dict[str, list[tuple[int, dict]]] = {}
        for row in rows:
            everyone.setdefault(row[1]["id_hash"], []).append(row)
        firsts = [mine[0] for mine in everyone.values()]
        return firsts, {h: mine for h, mine in everyone.items() if len(mine) > 1}

    # what every row of one person in a file must say alike (the rest — house, relation,
    # since — is the residence's own)
    PERSONAL = ("name", "phone", "household_type", "tags")

    def _homes(
        self,
        rows: list[tuple[int, dict]],
        first_line: int,
        first: dict,
        homes: dict[int, int] | None,
        houses: dict[str, tuple],
    ) -> tuple[list[tuple[int, dict]], list[Refusal]]:
        """Which of a person's ``rows`` are further homes of theirs, and the refusals of the
        others, given their first row in the file (``first_line``, its fields ``first``) and
        ``homes``: house id → line of the homes read so far (None when the first row named
        no house)."""
        accepted = []
        refused: list[Refusal] = []
        homes = dict(homes) if homes is not None else None
        for line, v in rows:
            why = self._not_a_home(line, v, first_line, first, homes, houses)
            if why:
                refused.append(why)
            else:
                homes[houses[v["house_code"]][0]] = line  # type: ignore[index]
                accepted.append((line, v))
        return accepted, refused

    def _not_a_home(
        self,
        line: int,
        v: dict,
        first_line: int,
        first: dict,
        homes: dict[int, int] | None,
        houses: dict[str, tuple],
    ) -> Refusal | None:
        """Why row ``v`` cannot be one more home of the person (see :meth:`_homes`); None
        when it can."""
        if not v["house_code"] or homes is None:
            return (line, "id_number", v["id_number"], f"与第 {first_line} 行重复")
        earlier = homes.get(houses[v["house_code"]][0])
        if earlier:
            return (line, "id_number", v["id_number"], f"与第 {earlier} 行重复")
        for column in self.PERSONAL:
            mine, theirs = v[column], first[column]
            if column == "tags":  # the same tags in another order are the same tags
                mine, theirs = set(mine.split(",")), set(theirs.split(","))
            if mine != theirs:
                return (
                    line,
                    column,
                    _personal_label(column, v[column]),
                    f"与第 {first_line} 行（同一身份证号）的{_PERSON_ZH[column]}不一致："
                    "同一人的多处住所须填写相同的个人信息",
                )
        return None

    def _more_homes(self, again, people, houses, refused) -> list[tuple[int, dict]]:
        """The rows of persons an earlier batch of this run wrote, checked against the stored
        person and the homes this run gave them: the further homes among them (each moves the
        person's place of residence there, as within a batch); the others are refused."""
        pids = [hit[1] for _, _, hit in again]
        known: dict[int, dict[int, int]] = {}
        for pid, house_id, line in Residence.objects.filter(
            import_run=self.run_id, person_id__in=pids
        ).values_list("person_id", "house_id", "import_row"):
            known.setdefault(pid, {})[house_id] = line
        out = []
        moves = []
        for line, v, hit in again:
            first_line, pid = hit[0], hit[1]
            first = dict(zip(self.PERSONAL, hit[2:], strict=True))
            rows = people.get(v["id_hash"]) or [(line, v)]
            homes, why = self._homes(rows, first_line, first, known.get(pid), houses)
            out += homes
            refused += why
            if homes:
                house = houses[homes[-1][1]["house_code"]]
                moves.append((house[1], house[2], pid))
        if moves:
            with connection.cursor() as cur:
                cur.executemany(
                    f"UPDATE {self.table} SET grid_code = %s, district_code = %s WHERE id = %s",
                    moves,
                )
        return out

    def _residences(self, rows, houses, now, ids) -> None:
        living = [(line, v) for line, v in rows if v["house_code"]]
        if not living:
            return
        if not all(v["id_hash"] in ids for _, v in living):
            ids = bulk.lookup(self.table, "id_hash", [v["id_hash"] for _, v in living], ["id"])
        columns = [
            "person_id",
            "house_id",
            "relation",
            "source",
            "since",
            "until",
            "verified",
            "grid_code",
            "district_code",
            *TRACKED,
        ]
        bulk.upsert(
            Residence._meta.db_table,
            columns,
            [
                (
                    ids[v["id_hash"]][0],
                    houses[v["house_code"]][0],
                    v["relation"],
                    "import",
                    v["since"],
                    None,
                    False,
                    houses[v["house_code"]][1],
                    houses[v["house_code"]][2],
                    self.run_id,
                    line,
                    now,
                    now,
                )
                for line, v in living
            ],
            ["person_id", "house_id"],
            ["relation", "since", "import_run", "import_row", "updated_at"],
            conflict_where='"until" IS NULL',
        )


class OrganisationLoader(_Loader):
    table = Organisation._meta.db_table
    COLUMNS = [
        "credit_code",
        "credit_warning",
        "name",
        "kind",
        "industry",
        "legal_rep",
        "house_id",
        "staff",
        "grid_code",
        "district_code",
        *TRACKED,
    ]

    def prepare(self, rows):
        _houses_ahead(self, rows)

    @staticmethod
    def _cell(v: dict) -> tuple[str, str]:
        return ("credit_code", v["credit_code"])

    def write(self, rows):
        refused: list[Refusal] = []
        houses = _houses(rows)
        ok = []
        for line, v in rows:
            if v["house_code"] and v["house_code"] not in houses:
                refused.append((line, "house_code", v["house_code"], "房屋编码不存在"))
            else:
                ok.append((line, v))
        ok = self._first(ok, lambda v: v["credit_code"], self._cell, refused)
        now = _now()
        none = (None, "", "")
        self._upsert(
            self.table,
            self.COLUMNS,
            [
                (
                    v["credit_code"],
                    v["credit_warning"],
                    v["name"],
                    v["kind"],
                    v["industry"],
                    v["legal_rep"],
                    (houses.get(v["house_code"]) or none)[0],
                    v["staff"],
                    *(houses.get(v["house_code"]) or none)[1:],
                    self.run_id,
                    line,
                    now,
                    now,
                )
                for line, v in ok
            ],
            ok,
            lambda v: v["credit_code"],
            "credit_code",
            self._cell,
            [c for c in self.COLUMNS if c not in ("credit_code", "created_at")],
            refused,
        )
        return refused


class PlaceLoader(_LocatedLoader):
    """Places, keyed by kind, name and point (a SHA-1 of them); a duplicate is reported by
    its name."""

    table = Place._meta.db_table
    COLUMNS = [
        "key",
        "kind",
        "name",
        "lon",
        "lat",
        "owner",
        "note",
        "grid_code",
        "district_code",
        *TRACKED,
    ]

    @staticmethod
    def _cell(v: dict) -> tuple[str, str]:
        return ("name", v["name"])

    def write(self, rows):
        refused: list[Refusal] = []
        ok = []
        for (line, v), grid in zip(rows, self._locate(rows), strict=True):
            if not grid:
                refused.append((line, "lon", str(v["lon"]), "坐标不在本市辖区内"))
                continue
            v["grid_code"] = grid
            raw = f"{v['kind']}|{v['name']}|{v['lon']:.6f}|{v['lat']:.6f}"
            v["key"] = hashlib.sha1(raw.encode()).hexdigest()
            ok.append((line, v))
        ok = self._first(ok, lambda v: v["key"], self._cell, refused)
        now = _now()
        self._upsert(
            self.table,
            self.COLUMNS,
            [
                (
                    v["key"],
                    v["kind"],
                    v["name"],
                    v["lon"],
                    v["lat"],
                    "",
                    v["note"],
                    v["grid_code"],
                    self.grids[v["grid_code"]],
                    self.run_id,
                    line,
                    now,
                    now,
                )
                for line, v in ok
            ],
            ok,
            lambda v: v["key"],
            "key",
            self._cell,
            [c for c in self.COLUMNS if c not in ("key", "created_at", "owner")],
            refused,
        )
        return refused


LOADERS: dict[str, type[_Loader]] = {
    "buildings": BuildingLoader,
    "houses": HouseLoader,
    "persons": PersonLoader,
    "organisations": OrganisationLoader,
    "places": PlaceLoader,
}
__all__ = ["LOADERS", "FileError", "ImportReport", "import_file"]
