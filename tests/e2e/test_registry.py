"""A steward finds a building, opens a house and sees its residents, masked, in Chromium."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, screenshot

pytestmark = pytest.mark.e2e

MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")


def test_steward_walks_from_search_to_masked_residents(served, page):
    page.goto(served + "/accounts/login/?next=/workbench/registry/")
    page.fill("#id_username", "e2e_admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert page.locator("h1").inner_text().startswith("基础数据")
    page.fill("input[name=q]", "栋")
    with page.expect_navigation():
        page.get_by_role("button", name="查找楼栋").click()
    results = page.locator("main ul li a")
    assert results.count() > 0
    with page.expect_navigation():
        results.first.click()
    assert re.search(r"\d{19}", page.locator("h1").inner_text())
    rows = page.locator("tbody tr")
    assert rows.count() > 0
    # open the house with the most residents
    counts = [int(t or 0) for t in page.locator("tbody tr td:last-child").all_inner_texts()]
    with page.expect_navigation():
        rows.nth(counts.index(max(counts))).locator("a").click()
    assert re.search(r"\d{25}", page.locator("h1").inner_text())
    ids = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    if max(counts):
        assert ids and all(MASKED_ID.match(i) for i in ids), ids
        names = page.locator("tbody tr td:nth-child(1)").all_inner_texts()
        assert all(re.fullmatch(r".\*+", n) for n in names), names
    screenshot(page, "registry-house")
