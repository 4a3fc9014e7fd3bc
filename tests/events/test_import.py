"""A legacy system's backlog through the one intake: bad rows reported by line and column,
good rows in, a rerun adds nothing; a GBK file reads like a UTF-8 one."""

from __future__ import annotations

import csv

import pytest

from civicgrid.events.importers import import_events
from civicgrid.events.models import Event
from tests.events.conftest import GRID

pytestmark = pytest.mark.django_db
HEADER = ["渠道", "来源编号", "事项编码", "描述", "经度", "纬度", "坐标系", "联系电话", "登记时间"]


def _file(tmp_path, rows, encoding="utf-8"):
    path = tmp_path / "backlog.csv"
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def test_backlog_imports_with_a_report_of_bad_rows_and_reruns_cleanly(
    tmp_path, grid_point, small_catalogue
):
    lon, lat = grid_point(GRID)
    rows = [
        [
            "city_mgmt",
            "CG-1",
            "9802",
            "楼顶加建铁皮房",
            lon,
            lat,
            "",
            "13800001111",
            "2026-11-20 09:30",
        ],
        ["hotline", "HL-7", "9999", "不存在的事项", lon, lat, "", "", ""],
        ["hotline", "HL-8", "9901", "社保怎么补缴", "东经", lat, "", "", ""],
        ["hotline", "", "9901", "没有来源编号", lon, lat, "", "", ""],
        ["grid", "WG-3", "9801", "垃圾没人清运", lon, lat, "wgs84", "", "2026-11-21T14:00"],
    ]
    path = _file(tmp_path, rows, encoding="gb18030")
    r = import_events(path, actor="test")
    assert (r.rows, r.created, r.rejected) == (5, 2, 3)
    report = list(csv.reader(open(r.report_path, encoding="utf-8-sig")))  # noqa: SIM115
    assert report[0] == ["行号", "列", "值", "原因"]
    assert {(row[0], row[1]) for row in report[1:]} == {
        ("3", "事项编码"),
        ("4", "经度"),
        ("5", "来源编号"),
    }
    e = Event.objects.get(channel="city_mgmt", source_ref="CG-1")
    assert e.created_at.isoformat().startswith("2026-11-20T01:30")  # 09:30 Shanghai
    assert e.reporter_phone == "138****1111"
    again = import_events(path, actor="test")
    assert (again.created, again.existing) == (0, 2)
    assert Event.objects.filter(source_ref__in=["CG-1", "WG-3"]).count() == 2


def test_a_nul_character_is_a_row_error(tmp_path, grid_point, small_catalogue):
    lon, lat = grid_point(GRID)
    rows = [
        ["grid", "WG-1", "9801", "垃圾没人清运", lon, lat, "", "", ""],
        ["grid", "WG-2", "9801", "垃圾\x00没人清运", lon, lat, "", "", ""],
    ]
    r = import_events(_file(tmp_path, rows), actor="test")
    assert (r.created, r.rejected) == (1, 1)
    report = list(csv.reader(open(r.report_path, encoding="utf-8-sig")))  # noqa: SIM115
    assert [(row[0], row[1], row[3]) for row in report[1:]] == [
        ("3", "描述", "不能包含空字符（NUL）")
    ]


def test_the_command_exits_1_when_rows_were_refused(tmp_path, capsys):
    from django.core.management import call_command

    path = _file(tmp_path, [["fax", "X-1", "", "传真来的", "113.9", "22.6", "", "", ""]])
    with pytest.raises(SystemExit) as stop:
        call_command("import", "events", str(path))
    assert stop.value.code == 1
    assert "拒绝 1 行" in capsys.readouterr().out
    assert "渠道" in open(str(path) + ".errors.csv", encoding="utf-8-sig").read()  # noqa: SIM115
