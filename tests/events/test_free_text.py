"""Personal data in the event's words and other events' numbers, as each reader may see them
(DESIGN §12): phones and ID numbers typed into a title, description or note are starred for
everyone but the handling staff who may reveal a reporter's data; an event merged into another
names that master only to its reporter and to those who may open it."""

from __future__ import annotations

import json
import math

from civicgrid.events.models import Event
from civicgrid.geo import selectors as geo
from tests.events.conftest import COMMUNITY

PHONE, ID_NUMBER = "13812345678", "440306199001011236"
SAID = f"来电人王小明 {PHONE} 身份证{ID_NUMBER} 反映小区门口垃圾堆积没有清运"


def act(client, number: str, action: str, **body):
    return client.post(
        f"/api/v1/events/{number}/actions/{action}", body, content_type="application/json"
    )


def _dump(body) -> str:
    return json.dumps(body, ensure_ascii=False, default=str)


def test_numbers_in_free_text_are_starred_for_who_may_not_reveal_them(
    report, clients, make_user, api
):
    leader = api(make_user("ld", "leader", "440306"))
    volunteer = api(make_user("vol", "volunteer", COMMUNITY))
    number = report(description=SAID, reporter_name="王小明", reporter_phone=PHONE).json()["number"]
    assert act(clients["operator"], number, "comment", note=f"已回电 {PHONE}").status_code == 200
    Event.objects.filter(number=number).update(problem=True)

    # a volunteer (no reveal permission): the number is starred wherever it was typed
    seen = volunteer.get(f"/api/v1/events/{number}").json()
    assert seen["reporter_phone"] == "138****5678"
    assert seen["description"] == (
        "来电人王小明 138****5678 身份证440306********1236 反映小区门口垃圾堆积没有清运"
    )
    # the title was cut from the description inside the ID number: still nothing of it shows
    assert seen["title"] == "来电人王小明 138****5678 身份证440306**"
    assert "已回电 138****5678" in [t["note"] for t in seen["timeline"]]
    listed = volunteer.get("/api/v1/events").json()["items"]
    assert [e["description"] for e in listed if e["number"] == number] == [seen["description"]]
    for body in (seen, listed):
        assert PHONE not in _dump(body) and "4403061990" not in _dump(body)
        assert "44030619" not in _dump(body)

    # the leader's dashboard: titles starred for every reader
    watch = leader.get("/api/v1/dashboard/watch").json()
    assert [p["title"] for p in watch["problem"]] == ["来电人王小明 138****5678 身份证440306**"]
    assert PHONE not in _dump(watch) and "44030619" not in _dump(watch)

    # a centre dispatcher, who may reveal the reporter's data, reads the words as written
    theirs = clients["dispatcher"].get(f"/api/v1/events/{number}").json()
    assert theirs["description"] == SAID and theirs["title"] == SAID[:30].strip()
    assert f"已回电 {PHONE}" in [t["note"] for t in theirs["timeline"]]
    assert theirs["reporter_phone"] == "138****5678"  # the phone field itself stays masked


def _across_the_line(grid_point):
    """Two points about 20 m apart, in our community and in a neighbouring one of the same
    district, and that community's code."""
    lon0, lat0 = grid_point()
    for angle in range(0, 360, 15):
        prev = (lon0, lat0)
        for k in range(1, 200):
            d = k * 20 / 111_000
            lon = lon0 + d * math.cos(math.radians(angle)) / math.cos(math.radians(lat0))
            lat = lat0 + d * math.sin(math.radians(angle))
            try:
                path = {p["level"]: p["code"] for p in geo.locate(lon, lat).path}
            except Exception:
                break
            if path["community"] != COMMUNITY:
                if path["district"] == COMMUNITY[:6]:
                    return prev, (lon, lat), path["community"]
                break
            prev = (lon, lat)
    raise AssertionError("no neighbouring community found")


def test_a_merge_across_communities_names_the_master_only_to_who_may_open_it(
    report, clients, grid_point, make_user, api, client, people
):
    ours, theirs, other = _across_the_line(grid_point)
    text = "小区门口垃圾堆积很多天没有清运，臭味很大"
    master = report(description=text, lon=theirs[0], lat=theirs[1]).json()["number"]
    # a citizen reports the same heap from our side of the line: merged into the other's event
    merged = report("citizen", channel="web", description=text, lon=ours[0], lat=ours[1]).json()
    assert merged["status"] == "merged" and merged["grid_code"].startswith(COMMUNITY)
    number = merged["number"]

    # our community's dispatcher may not open the master: it is named nowhere in their answers
    community = clients["community"]
    assert community.get(f"/api/v1/events/{master}").status_code == 404
    seen = community.get(f"/api/v1/events/{number}").json()
    assert seen["status"] == "merged" and seen["master"] is None
    assert "与 另一事件 相似度" in _dump(seen["timeline"])
    listed = community.get("/api/v1/events").json()["items"]
    assert [e["master"] for e in listed if e["number"] == number] == [None]
    for body in (seen, listed):
        assert master not in _dump(body)
    client.force_login(people["community"])
    page = client.get(f"/workbench/events/{number}/").content.decode()
    assert "另一事件" in page and master not in page

    # nor is our event named on the master to the other community's dispatcher
    neighbour = api(make_user("comm2", "dispatcher", other, f"{other}-ZZ"))
    there = neighbour.get(f"/api/v1/events/{master}").json()
    assert there["supporters"] == 1 and number not in _dump(there)
    assert neighbour.get(f"/api/v1/events/{number}").status_code == 404

    # the district's dispatcher may open both, and reads the notes as they were written
    both = clients["dispatcher"].get(f"/api/v1/events/{number}").json()
    assert both["master"] == master
    assert any(t["note"].startswith(f"与 {master} 相似度") for t in both["timeline"])
    assert number in _dump(clients["dispatcher"].get(f"/api/v1/events/{master}").json())
    client.force_login(people["dispatcher"])
    assert master in client.get(f"/workbench/events/{number}/").content.decode()

    # the reporter keeps the number to follow the problem by (the tracking page names it too)
    mine = clients["citizen"].get(f"/api/v1/events/{number}").json()
    assert mine["master"] == master
    assert any(master in t["note"] for t in mine["timeline"])
    assert [e["master"] for e in clients["citizen"].get("/api/v1/events").json()["items"]] == [
        master
    ]


def test_a_page_of_merged_events_with_numbers_in_their_words_costs_no_query_per_event(
    report, make_user, api
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    volunteer = api(make_user("vol", "volunteer", COMMUNITY))
    numbers = [
        report(source_ref=f"Q-{i}", description=f"{SAID}{i}").json()["number"] for i in range(6)
    ]
    first = Event.objects.get(number=numbers[0])
    Event.objects.filter(number__in=numbers[1:]).update(master=first, status="merged")

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            body = volunteer.get(f"/api/v1/events?limit={limit}").json()
        assert len(body["items"]) == limit
        assert PHONE not in _dump(body)
        assert all(e["master"] in (None, numbers[0]) for e in body["items"])
        return len(ctx.captured_queries)

    queries(1)  # the caller's token, roles and permissions are cached from here on
    assert queries(2) == queries(6)
