"""The hash chain, as plain functions: what a record's hash covers and how a trail is checked.

Each record's hash covers its own content and the previous record's hash, so altering,
re-ordering or removing any record breaks every hash after it. No ORM here: ``verify`` takes
any iterable of record-like mappings, in sequence order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "time",
    "actor",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "region_path",
    "summary",
    "request_id",
    "prev_hash",
)


def canonical(record: Mapping[str, Any]) -> bytes:
    """A byte string fixed by the record's content: sorted keys, times in UTC ISO form."""
    data = {}
    for name in HASHED_FIELDS:
        value = record[name]
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        data[name] = value
    return json.dumps(
        data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    ).encode()


def record_hash(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    bad_seq: int | None = None
    problem: str = ""


def verify(records: Iterable[Mapping[str, Any]], head: tuple[int, str] | None) -> Verdict:
    """Walk the trail in sequence order and name the first record that does not fit.

    ``head`` is (last seq, last hash) as the writer last recorded them; it catches records
    removed from the end of the trail, which nothing after them could reveal.
    """
    prev_hash, expected, checked = GENESIS, 1, 0
    for rec in records:
        seq = rec["seq"]
        if seq != expected:
            return Verdict(False, checked, expected, f"记录 #{expected} 缺失（下一条为 #{seq}）")
        if rec["prev_hash"] != prev_hash:
            return Verdict(False, checked, seq, f"记录 #{seq} 的前序哈希与记录 #{seq - 1} 不符")
        if record_hash(rec) != rec["hash"]:
            return Verdict(False, checked, seq, f"记录 #{seq} 的内容已被改动（哈希不符）")
        prev_hash, expected, checked = rec["hash"], seq + 1, checked + 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq != expected - 1 or (head_seq and head_hash != prev_hash):
            return Verdict(
                False,
                checked,
                expected,
                f"审计链末尾缺失记录：应有 {head_seq} 条，实有 {expected - 1} 条",
            )
    return Verdict(True, checked)
