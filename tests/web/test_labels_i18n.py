"""The staff pages in English when chosen: statuses, queues, actions, channels, supervision and
the dashboard's script text read in English; the JSON API keeps its Chinese labels whatever
language the caller chose (clients and the Open311 feed depend on them)."""

from __future__ import annotations

import html as markup
import json
import re

import pytest
from django.contrib import admin
from django.utils import translation

from civicgrid.events.models import Event
from tests.web.conftest import walk

pytestmark = pytest.mark.django_db


def _english(client):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/workbench/"})
    assert r.status_code == 302 and client.cookies["django_language"].value == "en"
    return client


def _text(html: str) -> str:
    """The page's visible words: tags and attributes dropped (the Chinese source of the
    language menu and such stay out of the comparison)."""
    return markup.unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_queue_names_statuses_desks_and_supervision_in_english(filed, browser_for):
    waiting = filed(None, channel="web", description="请问这个情况归谁管")
    urged = filed(category="9802", description="另一处违法搭建", source_ref="W-urged")
    Event.objects.filter(pk=urged.pk).update(supervision="yellow")
    disp = browser_for("dispatcher")
    chinese = disp.get("/workbench/?desk=triage").content.decode()
    assert "待受理" in chinese and "即将到期" in chinese and "待派遣" in chinese
    _english(disp)
    page = _text(disp.get("/workbench/?desk=triage").content.decode())
    assert waiting.number in page
    for text in ("Awaiting acceptance", "To dispatch", "Due soon", "Overdue", "To verify"):
        assert text in page, text
    for text in ("待受理", "待派遣", "即将到期", "已超期", "待核查"):
        assert text not in page, text
    cg = _english(browser_for("cg"))
    tasks = _text(cg.get("/workbench/?desk=tasks").content.decode())
    assert urged.number in tasks
    assert "Dispatched" in tasks and "Yellow card" in tasks and "My department's tasks" in tasks
    assert "已派遣" not in tasks and "黄牌" not in tasks and "本单位待办" not in tasks
    # the htmx fragment too
    part = cg.get("/workbench/?desk=tasks", headers={"HX-Request": "true"}).content.decode()
    assert "Dispatched" in part and "已派遣" not in part


def test_the_event_page_names_actions_channel_and_timeline_in_english(filed, browser_for, people):
    number = filed(None, channel="web", description="请问这个情况归谁管").number
    disp = browser_for("dispatcher")
    chinese = disp.get(f"/workbench/events/{number}/").content.decode()
    assert "网站" in chinese and "立案" in chinese and "不予受理" in chinese
    _english(disp)
    html = disp.get(f"/workbench/events/{number}/").content.decode()
    assert re.search(r'<span class="tag" id="status">Awaiting acceptance</span>', html)
    page = _text(html)
    assert "Website" in page  # the channel
    accept = re.search(r'id="act-accept">.*?<h3>(.*?)</h3>', html, re.S)[1]
    reject = re.search(r'id="act-reject">.*?<h3>(.*?)</h3>', html, re.S)[1]
    comment = re.search(r'id="act-comment">.*?<h3>(.*?)</h3>', html, re.S)[1]
    assert (accept, reject, comment) == ("Accept", "Reject", "Add a note")
    for text in ("网站", "立案", "不予受理", "合并", "待受理", "登记"):
        assert text not in page, text
    # through dispatch and a reminder: the actions, the return reasons and the timeline
    walk(
        people,
        number,
        ("dispatcher", "accept", {"category": "9802"}),
        ("dispatcher", "dispatch", {}),
        ("dispatcher", "remind", {"note": "请尽快处理"}),
    )
    html = disp.get(f"/workbench/events/{number}/").content.decode()
    steps = re.findall(r"<strong>([^<]*)</strong> → ([^·]*?) ·", html)
    assert steps == [
        ("Register", "Awaiting acceptance"),
        ("Accept", "Accepted"),
        ("Dispatch", "Dispatched"),
        ("Urge", "Dispatched"),
    ]
    page = _text(html)
    for text in ("Not yet signed for", "Urged", "Dispatched"):
        assert text in page, text
    for text in ("催办", "已派遣", "待签收", "已催办", "已立案"):
        assert text not in page, text
    assert "请尽快处理" in page  # what people wrote stays as written
    cg = _english(browser_for("cg"))
    html = cg.get(f"/workbench/events/{number}/").content.decode()
    assert "Not in our territory" in html and "属地不符" not in html  # the return reasons
    r = cg.post(f"/workbench/events/{number}/act", {"action": "sign"}, follow=True)
    assert "Done: Sign for" in r.content.decode()


def test_the_api_answers_the_same_in_either_language(filed, browser_for, people):
    number = filed(None, channel="web", description="请问这个情况归谁管").number
    walk(
        people,
        number,
        ("dispatcher", "accept", {"category": "9802"}),
        ("dispatcher", "dispatch", {}),
        ("dispatcher", "remind", {}),
    )
    Event.objects.filter(number=number).update(supervision="yellow")
    chinese, english = browser_for("dispatcher"), _english(browser_for("dispatcher"))
    for url in (
        f"/api/v1/events/{number}",
        "/api/v1/events?status=dispatched",
        "/api/v1/metrics?group_by=channel",
    ):
        zh, en = chinese.get(url), english.get(url)
        assert zh.status_code == en.status_code == 200, url
        assert zh.json() == en.json(), url
    body = english.get(f"/api/v1/events/{number}").json()
    assert body["status_label"] == "已派遣"
    assert [t["label"] for t in body["timeline"]][-3:] == ["立案", "派遣", "催办"]
    channels = english.get("/api/v1/metrics?group_by=channel").json()["items"]
    assert {r["key"]: r["name"] for r in channels}.get("web") == "网站"


def test_channel_names_for_the_api_stay_chinese_under_english():
    from civicgrid.analytics.selectors import _names

    with translation.override("en"):
        names = _names("channel", [])
    assert names["web"] == "网站" and names["hotline"] == "12345热线"
    assert all(isinstance(n, str) for n in names.values())


def test_the_dashboard_hands_its_script_english_words(browser_for, make_user):
    leader = make_user("leader", "leader", "440306")
    client = browser_for()
    client.force_login(leader)
    chinese = client.get("/dashboard/").content.decode()
    assert '<option value="completion_rate">结案率</option>' in chinese
    words = json.loads(re.search(r'id="dash-text"[^>]*>(.*?)</script>', chinese, re.S)[1])
    assert words["tiles"]["accepted"] == "受理量" and words["channels"]["web"] == "网站"
    _english(client)
    html = client.get("/dashboard/").content.decode()
    assert '<option value="completion_rate">Closure rate</option>' in html
    assert '<option value="on_time_rate">On-time closure rate</option>' in html
    assert '<span id="map-kpi-name">Closure rate</span>' in html
    words = json.loads(re.search(r'id="dash-text"[^>]*>(.*?)</script>', html, re.S)[1])
    assert words["tiles"]["accepted"] == "Events accepted"
    assert words["tiles"]["satisfaction_rate"] == "Satisfaction rate"
    assert words["channels"]["web"] == "Website" and words["channels"]["grid"] == "Grid patrol"
    assert words["supervision"] == {
        "reminded": "Urged",
        "yellow": "Yellow card",
        "red": "Red card",
    }
    assert words["units"]["days"] == "{n} days" and words["loading"] == "Loading…"

    def chinese_in(value) -> list[str]:
        if isinstance(value, dict):
            return [c for v in value.values() for c in chinese_in(v)]
        return [value] if re.search(r"[\u4e00-\u9fff]", value) else []

    assert chinese_in(words) == []


def test_the_dashboard_script_writes_no_chinese_of_its_own():
    from django.contrib.staticfiles import finders

    with open(finders.find("analytics/dashboard.js"), encoding="utf-8") as fp:
        script = fp.read()
    assert not re.search(r"[\u4e00-\u9fff]", script)


def test_the_admin_titles_follow_the_language():
    with translation.override("en"):
        assert str(admin.site.site_header) == "civicgrid administration"
        assert str(admin.site.index_title) == "Data management"
    with translation.override("zh-hans"):
        assert str(admin.site.site_header) == "civicgrid 社会治理平台管理"
