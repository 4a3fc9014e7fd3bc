"""The catalogue and routing rules as this process holds them (rebuilt within seconds of any
change), and the catalogue as the API lists it."""

from __future__ import annotations

from django.db.models import Count, Max, QuerySet

from civicgrid.core.memo import StampedMemo
from civicgrid.events import catalogue as cat
from civicgrid.events import routing
from civicgrid.events.models import Category, RoutingRule
from civicgrid.events.workcal import parse_limit


def _limit(text: str):
    return parse_limit(text) if text else None


def _node(c: Category) -> cat.Node:
    return cat.Node(
        code=c.code,
        name=c.name,
        parent=c.parent_id,
        level=c.level,
        leaf=c.leaf,
        intake_type=c.intake_type,
        deadline=_limit(c.deadline),
        urgency=c.urgency,
        on_spot=c.on_spot,
        yellow=_limit(c.yellow),
        red=_limit(c.red),
        radius_m=c.radius_m,
        route=tuple(routing.parse_route(c.route)),
        assist=tuple(routing.parse_sectors(c.assist)),
        keywords=tuple(k for k in c.keywords.split(";") if k),
        source=c.source,
        active=c.active,
    )


def _stamp() -> tuple:
    a = Category.objects.aggregate(n=Count("code"), t=Max("updated_at"))
    b = RoutingRule.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    return (a["n"], a["t"], b["n"], b["t"])


def _build() -> cat.Catalogue:
    nodes = {c.code: _node(c) for c in Category.objects.all()}
    rules = [
        routing.Rule(r.category_id, r.region_id, r.department.code)
        for r in RoutingRule.objects.select_related("department")
    ]
    return cat.Catalogue(nodes, rules)


_memo = StampedMemo(_stamp, _build)


def catalogue() -> cat.Catalogue:
    """The catalogue and routing rules, rebuilt within seconds of any edit."""
    return _memo.get()


def reset() -> None:
    _memo.reset()


def categories(*, parent: str | None = None, leaf: bool | None = None) -> QuerySet:
    qs = Category.objects.filter(active=True).order_by("code")
    if parent:
        qs = qs.filter(parent_id=parent)
    if leaf is not None:
        qs = qs.filter(leaf=leaf)
    return qs
