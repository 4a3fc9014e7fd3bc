"""The GeoReport shapes as plain data, checked against real cities' answers (Toronto, Giessen,
Bloomington, Chicago, the spec's example): what clients already parse is what we write."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from civicgrid.accounts.pii import redact_text
from civicgrid.open311 import georeport as gr

DATA = Path(__file__).parent / "data"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _paths(el: ET.Element, prefix: str = "") -> set[str]:
    here = f"{prefix}/{el.tag}"
    out = {here}
    for child in el:
        out |= _paths(child, here)
    return out


def _request(**over) -> dict:
    return {
        "service_request_id": "202611260000001",
        "status": "open",
        "status_notes": "已派遣",
        "service_name": "井盖缺失",
        "service_code": "9803",
        "description": "井盖缺失",
        "agency_responsible": "新安街道执法队",
        "service_notice": None,
        "requested_datetime": dt.datetime(2026, 11, 26, 9, 0, 5, 123, tzinfo=SHANGHAI),
        "updated_datetime": dt.datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI),
        "expected_datetime": None,
        "address": "宝民一路 1 号",
        "address_id": None,
        "zipcode": None,
        "lat": 22.56,
        "long": 113.88,
        "media_url": None,
    } | over


def test_requests_xml_has_the_element_paths_toronto_serves():
    ours = ET.fromstring(gr.to_xml("service_requests", [_request(), _request()]))
    toronto = ET.parse(DATA / "toronto_requests_many.xml").getroot()
    assert _paths(ours) == _paths(toronto)
    assert len(ours.findall("request")) == 2
    first = ours.find("request")
    assert first.findtext("requested_datetime") == "2026-11-26T09:00:05+08:00"  # W3C, zone
    assert first.find("service_notice").text is None  # empty element, as Toronto's
    assert first.findtext("lat") == "22.56"


def test_services_xml_and_json_match_the_shapes_of_giessen_and_the_spec():
    service = {
        "service_code": "9801",
        "service_name": "暴露垃圾",
        "description": "",
        "metadata": False,
        "type": "realtime",
        "keywords": "垃圾, 堆积",
        "group": "市容环境",
    }
    ours = ET.fromstring(gr.to_xml("services", [service]))
    giessen = ET.parse(DATA / "giessen_services.xml").getroot()
    assert _paths(giessen) <= _paths(ours)  # Giessen has no <group>; we add the spec's
    assert ours.find("service/metadata").text == "false"
    spec = json.loads((DATA / "spec_example_services.json").read_text())
    mine = json.loads(gr.to_json([service]))
    assert isinstance(mine, list) and set(mine[0]) == set(spec[0])
    assert mine[0]["metadata"] is False and isinstance(spec[0]["metadata"], bool)


def test_requests_json_is_an_array_with_the_fields_real_cities_send():
    ours = json.loads(gr.to_json([_request()]))
    chicago = json.loads((DATA / "chicago_requests.json").read_text())
    bloomington = json.loads((DATA / "bloomington_requests.json").read_text())
    assert isinstance(ours, list) and len(ours) == 1
    assert set(chicago[0]) <= set(ours[0])
    assert set(bloomington[0]) <= set(ours[0])
    assert isinstance(ours[0]["lat"], float) and ours[0]["expected_datetime"] is None


def test_errors_are_an_errors_array_in_json_and_errors_error_in_xml():
    problems = [gr.Problem(404, "service_code 77 was not found"), gr.Problem(400, "x")]
    body = json.loads(gr.to_json(gr.errors(problems)))
    assert body == [
        {"code": 404, "description": "service_code 77 was not found"},
        {"code": 400, "description": "x"},
    ]
    root = ET.fromstring(gr.to_xml("errors", gr.errors(problems)))
    assert root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [
        ("404", "service_code 77 was not found"),
        ("400", "x"),
    ]


def test_xml_declares_utf8_and_carries_chinese_unescaped():
    raw = gr.to_xml("services", [{"service_name": "暴露垃圾"}])
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "暴露垃圾".encode() in raw


def test_the_window_defaults_to_the_last_90_days_and_refuses_more():
    now = dt.datetime(2026, 11, 26, tzinfo=SHANGHAI)
    assert gr.window(None, None, now) == (now - dt.timedelta(days=90), now)
    start = dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert gr.window(start, None, now) == (start, start + dt.timedelta(days=90))
    assert gr.window(None, now, now) == (now - dt.timedelta(days=90), now)
    with pytest.raises(gr.Problem, match="90 days"):
        gr.window(start, start + dt.timedelta(days=91), now)
    with pytest.raises(gr.Problem, match="before"):
        gr.window(now, start, now)


def test_datetimes_in_w3c_forms():
    assert gr.parse_datetime("s", "2010-01-01T00:00:00Z", SHANGHAI) == dt.datetime(
        2010, 1, 1, tzinfo=dt.UTC
    )
    assert gr.parse_datetime("s", "2010-01-01T00:00:00-05:00", SHANGHAI).utcoffset() == (
        dt.timedelta(hours=-5)
    )
    assert gr.parse_datetime("s", "2010-01-01", SHANGHAI).tzinfo is SHANGHAI
    with pytest.raises(gr.Problem, match="start_date"):
        gr.parse_datetime("start_date", "01/02/2010", SHANGHAI)


def test_attribute_answers_are_checked_against_the_definition():
    definition = [
        gr.Attribute("SIZE", "singlevaluelist", True, True, "多大", (("S", "小"), ("L", "大"))),
        gr.Attribute("KIND", "multivaluelist", False, True, "哪些", (("A", "甲"), ("B", "乙"))),
        gr.Attribute("COUNT", "number", False, True, "几处"),
        gr.Attribute("INFO", "string", False, False, "只读说明"),
    ]
    form = [("attribute[SIZE]", ["L"]), ("attribute[KIND][]", ["A", "B"]), ("x", ["1"])]
    answers, problems = gr.check_attributes(definition, gr.attribute_values(form))
    assert answers == {"SIZE": "L", "KIND": ["A", "B"]} and problems == []
    _, problems = gr.check_attributes(definition, {})
    assert [p.description for p in problems] == ["attribute[SIZE] is required (多大)"]
    bad = {"SIZE": ["M"], "KIND": ["C"], "COUNT": ["many"], "INFO": ["x"]}
    _, problems = gr.check_attributes(definition, bad)
    assert len(problems) == 4 and all(p.status == 400 for p in problems)


def test_personal_data_written_into_text_is_starred_out():
    text = "张先生 13812345678 身份证 440306199001011234，座机 0755-83211234，a.b@qq.com"
    out = redact_text(text)
    assert "13812345678" not in out and "138****5678" in out
    assert "440306********1234" in out
    assert "83211234" not in out
    assert "a.b@qq.com" not in out
    assert redact_text("宝民一路 12 号 3 栋") == "宝民一路 12 号 3 栋"  # addresses stay
