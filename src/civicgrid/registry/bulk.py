"""Set-based writes for bulk imports: one statement per batch, never one per row.

PostgreSQL: ``COPY`` the batch into a temporary staging table, then one
``INSERT … SELECT … ON CONFLICT DO UPDATE``. SQLite: one batched ``executemany`` of the same
upsert. Both run inside the caller's transaction, so a batch lands whole or not at all.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

from django.db import connection


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def upsert(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    conflict: Sequence[str],
    update: Sequence[str | tuple[str, str]],
    *,
    conflict_where: str = "",
) -> None:
    """Insert ``rows`` or, where the ``conflict`` key exists, update the ``update`` columns
    (a column name takes the new value; a (column, SQL expression) pair computes it, with
    ``excluded.col`` the new value and ``table.col`` the stored one)."""
    if not rows:
        return
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
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # the batch's columns only, with their types and no constraints: rows are checked
            # by the upsert into the real table
            stage = f"_stage_{table}_{zlib.crc32(cols.encode()):08x}"
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_quote(stage)} ON COMMIT DELETE ROWS AS "
                f"SELECT {cols} FROM {_quote(table)} WITH NO DATA"
            )
            cur.execute(f"TRUNCATE {_quote(stage)}")
            with cur.cursor.copy(f"COPY {_quote(stage)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {_quote(table)} ({cols}) SELECT {cols} FROM {_quote(stage)} "
                f"ON CONFLICT {target} {action}"
            )
        else:
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(
                f"INSERT INTO {_quote(table)} ({cols}) VALUES ({marks}) "
                f"ON CONFLICT {target} {action}",
                rows,
            )


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
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {select} FROM {_quote(table)} WHERE {_quote(key)} = ANY(%s){where}",
                [values, *params],
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
