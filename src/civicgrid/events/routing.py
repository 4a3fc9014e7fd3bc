"""Routing: which department handles a catalogue leaf at a place (DESIGN §6). Plain data in,
a department code out; no ORM.

Two sources, most specific first:

1. **Routing rules** (the table a city edits): ``(category, region) → department``. A rule on a
   deeper category beats one on its 大类; between equal categories a rule on a smaller region
   beats a wider one (a rule with no region applies citywide). Category and region together
   are unique, so two rules can never tie.
2. **The catalogue's route** for the leaf: ``community:GZZ;street:JD;district:CG`` names the
   responsible sector per level (属地管理); the department is that sector at the event's
   ancestor of that level, e.g. ``440306017-JD`` or ``440306-CG``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEVELS = ("community", "street", "district", "city")
_PAIR = re.compile(r"^(community|street|district|city):([A-Z]{2,4})$")
# Sectors that exist at each level (accounts.services.department_specs).
LEVEL_SECTORS = {"community": {"GZZ"}, "street": {"JD"}}


@dataclass(frozen=True)
class Rule:
    category: str
    region: str | None
    department: str


@dataclass(frozen=True)
class Route:
    department: str
    assists: tuple[str, ...]
    source: str  # "rule" or "catalogue"


def parse_route(text: str) -> list[tuple[str, str]]:
    """``"community:GZZ;district:CG"`` → ``[("community", "GZZ"), ("district", "CG")]``."""
    pairs = []
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        m = _PAIR.match(part)
        if not m:
            raise ValueError(f"无效的责任层级“{part}”（应为 层级:条线，如 district:CG）")
        level, sector = m.groups()
        allowed = LEVEL_SECTORS.get(level)
        if allowed is not None and sector not in allowed:
            raise ValueError(f"{level} 层级只有 {'、'.join(sorted(allowed))}，不是 {sector}")
        pairs.append((level, sector))
    return pairs


def parse_sectors(text: str) -> list[str]:
    return [s.strip() for s in (text or "").split(";") if s.strip()]


def department_at(level: str, sector: str, places: dict[str, str]) -> str | None:
    """The department code for ``sector`` at the event's ancestor on ``level``."""
    region = places.get(level)
    return f"{region}-{sector}" if region else None


def route(
    category_chain: Sequence[str],
    places: dict[str, str],
    rules: Iterable[Rule],
    pairs: Sequence[tuple[str, str]],
    assists: Sequence[str] = (),
    *,
    level: str | None = None,
) -> Route | None:
    """The department for an event.

    ``category_chain`` runs from the leaf up to its 大类; ``places`` maps each level to the
    event's region code on it (``{"community": "440306017001", "street": …, "city": "440300"}``);
    ``level`` asks for the department on one level (a dispatcher at a street centre dispatches
    to the street's department), else the route's first level is used.
    """
    depth = {code: len(category_chain) - i for i, code in enumerate(category_chain)}
    region_rank = {
        code: i for i, code in enumerate(places[lv] for lv in reversed(LEVELS) if lv in places)
    }
    best: tuple[tuple[int, int], Rule] | None = None
    for rule in rules:
        if rule.category not in depth:
            continue
        if rule.region is None:
            rank = -1
        elif rule.region in region_rank:
            rank = region_rank[rule.region]
        else:
            continue
        key = (depth[rule.category], rank)
        if best is None or key > best[0]:
            best = (key, rule)
    if best is not None and level is None:
        return Route(best[1].department, (), "rule")
    chosen = [(lv, s) for lv, s in pairs if level is None or lv == level]
    if not chosen and level is not None:
        # the leaf names nobody on this level: the nearest level above that it does name
        above = LEVELS[LEVELS.index(level) :] if level in LEVELS else ()
        chosen = [(lv, s) for lv, s in pairs if lv in above]
    for lv, sector in chosen:
        dept = department_at(lv, sector, places)
        if dept:
            helpers = tuple(
                d
                for s in assists
                if (d := department_at(lv if lv in ("district", "city") else "district", s, places))
                and d != dept
            )
            return Route(dept, helpers, "catalogue")
    if best is not None:
        return Route(best[1].department, (), "rule")
    return None
