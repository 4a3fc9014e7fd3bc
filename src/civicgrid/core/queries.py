"""Small query helpers shared by the selectors."""

from __future__ import annotations

from django.db.models import QuerySet


def one(qs: QuerySet):
    """The row a unique lookup finds, or None.

    Unlike ``.first()`` it adds no ``ORDER BY id``: with ``LIMIT 1`` that ordering can steer
    PostgreSQL into walking the primary key of a freshly loaded table instead of probing the
    unique index (seen as 130 ms house lookups at scale 0.2).
    """
    rows = list(qs[:1])
    return rows[0] if rows else None
