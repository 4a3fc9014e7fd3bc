"""The shipped catalogue and its API: the GB/T 30428 event classes and the whole three-level
12345 taxonomy of the shared data, every leaf usable for intake and routing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from civicgrid.events import catalogue_selectors
from civicgrid.events.catalogue import CatalogueError
from civicgrid.events.catalogue_services import SEED_FILE, load_catalogue
from civicgrid.events.models import Category
from civicgrid.events.routing import LEVELS

pytestmark = pytest.mark.django_db
TAXONOMY = Path(__file__).parents[3] / "shared" / "data" / "appeals" / "appeal_categories.csv"


def test_init_seeds_the_whole_catalogue():
    leaves = Category.objects.filter(leaf=True)
    assert leaves.count() > 600
    assert all(c.deadline and c.route for c in leaves)
    names = set(Category.objects.filter(level=1).values_list("name", flat=True))
    assert {"市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序"} <= names


@pytest.mark.skipif(not TAXONOMY.exists(), reason="shared data not beside the checkout")
def test_every_12345_class_is_in_the_tree_under_its_parents():
    by_code = {c.code: c for c in Category.objects.all()}
    paths = set()
    for c in by_code.values():
        if c.level == 3:
            p = by_code[c.parent_id]
            paths.add((by_code[p.parent_id].name, p.name, c.name))
    with open(TAXONOMY, encoding="utf-8") as fh:
        wanted = {(r["一级分类"], r["二级分类"], r["三级分类"]) for r in csv.DictReader(fh)}
    assert wanted <= paths


def test_every_leaf_routes_to_an_existing_department():
    from civicgrid.accounts.models import Department

    cat = catalogue_selectors.catalogue()
    places = {
        "community": "440306017001",
        "street": "440306017",
        "district": "440306",
        "city": "440300",
    }
    codes = set(Department.objects.values_list("code", flat=True))
    for code, node in cat.nodes.items():
        if node.leaf:
            r = cat.route(code, places)
            assert r is not None and r.department in codes, code
            assert all(a in codes for a in r.assists), code
            assert node.route[0][0] in LEVELS


def test_catalogue_api_is_public_and_paged(client):
    r = client.get("/api/v1/catalogue?limit=5")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == Category.objects.filter(active=True).count()
    first = body["items"][0]
    assert set(first) >= {"code", "name", "parent", "level", "leaf", "deadline", "on_spot"}
    leaves = client.get("/api/v1/catalogue?leaf=true&parent=0101").json()["items"]
    assert leaves and all(x["leaf"] and x["parent"] == "0101" for x in leaves)


def test_a_bad_catalogue_file_changes_nothing(tmp_path):
    before = list(Category.objects.values_list("code", "name", "deadline").order_by("code"))
    bad = tmp_path / "bad.csv"
    with open(SEED_FILE, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[1][1] = "改过的名字"
    rows[5][4] = "三天"
    with open(bad, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(CatalogueError, match="第 6 行"):
        load_catalogue("test", bad)
    assert list(Category.objects.values_list("code", "name", "deadline").order_by("code")) == before


def test_reloading_the_same_file_changes_nothing():
    assert load_catalogue("test").created == 0
    assert load_catalogue("test").updated == 0


def test_a_hand_edit_is_checked_like_a_file_and_audited():
    from civicgrid.audit.models import AuditRecord
    from civicgrid.events.catalogue_services import save_category

    leaf = Category.objects.filter(leaf=True).order_by("code").first()
    leaf.deadline = "半天"
    with pytest.raises(CatalogueError, match="办理时限"):
        save_category("steward", leaf)
    leaf.deadline, leaf.route = "2d", "street:CG"
    with pytest.raises(CatalogueError, match="责任层级"):
        save_category("steward", leaf)
    leaf.refresh_from_db()
    leaf.deadline = "2d"
    save_category("steward", leaf)
    assert Category.objects.get(pk=leaf.pk).deadline == "2d"
    assert AuditRecord.objects.filter(action="catalogue.change", object_id=leaf.pk).exists()


def test_admin_lists_and_edits_the_catalogue(admin_client):
    leaf = Category.objects.filter(leaf=True).order_by("code").first()
    r = admin_client.get("/admin/events/category/")
    assert r.status_code == 200 and leaf.name in r.content.decode()
    assert admin_client.get(f"/admin/events/category/{leaf.pk}/change/").status_code == 200
    assert admin_client.get("/admin/events/event/").status_code == 200
