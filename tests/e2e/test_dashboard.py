"""A leader opens /dashboard/ in Chromium: Chinese labels, KPI tiles, charts and the map, and
every number shown equals the metrics API's."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import ADMIN_PASSWORD, E2E_DB, E2E_SCALE, _serve, screenshot
from tests.instance import CLI, instance

pytestmark = pytest.mark.e2e
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def served_with_history(tmp_path_factory):
    """An instance with ten days of simulated events (its own database), and one event filed
    three weeks ago and still running, so the overdue list has something to show."""
    data_dir = tmp_path_factory.mktemp("e2e-dash")
    args = ("--scale", str(E2E_SCALE), "--history-days", "10")
    with instance(data_dir, E2E_DB + "_dash", *args) as env:
        subprocess.run(
            [*CLI, "shell", "-c", OVERDUE_EVENT],
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
        )
        yield from _serve(env, data_dir)


# filed through the intake as if it were three weeks ago (the 4-hour class of 在建违法建设)
OVERDUE_EVENT = """
import datetime as dt
from django.utils import timezone
from civicgrid.events import services
from civicgrid.geo.models import Region
grid = Region.objects.get(code="44030601700101")
at = timezone.now() - dt.timedelta(days=21)
with services.clock(at):
    services.submit("e2e", services.Intake(
        channel="hotline", source_ref="E2E-OVERDUE", category="010101", created_at=at,
        description="e2e：楼顶正在加建铁皮房", lon=grid.lon, lat=grid.lat))
"""


def _login(page, base: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", "e2e_admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()


def _api(page, url: str) -> dict:
    return page.evaluate("u => fetch(u, {credentials: 'same-origin'}).then(r => r.json())", url)


def test_dashboard_shows_the_apis_numbers(served_with_history, page):
    base = served_with_history
    _login(page, base, "/dashboard/")
    page.wait_for_selector("body[data-dashboard=ready]", timeout=30_000)
    assert "治理驾驶舱" in page.locator("h1").inner_text()
    tiles = page.locator("#tiles").inner_text()
    for text in ("受理量", "结案率", "按期结案率", "平均处置用时", "最快用时", "满意率", "较上期"):
        assert text in tiles, text
    main = page.locator("main").inner_text()
    for text in ("各月趋势", "事项大类", "渠道", "超期未办结", "问题工单", "下级区域指标"):
        assert text in main, text
    first = page.input_value("input[name=from]")
    last = page.input_value("input[name=to]")
    body = _api(page, f"/api/v1/metrics?region=440300&from={first}&to={last}")
    assert body["total"]["accepted"] > 0
    for tile in page.locator(".kpi-tile").all():
        key = tile.get_attribute("data-kpi")
        shown = tile.get_attribute("data-value")
        want = body["total"][key]
        assert (shown == "" and want is None) or float(shown) == pytest.approx(want), key
    # the channel chart and the district table hold the API's numbers
    channels = _api(page, f"/api/v1/metrics?region=440300&from={first}&to={last}&group_by=channel")
    pie = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-channel'))"
        ".getOption().series[0].data"
    )
    assert {d["name"]: d["value"] for d in pie} == {
        r["name"]: r["accepted"] for r in channels["items"]
    }
    districts = _api(
        page, f"/api/v1/metrics?region=440300&from={first}&to={last}&group_by=district"
    )
    for r in districts["items"]:
        cell = page.locator(f"#child-table tr[data-key='{r['key']}'] td[data-kpi=accepted]")
        assert cell.inner_text() == str(r["accepted"])
    assert int(page.get_attribute("#dash-map", "data-features")) >= 9
    # hot issues: each cluster's representative words and its size, as the API gives them
    days = (dt.date.fromisoformat(last) - dt.date.fromisoformat(first)).days + 1
    hot = _api(page, f"/api/v1/triage/hotspots?days={days}&region=440300") if days <= 90 else {}
    if hot.get("items"):
        top, shown = hot["items"][0], page.locator("#hot li").all_inner_texts()
        assert len(shown) == min(len(hot["items"]), 10) and "object" not in " ".join(shown)
        assert str(top["size"]) in shown[0]
        assert top["category"] is None or top["category"]["name"] in shown[0]
    screenshot(page, "dashboard-city")
    # drill down to the busiest district from the table
    busiest = max(districts["items"], key=lambda r: r["accepted"])
    with page.expect_navigation():
        page.locator(f"#child-table tr[data-key='{busiest['key']}'] a").click()
    page.wait_for_selector("body[data-dashboard=ready]", timeout=30_000)
    assert busiest["name"] in page.locator("h1").inner_text()
    value = page.get_attribute(".kpi-tile[data-kpi=accepted]", "data-value")
    sub = _api(page, f"/api/v1/metrics?region={busiest['key']}&from={first}&to={last}")
    assert int(value) == sub["total"]["accepted"] == busiest["accepted"]
    assert json.dumps(sub["region"], ensure_ascii=False).count(busiest["name"]) == 1


def _city_clock(iso: str | None) -> str:
    """An API instant as the page should show it: Shanghai's date and time, to the minute."""
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def test_deadlines_show_on_shanghai_time(served_with_history, browser):
    """The overdue and 问题工单 lists give each deadline as the city's clock reads it
    (Asia/Shanghai), not the API's UTC, even in a browser set to another zone."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="America/Los_Angeles"
    )
    page = context.new_page()
    try:
        _login(page, served_with_history, "/dashboard/")
        page.wait_for_selector("body[data-dashboard=ready]", timeout=30_000)
        body = _api(page, "/api/v1/dashboard/watch?region=440300")
        assert body["overdue"], "the history leaves events overdue"
        for table in ("overdue", "problem"):
            shown = {
                row.locator("td").nth(0).inner_text(): row.locator("td").nth(4).inner_text()
                for row in page.locator(f"#{table} tbody tr").all()
            }
            assert shown == {e["number"]: _city_clock(e["deadline"]) for e in body[table]}, table
    finally:
        context.close()


def test_dashboard_in_english_when_chosen(served_with_history, page):
    """The words the script writes come from the page, so they follow the chosen language;
    the numbers are the same API's."""
    base = served_with_history
    _login(page, base, "/dashboard/")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("body[data-dashboard=ready]", timeout=30_000)
    tiles = page.locator("#tiles").inner_text()
    for text in ("Events accepted", "Closure rate", "Average handling time", "vs previous period"):
        assert text in tiles, text
    assert page.locator("#dash-status").inner_text().startswith("Period ")
    assert page.locator("#map-kpi-name").inner_text() == "Closure rate"
    assert page.locator("#child-table th").first.inner_text() == "Name"
    assert page.locator("#overdue th").first.inner_text() == "Number"
    pie = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-channel'))"
        ".getOption().series[0]"
    )
    assert pie["name"] == "Events accepted"
    assert "12345 hotline" in {d["name"] for d in pie["data"]}
    shown = page.locator("main").inner_text()
    for text in ("受理量", "结案率", "较上期", "统计区间", "名称", "编号", "12345热线"):
        assert text not in shown, text
    first = page.input_value("input[name=from]")
    last = page.input_value("input[name=to]")
    body = _api(page, f"/api/v1/metrics?region=440300&from={first}&to={last}&group_by=channel")
    assert "12345热线" in {r["name"] for r in body["items"]}  # the API stays Chinese
    screenshot(page, "dashboard-city-en")
