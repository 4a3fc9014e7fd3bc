"""Loading and editing the event catalogue (事项目录) and the routing rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from civicgrid.audit import services as audit
from civicgrid.events import catalogue as cat
from civicgrid.events import formats  # noqa: F401  (registers the file columns)
from civicgrid.events.models import Category
from civicgrid.registry.reader import open_table

SEED_FILE = Path(__file__).parent / "data" / "catalogue.csv"


@dataclass
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _fields(node: cat.Node) -> dict:
    return dict(
        name=node.name,
        parent_id=node.parent,
        level=node.level,
        leaf=node.leaf,
        intake_type=node.intake_type,
        deadline=str(node.deadline) if node.deadline else "",
        urgency=node.urgency,
        on_spot=node.on_spot,
        yellow=str(node.yellow) if node.yellow else "",
        red=str(node.red) if node.red else "",
        radius_m=node.radius_m,
        route=";".join(f"{lv}:{s}" for lv, s in node.route),
        assist=";".join(node.assist),
        keywords=";".join(node.keywords),
        source=node.source,
        active=True,
    )


def load_catalogue(actor, path: Path | str = SEED_FILE) -> LoadResult:
    """Add or update every node of a catalogue file, in one transaction (a file with any
    problem raises ``CatalogueError`` and changes nothing). Nodes missing from the file are
    kept: events refer to them."""
    table = open_table("catalogue", Path(path))
    nodes = cat.check_rows(table.rows)
    existing = {c.code: c for c in Category.objects.all()}
    created = updated = unchanged = 0
    with transaction.atomic():
        for node in sorted(nodes, key=lambda n: n.code):  # parents before children
            values = _fields(node)
            row = existing.get(node.code)
            if row is None:
                Category.objects.create(code=node.code, **values)
                created += 1
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                row.save()
                updated += 1
            else:
                unchanged += 1
        if created or updated:
            audit.record(
                "catalogue.load",
                actor=actor,
                object_type="events.category",
                object_id=Path(path).name,
                extra={"created": created, "updated": updated},
            )
    return LoadResult(created, updated, unchanged)


def seed_catalogue(actor="init") -> LoadResult | None:
    """The shipped catalogue, once: a city's own edits are not overwritten by ``init``."""
    if Category.objects.exists() or not SEED_FILE.exists():
        return None
    return load_catalogue(actor, SEED_FILE)


def save_category(actor, category: Category) -> Category:
    """One node edited by hand (the admin): checked by the same rules as a catalogue file,
    saved and audited; a problem raises ``CatalogueError`` naming the column."""
    from django.forms.models import model_to_dict

    row = {k: "" if v is None else str(v) for k, v in model_to_dict(category).items()}
    row["parent"] = category.parent_id or ""
    row["on_spot"] = "1" if category.on_spot else "0"
    leaf = not Category.objects.filter(parent_id=category.pk).exists()
    parent_known = Category.objects.filter(pk=category.parent_id).exists()
    node = cat.check_node(row, leaf=leaf, parent_known=parent_known or not category.parent_id)
    before = Category.objects.filter(pk=category.pk).values().first()
    after = _fields(node)
    after.pop("active")
    for key, value in after.items():
        setattr(category, key, value)
    category.save()
    audit.record(
        "catalogue.change",
        actor=actor,
        obj=category,
        before=before and {k: str(v) for k, v in before.items() if k != "updated_at"},
        after={k: str(v) for k, v in after.items()},
    )
    return category


def save_rule(actor, rule) -> object:
    """A routing rule set by hand; audited."""
    rule.full_clean()
    rule.save()
    audit.record(
        "routing.change",
        actor=actor,
        obj=rule,
        after={
            "category": rule.category_id,
            "region": rule.region_id,
            "department": rule.department_id,
        },
    )
    return rule
