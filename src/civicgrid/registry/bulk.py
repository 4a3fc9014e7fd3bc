"""Set-based writes for bulk imports: one statement per batch, never one per row.

PostgreSQL: the batch is formatted as COPY text column by column (one ``write`` per batch),
``COPY``-ed into a temporary staging table, then moved with one ``INSERT … SELECT … ON CONFLICT
DO UPDATE`` (optionally ``RETURNING``). SQLite: one batched ``executemany`` of the same upsert.
Both run inside the caller's transaction, so a batch lands whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
import zlib
from collections.abc import Iterable, Sequence

from django.db import connection, transaction

# COPY text format: these four characters in a value must be escaped
_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"
# staging tables already created, per database connection (temporary tables live as long as
# the connection)
_stages: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _text_column(values: tuple) -> list[str] | tuple:
    """One column of a batch in COPY text form (a whole column at a time: the common case
    — every value of one type, nothing to escape — costs one C-level pass)."""
    kinds = set(map(type, values))
    if len(values) > 1 and len(kinds) == 1 and values.count(values[0]) == len(values):
        return [_text_column(values[:1])[0]] * len(values)  # a constant: the run, the time…
    if kinds == {str}:
        joined = "".join(values)
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            return [v.translate(_COPY_SPECIAL) for v in values]
        return values
    if len(kinds) == 1 and (fmt := _FORMATS.get(next(iter(kinds)))):
        return list(map(fmt, values))
    if len(kinds) == 2 and type(None) in kinds:
        fmt = _FORMATS.get(next(k for k in kinds if k is not type(None)))
        if fmt:
            return [_NULL if v is None else fmt(v) for v in values]
    out = []
    for v in values:
        if v is None:
            out.append(_NULL)
        elif isinstance(v, str):
            out.append(v.translate(_COPY_SPECIAL))
        elif isinstance(v, bool):
            out.append("t" if v else "f")
        elif isinstance(v, float):
            out.append(repr(v))
        elif isinstance(v, (dt.date, dt.datetime)):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return out


_FORMATS = {
    int: str,
    float: repr,
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
}


def copy_text(rows: Sequence[Sequence[object]]) -> str:
    """``rows`` as the body of a ``COPY … FROM STDIN`` in text format."""
    columns = [_text_column(c) for c in zip(*rows, strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


_PLAIN_LIST = re.compile(r"[0-9A-Za-z_.\-]+(?:,[0-9A-Za-z_.\-]+)*")
_NULL_WORD = re.compile(r"(?:^|,)null(?:,|$)", re.IGNORECASE)


def text_array(values: list) -> str | list:
    """A PostgreSQL array literal of ``values`` when they are all plain non-empty words (codes,
    hashes: nothing to quote, and none reads as NULL), else the list itself for the driver to
    adapt."""
    if values and all(isinstance(v, str) for v in values):
        joined = ",".join(values)
        if (
            joined.count(",") == len(values) - 1
            and _PLAIN_LIST.fullmatch(joined)
            and not _NULL_WORD.search(joined)
        ):
            return "{" + joined + "}"
    return values


def upsert(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    conflict: Sequence[str],
    update: Sequence[str | tuple[str, str]],
    *,
    conflict_where: str = "",
    unless_run: int | None = None,
    returning: Sequence[str] = (),
) -> tuple[int, list[tuple]]:
    """Insert ``rows`` or, where the ``conflict`` key exists, update the ``update`` columns
    (a column name takes the new value; a (column, SQL expression) pair computes it, with
    ``excluded.col`` the new value and ``table.col`` the stored one).

    ``unless_run``: a stored row whose ``import_run`` is this run is left alone (it came from an
    earlier line of the same file), so the count of rows written tells whether there were any.
    Returns (rows written, the ``returning`` columns of the written rows — PostgreSQL only).
    """
    if not rows:
        return 0, []
    cols = ", ".join(_quote(c) for c in columns)
    target = f"({', '.join(_quote(c) for c in conflict)})"
    if conflict_where:
        target += f" WHERE {conflict_where}"
    action = (
        "DO UPDATE SET "
        + ", ".join(
            f"{_quote(c)} = excluded.{_quote(c)}"
            if isinstance(c, str)
            else f"{_quote(c[0])} = {c[1]}"
            for c in update
        )
        if update
        else "DO NOTHING"
    )
    params: list[object] = []
    if unless_run is not None and update:
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        action += f" WHERE {_quote(table)}.import_run {distinct} %s"
        params.append(unless_run)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # the batch's columns only, with their types and no constraints: rows are checked
            # by the upsert into the real table
            stage = f"_stage_{table}_{zlib.crc32(cols.encode()):08x}"
            made = _stages.setdefault(connection.connection, set())
            if stage not in made:
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {_quote(stage)} ON COMMIT DELETE ROWS AS "
                    f"SELECT {cols} FROM {_quote(table)} WITH NO DATA"
                )
                # known to exist once committed (a rollback takes the CREATE back with it)
                transaction.on_commit(lambda: made.add(stage))
            # empty since the last commit; this clears a second use within one transaction
            cur.execute(f"DELETE FROM {_quote(stage)}")
            with cur.cursor.copy(f"COPY {_quote(stage)} ({cols}) FROM STDIN") as copy:
                copy.write(copy_text(rows))
            back = f" RETURNING {', '.join(_quote(c) for c in returning)}" if returning else ""
            cur.execute(
                f"INSERT INTO {_quote(table)} ({cols}) SELECT {cols} FROM {_quote(stage)} "
                f"ON CONFLICT {target} {action}{back}",
                params,
            )
            return cur.rowcount, (cur.fetchall() if returning else [])
        marks = ", ".join(["%s"] * len(columns))
        cur.executemany(
            f"INSERT INTO {_quote(table)} ({cols}) VALUES ({marks}) ON CONFLICT {target} {action}",
            [(*row, *params) for row in rows] if params else rows,
        )
        return cur.rowcount, []


def lookup(
    table: str,
    key: str,
    values: Iterable[object],
    fields: Sequence[str],
    *,
    extra_where: str = "",
    params: Sequence[object] = (),
) -> dict[object, tuple]:
    """``{key value: (fields…)}`` for the rows whose ``key`` is among ``values``."""
    values = list(dict.fromkeys(values))
    out: dict[object, tuple] = {}
    if not values:
        return out
    select = ", ".join(_quote(f) for f in (key, *fields))
    where = f" AND {extra_where}" if extra_where else ""
    if connection.vendor == "postgresql":  # one array parameter: nothing to parse per value
        array = text_array(values)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {select} FROM {_quote(table)} WHERE {_quote(key)} = ANY(%s"
                f"{'::text[]' if isinstance(array, str) else ''}){where}",
                [array, *params],
            )
            for row in cur.fetchall():
                out[row[0]] = tuple(row[1:])
        return out
    chunk = 900  # below SQLite's historical limit of 999 bound variables
    with connection.cursor() as cur:
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            marks = ", ".join(["%s"] * len(part))
            cur.execute(
                f"SELECT {select} FROM {_quote(table)} WHERE {_quote(key)} IN ({marks}){where}",
                [*part, *params],
            )
            for row in cur.fetchall():
                out[row[0]] = tuple(row[1:])
    return out
