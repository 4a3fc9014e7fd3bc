"""Limit/offset pages with a bounded offset: past 10⁹ rows no page exists, and an unbounded
integer would reach the database as a number it cannot hold (a 500 instead of a 422)."""

from __future__ import annotations

from ninja import Field
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 10**9


class Paged(LimitOffsetPagination):
    class Input(LimitOffsetPagination.Input):
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
