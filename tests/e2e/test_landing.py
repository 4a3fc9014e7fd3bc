"""The landing page and tree explorer as a person sees them in Chromium."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, screenshot

pytestmark = pytest.mark.e2e


def _tiles(page) -> dict[str, str]:
    tiles = page.locator(".tile")
    return {
        tiles.nth(i).locator(".l").inner_text(): tiles.nth(i).locator(".n").inner_text()
        for i in range(tiles.count())
    }


def test_landing_page_shows_the_tree_in_chinese_with_a_map(served, page):
    page.goto(served + "/regions/")
    page.wait_for_selector("#map.ready", timeout=20000)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text().startswith("深圳市")
    assert _tiles(page) == {"区": "10", "街道": "74", "社区": "783", "网格": "9396"}
    assert page.locator("#map").get_attribute("data-features") == "10"
    assert page.locator("#map canvas").count() >= 1  # polygons drawn (canvas renderer)
    names = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert "大鹏新区" in names and "宝安区" in names and len(names) == 10
    # Chinese must render with a real CJK font, not as boxes
    assert page.evaluate("document.fonts.check('16px \"WenQuanYi Micro Hei\"', '深圳')")
    shot = screenshot(page, "landing")
    assert shot.stat().st_size > 20_000


def test_drill_down_from_district_to_the_grids_of_a_community(served, page):
    page.goto(served + "/regions/")
    page.get_by_role("link", name="大鹏新区").click()
    page.wait_for_selector("#map.ready")
    assert page.locator("h1").inner_text().startswith("大鹏新区")
    assert page.locator("tbody tr").count() == 3
    page.get_by_role("link", name="葵涌街道").click()
    page.wait_for_selector("#map.ready")
    assert "440307009" in page.locator("h1").inner_text()
    page.locator("tbody tr").first.locator("a").click()
    page.wait_for_selector("#map.ready")
    community = re.search(r"\d{12}", page.locator("h1").inner_text()).group(0)
    codes = page.locator("tbody td.code").all_inner_texts()
    assert len(codes) == 12
    assert all(re.fullmatch(community + r"\d{2}", c) for c in codes)
    assert page.locator("#map").get_attribute("data-features") == "12"
    crumbs = page.locator(".crumbs").inner_text()
    assert "深圳市" in crumbs and "大鹏新区" in crumbs and "葵涌街道" in crumbs
    screenshot(page, "community-grids")


def test_language_switch_to_english(served, page):
    page.goto(served + "/regions/440306/")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Regions and grids" in page.locator("header").inner_text()
    assert page.locator("h1").inner_text().startswith("宝安区")  # names stay as they are


def test_admin_is_reachable_and_in_chinese(served, page):
    page.goto(served + "/admin/")
    page.fill("#id_username", "e2e_admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    body = page.locator("body").inner_text()
    assert "数据管理" in body and "区域" in body and "机构" in body
    page.goto(served + "/admin/accounts/department/?q=宝安区住房")
    assert "宝安区住房和建设局" in page.locator("#result_list").inner_text()
    screenshot(page, "admin")
