"""Hot issues: clusters by text, place and time, ranked by size and growth, in the caller's
jurisdiction (selector, API, CLI, page)."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

from django.core.management import call_command

from civicgrid.triage.hotspots import Report, cluster

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
HERE = (114.0, 22.55)
FAR = (114.1, 22.55)  # about 10 km east


def _r(key, text, place, hours_ago, category=None):
    return Report(key, text, *place, NOW - dt.timedelta(hours=hours_ago), category)


def test_same_problem_same_place_clusters_and_the_growing_one_ranks_first():
    reports = [
        # a noisy site, reported all week, mostly in the last days
        *[
            _r(f"n{i}", f"工地夜间施工噪音扰民第{i}次", HERE, h)
            for i, h in enumerate([150, 30, 20, 10, 5])
        ],
        # rubbish at the same spot: a different problem, its own cluster
        _r("g1", "小区门口垃圾堆积", HERE, 100),
        _r("g2", "小区门口垃圾堆积很多天没有清运", HERE, 90),
        _r("g3", "垃圾堆积很多天没有清运", HERE, 80),
        # the same words far away: not the same place
        _r("f1", "工地夜间施工噪音扰民", FAR, 3),
        _r("x1", "咨询社保缴费办理流程", HERE, 2),
    ]
    spots = cluster(reports, NOW, days=7)
    assert [sorted(m.key for m in c.members) for c in spots] == [
        ["n0", "n1", "n2", "n3", "n4"],
        ["g1", "g2", "g3"],
    ]
    noise, rubbish = spots
    # growth: reports of the recent half (after 84 h ago) minus those of the earlier half
    assert noise.growth == 4 - 1 and rubbish.growth == 1 - 2
    assert rubbish.representative.key == "g2"  # it holds both the others' words


def test_reports_without_a_place_cluster_by_text_alone():
    reports = [_r(f"p{i}", "路灯不亮晚上很黑", (None, None), i) for i in range(3)]
    spots = cluster(reports, NOW, days=1)
    assert len(spots) == 1 and spots[0].size == 3


def test_hotspots_api_is_scoped_and_checks_its_input(report, clients):
    for i in range(3):
        assert report(description=f"宝民社区门口垃圾堆积没人清运{i}").status_code in (200, 201)
    report(description="咨询一下社保缴费的流程")
    got = clients["dispatcher"].get("/api/v1/triage/hotspots?days=7").json()
    assert got["count"] == 1
    spot = got["items"][0]
    assert spot["size"] >= 3 and "垃圾" in spot["representative"]["text"]
    assert len(spot["events"]) == spot["size"]
    scoped = clients["dispatcher"].get("/api/v1/triage/hotspots?days=7&region=440306017").json()
    assert scoped["count"] == 1
    # a neighbouring district's dispatcher sees none of it, and cannot ask for it
    assert clients["nanshan"].get("/api/v1/triage/hotspots").json()["count"] == 0
    assert clients["nanshan"].get("/api/v1/triage/hotspots?region=440306").status_code == 404
    bad = clients["dispatcher"].get("/api/v1/triage/hotspots?days=0")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "days"
    unknown = clients["dispatcher"].get("/api/v1/triage/hotspots?region=123")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "region"
    assert clients["citizen"].get("/api/v1/triage/hotspots").status_code == 403


def test_hotspots_command_and_page_show_the_cluster(report, people, client):
    for i in range(3):
        report(description=f"宝民社区门口垃圾堆积没人清运{i}")
    out = StringIO()
    call_command("triage", "hotspots", "--days", "3", "--region", "440306", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["count"] == 1 and data["items"][0]["size"] >= 3
    client.force_login(people["dispatcher"])
    page = client.get("/workbench/hotspots/?days=3")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "热点问题" in html
        and "垃圾堆积" in html
        and data["items"][0]["events"][0]["number"] in html
    )
    client.force_login(people["citizen"])
    assert client.get("/workbench/hotspots/").status_code == 403


def test_hot_issues_star_phones_and_id_numbers_typed_into_the_reports(report, people, client):
    """Hot issues are read, not acted on: the words come with phones and ID numbers starred
    for every reader, even a dispatcher who may reveal them on the event itself."""
    for i in range(3):
        said = f"宝民社区门口垃圾堆积没人清运，来电人 1381234567{i} 身份证44030619900101123{i}"
        assert report(description=said).status_code in (200, 201)
    client.force_login(people["dispatcher"])
    got = client.get("/api/v1/triage/hotspots?days=7").json()
    spot = got["items"][0]
    assert spot["size"] == 3 and "138****567" in spot["representative"]["text"]
    assert "440306********123" in spot["representative"]["text"]
    assert all("来电人 138****" in e["title"] for e in spot["events"])
    page = client.get("/workbench/hotspots/?days=7").content.decode()
    for body in (json.dumps(got, ensure_ascii=False), page):
        assert "1381234567" not in body and "4403061990" not in body
