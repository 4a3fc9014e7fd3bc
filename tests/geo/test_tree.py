"""Shenzhen's governance tree as loaded by `civicgrid init`."""

from __future__ import annotations

import re

import pytest
import shapely

from civicgrid.accounts.models import Department, DepartmentKind
from civicgrid.core.setup import initialise
from civicgrid.geo.models import Region
from tests.conftest import TEST_GRIDS_PER_COMMUNITY

pytestmark = pytest.mark.django_db


def test_levels_have_shenzhens_counts():
    counts = {
        lv: Region.objects.filter(level=lv).count()
        for lv in ("city", "district", "street", "community", "grid")
    }
    assert counts == {
        "city": 1,
        "district": 10,
        "street": 74,
        "community": 783,
        "grid": 783 * TEST_GRIDS_PER_COMMUNITY,
    }


def test_dapeng_is_a_district_node_holding_three_streets_with_official_codes():
    dapeng = Region.objects.get(code="440399")
    assert dapeng.name == "大鹏新区" and dapeng.level == "district"
    assert sorted(dapeng.children.values_list("code", "name")) == [
        ("440307009", "葵涌街道"),
        ("440307010", "大鹏街道"),
        ("440307011", "南澳街道"),
    ]
    assert Region.objects.get(code="440307").children.count() == 11  # 平湖 … 园山
    assert dapeng.synthetic and Region.objects.get(code="440307").synthetic
    assert not Region.objects.get(code="440306").synthetic


def test_communities_keep_their_official_codes_and_names():
    dtl = Region.objects.get(code="440303001001")
    assert dtl.name == "大塘龙社区" and dtl.official_name == "大塘龙社区居民委员会"
    assert dtl.parent_id == "440303001"
    assert dtl.path == "440300.440303.440303001.440303001001"


def test_grids_have_14_digit_codes_under_their_community():
    for grid in Region.objects.filter(level="grid").select_related("parent")[:2000]:
        assert re.fullmatch(r"\d{14}", grid.code)
        assert grid.code[:12] == grid.parent_id
        assert grid.parent.level == "community"
        assert grid.synthetic
    assert Region.objects.get(code="44030300100101").name == "大塘龙社区第01网格"


def test_every_polygon_lies_inside_its_parent():
    sample = (
        Region.objects.filter(level__in=["street", "community", "grid"])
        .select_related("parent")
        .order_by("?")[:300]
    )
    for node in sample:
        outside = shapely.difference(node.shape, node.parent.shape).area
        assert outside <= node.shape.area * 1e-6, node.code


def test_one_centre_per_node_and_departments_per_district():
    centres = Department.objects.filter(kind=DepartmentKind.CENTRE).count()
    assert centres == 1 + 10 + 74 + 783
    baoan = Department.objects.filter(kind=DepartmentKind.FUNCTIONAL, region_id="440306")
    assert {"住房和建设局", "城市管理和综合执法局", "民政局", "司法局"} <= {
        d.name.removeprefix("宝安区") for d in baoan
    }
    police = Department.objects.get(code="440399-GA")
    assert police.name == "深圳市公安局大鹏分局" and police.parent.code == "440300-GA"
    assert Department.objects.get(code="440306017-JD").name == "新安街道办事处"


def test_running_init_again_adds_nothing():
    before = (Region.objects.count(), Department.objects.count())
    report = initialise(migrate=False, grids_per_community=TEST_GRIDS_PER_COMMUNITY)
    assert report.regions == {} and report.departments == 0
    assert (Region.objects.count(), Department.objects.count()) == before
