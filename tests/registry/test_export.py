"""Exports: the import's columns, scoped, masked unless the operator asks (and is logged)."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from civicgrid.audit.models import AuditRecord
from civicgrid.registry import codes
from civicgrid.registry import services as registry
from civicgrid.registry.importers import import_file
from civicgrid.registry.models import House, Organisation, Person, Place
from tests.registry.conftest import id_number, write_csv
from tests.registry.test_api import CLEAR_ID, city, users  # noqa: F401 - fixtures
from tests.registry.test_import import HOUSE_HEADER

pytestmark = pytest.mark.django_db


def _read(path) -> list[dict]:
    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_masked_by_default_and_scoped_to_a_user(city, users, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "persons.csv"
    call_command("export", "persons", str(out), "--user", "r_disp")
    rows = _read(out)
    assert [r["name"] for r in rows] == ["欧***"]  # 宝安 only, masked
    assert rows[0]["id_number"] == CLEAR_ID[:6] + "********" + CLEAR_ID[-4:]
    assert rows[0]["tags"] == "独居老人" and rows[0]["relation"] == "租户"
    assert CLEAR_ID not in out.read_text(encoding="utf-8-sig")
    call_command("export", "buildings", str(tmp_path / "b.csv"), "--user", "r_ns")
    assert {r["grid_code"][:6] for r in _read(tmp_path / "b.csv")} == {"440305"}


def test_a_users_file_lists_only_the_homes_in_their_jurisdiction(
    city,  # noqa: F811
    users,  # noqa: F811
    make_user,
    tmp_path,
):
    """As in the API: a person kept here who also lives in 南山 shows the home here only."""
    nanshan_grid = make_user("r_ns_grid", "grid_worker", city["nanshan_house"].grid_code[:12])
    registry.register_residence(
        nanshan_grid,
        city["nanshan_house"],
        id_number=CLEAR_ID,
        name="欧阳娜娜",
        relation="租户",
    )
    call_command("export", "persons", str(tmp_path / "all.csv"), "--unmasked")
    everywhere = {
        r["house_code"] for r in _read(tmp_path / "all.csv") if r["id_number"] == CLEAR_ID
    }
    assert everywhere == {city["baoan_house"].code, city["nanshan_house"].code}
    call_command("export", "persons", str(tmp_path / "mine.csv"), "--user", "r_disp")
    mine = [r["house_code"] for r in _read(tmp_path / "mine.csv")]
    assert mine == [city["baoan_house"].code]


def test_the_legal_representative_is_masked_unless_unmasked(city, users, tmp_path):  # noqa: F811
    src = tmp_path / "o.csv"
    src.write_text(
        "credit_code,name,kind,legal_rep,house_code\n"
        f"91350100M000100Y43,宝民超市,企业,欧阳明,{city['baoan_house'].code}\n",
        encoding="utf-8",
    )
    assert import_file("organisations", src, actor="test").rejected == 0
    call_command("export", "organisations", str(tmp_path / "masked.csv"), "--user", "r_disp")
    assert [r["legal_rep"] for r in _read(tmp_path / "masked.csv")] == ["欧**"]
    call_command("export", "organisations", str(tmp_path / "clear.csv"), "--unmasked")
    assert [r["legal_rep"] for r in _read(tmp_path / "clear.csv")] == ["欧阳明"]


def test_unmasked_export_round_trips_and_is_logged(city, tmp_path, capsys):  # noqa: F811
    # a landlord known by number alone (from a rental form) has no name and no home: the
    # persons file leaves them out, since its import needs a name (owners come back with the
    # houses file, which names them by number)
    landlord = id_number("110101", "19650505", 7)
    registry.person_by_id_number("test", codes.parse_id_number(landlord))
    out = tmp_path / "persons.csv"
    call_command("export", "persons", str(out), "--unmasked")
    rows = _read(out)
    assert CLEAR_ID in {r["id_number"] for r in rows}
    assert landlord not in {r["id_number"] for r in rows} and all(r["name"] for r in rows)
    assert "另有 1 人只有身份证号" in capsys.readouterr().out  # said, not lost silently
    assert AuditRecord.objects.filter(action="pii.export_unmasked").exists()
    before = Person.objects.count()
    result = import_file("persons", out, actor="test")  # an export is an importable file
    assert result.rejected == 0 and Person.objects.count() == before
    with pytest.raises(CommandError, match="--unmasked"):
        call_command("export", "persons", str(out), "--unmasked", "--user", "r_disp")


def test_a_person_with_two_homes_round_trips(city, tmp_path):  # noqa: F811
    """A person imported at a second house keeps the first home (owns one flat, rents
    another): the export has a row per home, and importing it changes nothing."""
    second = tmp_path / "second.csv"
    second.write_text(
        "id_number,name,phone,household_type,tags,house_code,relation,since\n"
        f"{CLEAR_ID},欧阳娜娜,13912345678,非户籍,独居老人,{city['nanshan_house'].code},业主,\n",
        encoding="utf-8",
    )
    assert import_file("persons", second, actor="test").rejected == 0
    person = Person.objects.get(pk=city["person"].pk)
    homes = set(person.residences.filter(until=None).values_list("house_id", "relation", "since"))
    assert len(homes) == 2 and person.grid_code == city["nanshan_house"].grid_code
    out = tmp_path / "persons.csv"
    call_command("export", "persons", str(out), "--unmasked")
    assert [r["id_number"] for r in _read(out)].count(CLEAR_ID) == 2
    result = import_file("persons", out, actor="test")
    assert (result.rejected, result.report_path) == (0, None)
    person.refresh_from_db()
    assert person.grid_code == city["nanshan_house"].grid_code  # still where it was
    again = set(person.residences.filter(until=None).values_list("house_id", "relation", "since"))
    assert again == homes


def test_a_masked_export_does_not_import_back(city, tmp_path):  # noqa: F811
    """A masked file imported back would overwrite the real names with ``欧**``: each
    masked value is a row error on its column, saying to use an unmasked export."""
    org = tmp_path / "o.csv"
    org.write_text(
        "credit_code,name,kind,legal_rep\n91350100M000100Y43,宝民超市,企业,欧阳明\n",
        encoding="utf-8",
    )
    assert import_file("organisations", org, actor="test").rejected == 0
    house = city["baoan_house"]
    owned = [["", house.building.code, 5, "501", 90, "出租", CLEAR_ID, ""]]
    assert import_file("houses", write_csv(tmp_path / "h.csv", HOUSE_HEADER, owned)).rejected == 0
    masked = {
        "organisations": {"legal_rep"},
        "persons": {"id_number", "name", "phone"},
        "houses": {"owner_id_number"},
    }
    for kind, columns in masked.items():
        out = tmp_path / f"{kind}.csv"
        call_command("export", kind, str(out))  # the operator's default: masked
        result = import_file(kind, out, actor="test")
        problems = _read(result.report_path)
        assert {p["列"] for p in problems} == columns, kind
        assert all("脱敏导出" in p["原因"] and "--unmasked" in p["原因"] for p in problems)
        assert all("*" in p["值"] for p in problems)
    assert Organisation.objects.get(credit_code="91350100M000100Y43").legal_rep == "欧阳明"
    assert Person.objects.get(pk=city["person"].pk).name == "欧阳娜娜"
    assert House.objects.get(pk=house.pk).owner_person_id == city["person"].pk


def test_owners_known_by_credit_code_alone_are_left_out_and_said(city, tmp_path, capsys):  # noqa: F811
    """A houses file registers an owner by credit code alone (no name, no kind): the
    organisations file leaves it out, which the import would refuse, and says how many."""
    house = city["baoan_house"]
    owned = [["", house.building.code, 5, "501", 90, "出租", "", "91350100M000100Y43"]]
    assert import_file("houses", write_csv(tmp_path / "h.csv", HOUSE_HEADER, owned)).rejected == 0
    named = tmp_path / "o.csv"
    named.write_text(
        "credit_code,name,kind\n92440300MA54X43K7F,宝民小卖部,个体工商户\n", encoding="utf-8"
    )
    assert import_file("organisations", named, actor="test").rejected == 0
    out = tmp_path / "orgs.csv"
    call_command("export", "organisations", str(out), "--unmasked")
    assert [r["name"] for r in _read(out)] == ["宝民小卖部"]
    assert "另有 1 个单位只有统一社会信用代码" in capsys.readouterr().out
    result = import_file("organisations", out, actor="test")
    assert (result.rejected, result.report_path) == (0, None)
    assert Organisation.objects.count() == 2


def test_a_file_named_xlsx_is_a_real_workbook_that_imports_back(city, tmp_path, grid_point):  # noqa: F811
    lon, lat = grid_point()
    write_csv(
        tmp_path / "pl.csv",
        ["kind", "name", "lon", "lat", "note"],
        [["边坡", "宝民坡", lon, lat, ""]],
    )
    assert import_file("places", tmp_path / "pl.csv", actor="test").rejected == 0
    org = "credit_code,name,kind,legal_rep\n91350100M000100Y43,宝民超市,企业,欧阳明\n"
    (tmp_path / "o.csv").write_text(org, encoding="utf-8")
    assert import_file("organisations", tmp_path / "o.csv", actor="test").rejected == 0
    for kind in ("buildings", "houses", "persons", "organisations", "places"):
        out = tmp_path / f"{kind}.xlsx"
        call_command("export", kind, str(out), "--unmasked")
        sheet = openpyxl.load_workbook(out, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) > 1, kind
        result = import_file(kind, out, actor="test")
        assert (result.rejected, result.report_path) == (0, None), kind
        assert result.written == len(rows) - 1


def test_a_file_that_cannot_be_written_is_a_clear_error(city, tmp_path):  # noqa: F811
    with pytest.raises(CommandError, match="目录不存在"):
        call_command("export", "places", str(tmp_path / "no" / "such" / "places.csv"))
    with pytest.raises(CommandError, match=r"\.xls"):
        call_command("export", "places", str(tmp_path / "places.xls"))
    with pytest.raises(CommandError, match="CSV"):
        call_command("export", "events", str(tmp_path / "events.xlsx"))
    assert list(tmp_path.glob("*.xls*")) == []


def test_text_that_excel_would_run_as_a_formula_is_exported_as_text(tmp_path, grid_point):
    """OWASP CSV injection: a name or note beginning with = + - @ opens as a formula in
    Excel. The CSV writes such a cell with a leading ' (text), the XLSX as a text cell, and
    either file imports back exactly (a value that itself begins with ' included)."""
    lon, lat = grid_point()
    names = ["=1+2", "-坡", "@坡", "+坡", "''=引号", "'普通"]
    note = '=HYPERLINK("http://evil.invalid","点我")'
    rows = [["边坡", n, lon + i * 1e-5, lat, note] for i, n in enumerate(names)]
    write_csv(tmp_path / "in.csv", ["kind", "name", "lon", "lat", "note"], rows)
    assert import_file("places", tmp_path / "in.csv", actor="test").rejected == 0
    stored = sorted(Place.objects.values_list("name", "note"))
    assert {n for n, _ in stored} == {"=1+2", "-坡", "@坡", "+坡", "'=引号", "'普通"}
    out = tmp_path / "places.csv"
    call_command("export", "places", str(out))
    exported = _read(out)
    for cell in (c for r in exported for c in (r["name"], r["note"])):
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert {r["name"] for r in exported} == {"'=1+2", "'-坡", "'@坡", "'+坡", "''=引号", "'普通"}
    book = tmp_path / "places.xlsx"
    call_command("export", "places", str(book))
    cells = [c for row in openpyxl.load_workbook(book).worksheets[0].iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    for path in (out, book):
        result = import_file("places", path, actor="test")
        assert (result.rejected, result.written) == (0, len(names))
        assert sorted(Place.objects.values_list("name", "note")) == stored
