"""The grid worker's phone page: my tasks (verify on site), report with a photo, close a
minor matter on the spot (即巡即办)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.events.models import Event
from tests.web.conftest import GRID, PNG, walk

pytestmark = pytest.mark.django_db


def _ticket(client) -> str:
    page = client.get("/grid/").content.decode()
    return re.search(r'name="ticket" value="([^"]+)"', page).group(1)


def test_only_grid_workers_and_volunteers(browser_for):
    assert browser_for("cg").get("/grid/").status_code == 403
    assert browser_for("citizen").get("/grid/").status_code == 403
    page = browser_for("grid").get("/grid/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的任务" in html and "上报事件" in html and 'capture="environment"' in html
    assert f'value="{GRID}"' in html  # the grids of my community to choose from


def test_verify_a_resolved_event_from_the_phone(filed, browser_for, people):
    number = filed(category="9802").number
    walk(people, number, ("cg", "sign", {}), ("cg", "resolve", {"note": "已拆除"}))
    grid = browser_for("grid")
    assert f'id="task-{number}"' in grid.get("/grid/").content.decode()
    r = grid.post(
        f"/workbench/events/{number}/act",
        {"action": "verify", "passed": "0", "note": "", "next": "/grid/"},
    )
    assert r.status_code == 422 and "核查不通过须说明原因" in r.content.decode()
    r = grid.post(
        f"/workbench/events/{number}/act",
        {"action": "verify", "passed": "1", "note": "现场已拆除", "next": "/grid/"},
    )
    assert r.status_code == 302 and r["Location"] == "/grid/"
    assert Event.objects.get(number=number).status == "verified"
    # an outside address is not followed
    r = grid.post(
        f"/workbench/events/{number}/act",
        {"action": "comment", "note": "ok", "next": "https://evil.example/"},
    )
    assert r["Location"] == f"/workbench/events/{number}/"


def test_report_with_a_photo_and_close_on_the_spot(browser_for):
    grid = browser_for("grid")
    body = {
        "ticket": _ticket(grid),
        "description": "路边垃圾堆积，已现场清理",
        "category": "9801",
        "region": GRID,
        "photos": SimpleUploadedFile("after.png", PNG, "image/png"),
        "on_spot": "on",
    }
    r = grid.post("/grid/", body)
    assert r.status_code == 302
    e = Event.objects.get(channel="grid")
    assert (e.status, e.on_spot, e.grid_code) == ("closed", True, GRID)
    shown = grid.get(r["Location"]).content.decode()
    assert f"已上报 {e.number}：已结案" in shown
    assert f'id="task-{e.number}"' not in shown  # nothing left to do


def test_on_the_spot_needs_a_photo_and_an_on_spot_item(browser_for):
    grid = browser_for("grid")
    body = {
        "ticket": _ticket(grid),
        "description": "路边垃圾",
        "category": "9801",
        "region": GRID,
        "on_spot": "on",
    }
    r = grid.post("/grid/", body)
    assert r.status_code == 422 and "即巡即办须附处置照片" in r.content.decode()
    body |= {"category": "9802", "photos": SimpleUploadedFile("a.png", PNG, "image/png")}
    r = grid.post("/grid/", body)
    assert r.status_code == 422 and "不属于可即巡即办的事项" in r.content.decode()
    assert not Event.objects.exists()


def test_a_plain_report_goes_into_the_hub(browser_for):
    grid = browser_for("grid")
    r = grid.post(
        "/grid/",
        {
            "ticket": _ticket(grid),
            "description": "井盖缺失，有安全隐患",
            "category": "9803",
            "region": GRID,
        },
    )
    assert r.status_code == 302
    e = Event.objects.get(channel="grid")
    assert e.status == "dispatched" and e.reporter_id is not None
    page = grid.get("/grid/").content.decode()
    assert f'id="task-{e.number}"' in page and "已上报" in page
