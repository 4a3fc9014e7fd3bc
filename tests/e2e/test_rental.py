"""A door plate scanned with a phone: the scan page, a tenant's self-registration, and a grid
worker recording an inspection that turns the house red — in Chromium at a phone viewport."""

from __future__ import annotations

import pytest

from civicgrid.registry.codes import id_check_char
from tests.e2e.conftest import ADMIN_PASSWORD, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _login(page, base: str) -> None:
    page.goto(base + "/accounts/login/?next=/")
    page.fill("#id_username", "e2e_admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def _let_house(page, base: str) -> str:
    """A green let house of the synthetic city (``init`` gives every let house a profile with
    a mix of grades), its profile updated through the API."""
    buildings = page.request.get(base + "/api/v1/buildings?limit=50").json()["items"]
    for b in buildings:
        houses = page.request.get(f"{base}/api/v1/buildings/{b['code']}/houses").json()
        for h in houses["items"]:
            rental = page.request.get(f"{base}/api/v1/rental/{h['code']}")
            if h["use"] == "出租" and rental.status == 200 and rental.json()["grade"] == "green":
                return h["code"]
            if h["use"] == "出租" and rental.status == 404:
                token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
                r = page.request.put(
                    f"{base}/api/v1/rental/{h['code']}",
                    data={"safety_letter": True},
                    headers={"X-CSRFToken": token, "Referer": base + "/"},
                )
                assert r.status in (200, 201), r.text()
                return h["code"]
    pytest.fail("no let house in the synthetic city")


def test_scan_register_and_inspect_on_a_phone(served, browser):
    staff = browser.new_context(viewport=PHONE)
    page = staff.new_page()
    _login(page, served)
    code = _let_house(page, served)
    qr = page.request.get(f"{served}/api/v1/houses/{code}/qr").json()
    path = "/" + qr["url"].split("://", 1)[1].split("/", 1)[1]

    tenant = browser.new_context(viewport=PHONE)
    phone = tenant.new_page()
    phone.goto(served + path)
    assert phone.locator("#grade h1").inner_text() == "宽管级"
    assert phone.locator("#house-code").inner_text() == code
    assert phone.locator("#inspect").count() == 0  # not a grid worker
    screenshot(phone, "rental-scan")

    body = "440306199203150" + "42"
    number = body + id_check_char(body)
    phone.fill("#id_number", number)
    phone.fill("#name", "测试租客")
    phone.fill("#phone", "13900001111")
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交申报").click()
    assert "申报成功" in phone.locator("#notice").inner_text()
    assert "测试租客" not in phone.content() and number not in phone.content()
    screenshot(phone, "rental-registered")

    # a forged plate
    phone.goto(served + path[:-3] + "AAA")
    assert "无效的二维码" in phone.content() and code not in phone.content()
    tenant.close()

    # the grid worker (here the administrator) records an inspection on the same page
    page.goto(served + path)
    page.check("#f_escape_route_blocked")
    with page.expect_navigation():
        page.get_by_role("button", name="记录检查").click()
    assert "检查已记录" in page.locator("#notice").inner_text()
    assert page.locator("#grade").get_attribute("data-grade") == "red"
    assert page.locator("#grade h1").inner_text() == "禁止级"
    screenshot(page, "rental-inspected")
    staff.close()
