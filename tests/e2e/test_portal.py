"""The whole loop in Chromium, each person in their own browser: a citizen files on `/` with a
map pin → the 宝安区 centre accepts and dispatches in the workbench → 城管 signs and resolves →
the centre verifies and closes → the citizen rates on /track with the code from filing."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.e2e

GRID = "44030601700101"  # 宝安区 新安街道 宝民社区第01网格


def _point(served: str, code: str) -> tuple[float, float]:
    with urllib.request.urlopen(f"{served}/api/v1/regions/{code}") as r:
        body = json.load(r)
    return body["lon"], body["lat"]


def _pin(page, lon: float, lat: float) -> None:
    """Zoom in and click the map where (lon, lat) is drawn, as a person would."""
    page.wait_for_selector("#pinmap.ready", timeout=20000)
    x, y = page.evaluate(
        "([lon, lat]) => { const m = document.getElementById('pinmap').leafletMap;"
        " m.setView([lat, lon], 15, {animate: false});"
        " const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lon, lat],
    )
    box = page.locator("#pinmap").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("document.getElementById('pinned').textContent.includes('宝安区')")


def _act(page, action: str, **fields) -> None:
    form = page.locator(f"#act-{action}")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.locator(".msg").count() == 1, page.locator("main").inner_text()[:500]


def test_file_dispatch_sign_resolve_verify_close_rate(served, staff, browser):
    citizen = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    citizen.goto(served + "/")
    assert citizen.locator("h1").inner_text() == "我要反映"
    citizen.fill("#id_title", "小区门口有情况")
    citizen.fill("#id_description", "楼下路口有个情况需要有人来看看，已经好几天了")
    _pin(citizen, *_point(served, GRID))
    assert "新安街道" in citizen.locator("#pinned").inner_text()
    citizen.fill("#id_reporter_phone", "13800138000")
    screenshot(citizen, "portal-form")
    with citizen.expect_navigation():
        citizen.get_by_role("button", name="提交诉求").click()
    number = citizen.locator("#event-number").inner_text()
    code = citizen.locator("#track-code").inner_text()
    assert re.fullmatch(r"\d{15}", number) and re.fullmatch(r"[0-9A-F]{8}", code)
    screenshot(citizen, "portal-filed")

    # the district centre finds it in its triage queue and dispatches it to 城管
    disp = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(disp, served, "e2e_dispatcher")
    disp.goto(served + "/workbench/?desk=triage")
    disp.locator(f"a[href='/workbench/events/{number}/']").click()
    disp.wait_for_selector("#act-accept")
    screenshot(disp, "workbench-event")
    _act(disp, "accept", category="0102")
    _act(disp, "dispatch", department="440306-CG", note="请城管到场处理")
    assert "已派遣" in disp.locator("#status").inner_text()

    # 城管 signs and resolves from its task queue
    cg = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(cg, served, "e2e_cg")
    cg.goto(served + "/workbench/?desk=tasks")
    cg.locator(f"a[href='/workbench/events/{number}/']").click()
    _act(cg, "sign")
    _act(cg, "resolve", note="已清理路口杂物并加强巡查")
    screenshot(cg, "workbench-resolved")

    # the centre verifies and closes
    disp.goto(f"{served}/workbench/events/{number}/")
    _act(disp, "verify", note="回访核实，已处理")
    _act(disp, "close")
    assert "已结案" in disp.locator("#status").inner_text()
    timeline = disp.locator("#timeline").inner_text()
    for step in ("立案", "派遣", "签收", "处置完成", "核查", "结案"):
        assert step in timeline, step

    # the citizen follows the link and rates with the code
    citizen.goto(f"{served}/track/{number}")
    assert citizen.locator("#status").inner_text() == "已结案"
    assert "已清理路口杂物" in citizen.locator("#timeline").inner_text()
    assert "e2e_cg" not in citizen.locator("main").inner_text()
    assert "13800138000" not in citizen.content()
    citizen.fill("#id_code", code)
    citizen.get_by_label("满意", exact=True).check()
    with citizen.expect_navigation():
        citizen.get_by_role("button", name="提交评价").click()
    assert "感谢您的评价" in citizen.locator(".msg").inner_text()
    assert citizen.locator("#rating").inner_text() == "满意"
    assert citizen.evaluate("document.fonts.check('16px \"WenQuanYi Micro Hei\"', '满意')")
    shot = screenshot(citizen, "track-rated")
    assert shot.stat().st_size > 20_000
    for ctx in (citizen, disp, cg):
        ctx.context.close()


def test_unknown_number_and_bad_photo_are_explained(served, page, tmp_path):
    page.goto(served + "/track/20990101000000")
    assert "没有找到这个事件" in page.locator("h1").inner_text()
    page.goto(served + "/")
    page.fill("#id_description", "照片测试")
    page.select_option("#id_region", "440306017")
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"not really a photo")
    page.set_input_files("#id_photos", str(bad))
    with page.expect_navigation():
        page.get_by_role("button", name="提交诉求").click()
    assert "不是 JPEG、PNG 或 WebP 图片" in page.locator("#field-photos").inner_text()
    screenshot(page, "portal-bad-photo")
