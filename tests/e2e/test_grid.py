"""The grid worker's page on a phone-sized screen: report a minor matter with a photo and
close it on the spot (即巡即办); a task to verify is one tap."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_grid_worker_closes_a_minor_matter_on_the_spot_from_a_phone(
    served, staff, browser, tmp_path
):
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    ).new_page()
    login(phone, served, "e2e_grid")
    phone.goto(served + "/grid/")
    assert phone.locator("h1").inner_text() == "网格员工作"
    assert phone.evaluate("document.body.classList.contains('phone')")
    # the page fits the phone: nothing wider than the screen
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    photo = tmp_path / "after.png"
    photo.write_bytes(PNG)
    phone.fill("#id_description", "绿化带里有塑料袋和杂物，已清理")
    phone.fill("#id_category", "010601")
    phone.select_option("#id_region", "44030601700101")
    phone.set_input_files("#id_photos", str(photo))
    phone.check("#id_on_spot")
    screenshot(phone, "grid-report")
    with phone.expect_navigation():
        phone.get_by_role("button", name="上报").click()
    message = phone.locator(".msg").inner_text()
    assert "已上报" in message and "已结案" in message
    screenshot(phone, "grid-done")
    phone.context.close()
