"""The workbench in Chromium: the hotline operator answers a consultation on the phone, the
next call of the same number shows the caller's history (htmx, masked); a centre dispatcher
submitting a stale action is told why it is refused."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e

PHONE = "13912345678"


def _call(page, served: str, description: str, category: str, answer: str = "") -> str:
    page.goto(served + "/workbench/intake/")
    page.fill("#id_reporter_phone", PHONE)
    page.fill("#id_description", description)
    page.fill("#id_category", category)
    page.select_option("#id_region", "440306017")
    if answer:
        page.fill("#id_answer", answer)
    with page.expect_navigation():
        page.get_by_role("button", name="登记", exact=True).click()
    message = page.locator(".msg").inner_text()
    return re.search(r"已登记 (\d+)", message).group(1)


def test_operator_answers_a_call_and_sees_the_callers_history(served, staff, page):
    login(page, served, "e2e_operator")
    first = _call(
        page,
        served,
        "咨询住房公积金怎么提取",
        "081001",
        answer="可在公积金中心网站或窗口办理提取。",
    )
    assert page.locator("#status").inner_text() == "已结案"  # answered directly
    assert "当场答复办结" in page.locator("#timeline").inner_text()
    # the same caller again: typing the number brings up the earlier call, masked
    page.goto(served + "/workbench/intake/")
    page.fill("#id_reporter_phone", PHONE)
    page.wait_for_selector("#caller .caller", timeout=10000)
    history = page.locator("#caller").inner_text()
    assert first in history and "139****5678" in history and PHONE not in history
    screenshot(page, "workbench-intake-caller")


def test_a_stale_action_is_refused_with_the_reason(served, staff, browser):
    op = browser.new_context().new_page()
    login(op, served, "e2e_operator")
    number = _call(op, served, "我家附近有件事想反映，麻烦派人核实一下", "")
    assert op.locator("#status").inner_text() == "待受理"  # waits for the centre
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    one, two = desk.new_page(), desk.new_page()
    login(one, served, "e2e_dispatcher")
    for p in (one, two):
        p.goto(f"{served}/workbench/events/{number}/")
    with two.expect_navigation():
        two.locator("#act-accept input[name=category]").fill("0102")
        two.locator("#act-accept button[type=submit]").click()
    # the first tab still shows 立案: it is no longer allowed, and the page says why
    with one.expect_navigation():
        one.locator("#act-accept button[type=submit]").click()
    refused = one.locator("#refused").inner_text()
    assert "不能“立案”" in refused and "当前可执行" in refused and "派遣" in refused
    assert one.locator("#act-dispatch").count() == 1  # what is allowed now is offered
    screenshot(one, "workbench-refused")
