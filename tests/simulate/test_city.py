"""The synthetic city: files the importer takes as they are, consistent with each other,
reproducible, and with roughly the intended shares."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from civicgrid.registry import codes, formats, rows
from civicgrid.simulate import city
from civicgrid.simulate.city import AS_OF, SHENZHEN_TOTALS, GridInfo, generate_city

SCALE = 0.0002  # 120 buildings, 2 200 houses, 4 000 persons, 800 organisations


def _grids() -> list[GridInfo]:
    return [
        GridInfo(
            "44030601700101",
            "440306",
            "深圳市宝安区新安街道宝民社区",
            box(114.00, 22.60, 114.01, 22.61),
        ),
        GridInfo(
            "44030601700102",
            "440306",
            "深圳市宝安区新安街道宝民社区",
            box(114.01, 22.60, 114.02, 22.61),
        ),
        GridInfo(
            "44030400100301",
            "440304",
            "深圳市福田区园岭街道百花社区",
            box(114.00, 22.59, 114.01, 22.60),
        ),
        GridInfo(
            "44030701000101",
            "440399",
            "深圳市大鹏新区葵涌街道葵涌社区",
            MultiPolygon(
                [box(114.40, 22.60, 114.405, 22.605), box(114.41, 22.60, 114.415, 22.605)]
            ),
        ),
    ]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    return generate_city(tmp_path_factory.mktemp("city"), _grids(), SCALE, seed=1)


@pytest.fixture(scope="module")
def data(generated) -> dict[str, list[dict[str, str]]]:
    return {kind: _read(path)[1] for kind, path in generated.items()}


def test_headers_are_the_formats_columns_and_counts_follow_the_scale(generated, data):
    assert set(generated) == set(formats.KINDS)
    for kind, path in generated.items():
        header, _ = _read(path)
        assert header == [c.name for c in formats.KINDS[kind]]
    for kind in ("buildings", "houses", "persons", "organisations"):
        assert len(data[kind]) == round(SHENZHEN_TOTALS[kind] * SCALE)
    expected = Counter(
        {
            formats.PLACE_KINDS[k]: round(v * SCALE)
            for k, v in SHENZHEN_TOTALS.items()
            if k in formats.PLACE_KINDS and round(v * SCALE)
        }
    )
    assert Counter(p["kind"] for p in data["places"]) == expected


def test_same_seed_same_bytes_other_seed_other_city(generated, tmp_path):
    again = generate_city(tmp_path / "a", _grids(), SCALE, seed=1)
    for kind, path in generated.items():
        assert path.read_bytes() == again[kind].read_bytes(), kind
    other = generate_city(tmp_path / "b", _grids(), SCALE, seed=2)
    for kind in ("buildings", "houses", "persons", "organisations", "places"):
        assert other[kind].read_bytes() != generated[kind].read_bytes(), kind


def test_every_row_passes_the_importers_cleaning(data):
    today = dt.date.today()
    for kind, table in data.items():
        for row in table:
            cleaned = rows.CLEANERS[kind](row, today)
            assert not cleaned.errors, (kind, row, cleaned.errors)


def test_coded_values_are_the_formats_labels(data):
    b, h, p, o = data["buildings"], data["houses"], data["persons"], data["organisations"]
    assert {r["use"] for r in b} <= set(formats.BUILDING_USES.values())
    assert {r["form"] for r in b} <= set(formats.BUILDING_FORMS.values())
    assert {r["safety_rating"] for r in b} <= set(formats.SAFETY_RATINGS.values())
    assert {r["use"] for r in h} <= set(formats.HOUSE_USES.values())
    assert {r["household_type"] for r in p} == set(formats.HOUSEHOLD_TYPES.values())
    assert {r["relation"] for r in p} <= set(formats.RELATIONS.values())
    tags = {t for r in p for t in r["tags"].split("、") if t}
    assert tags and tags <= set(formats.CARE_TAGS.values())
    assert {r["kind"] for r in o} == set(formats.ORG_KINDS.values())
    assert {r["kind"] for r in data["places"]} <= set(formats.PLACE_KINDS.values())
    for r in p:
        assert r["since"] == "" or dt.date.fromisoformat(r["since"]) <= AS_OF


def test_id_numbers_are_valid_unique_and_the_shares_plausible(data):
    persons = data["persons"]
    ids = [r["id_number"] for r in persons]
    assert all(codes.validate_id_number(i) is None for i in ids)
    assert len(set(ids)) == len(ids)
    local = sum(r["household_type"] == formats.HOUSEHOLD_TYPES["local"] for r in persons)
    assert abs(local / len(persons) - 0.33) < 0.04
    male = sum(int(i[16]) % 2 for i in ids) / len(ids)
    assert 0.47 < male < 0.57
    ages = np.array([AS_OF.year - int(i[6:10]) for i in ids])
    assert 0.05 < (ages < 15).mean() < 0.25  # a migrant city: few children …
    assert 0.45 < ((ages >= 20) & (ages < 45)).mean() < 0.8  # … many young adults
    assert (ages >= 65).mean() < 0.1
    locals_ = [r["id_number"] for r in persons if r["household_type"] == "户籍"]
    assert sum(i.startswith("4403") for i in locals_) / len(locals_) > 0.5
    for r in persons:  # moved in after birth
        assert (
            r["since"] >= f"{r['id_number'][6:10]}-{r['id_number'][10:12]}-{r['id_number'][12:14]}"
        )


def test_credit_codes_are_unique_and_well_formed(data):
    credit = [r["credit_code"] for r in data["organisations"]]
    assert len(set(credit)) == len(credit)
    checks = [codes.check_credit_code(c) for c in credit]
    assert not any(c.errors for c in checks)
    assert sum(bool(c.warnings) for c in checks) <= 0.01 * len(credit)
    kinds = Counter(r["kind"] for r in data["organisations"])
    assert 0.35 < kinds["个体工商户"] / len(credit) < 0.55
    assert 0.4 < kinds["企业"] / len(credit) < 0.65


def test_a_few_legacy_credit_codes_fail_only_their_check_character(tmp_path):
    totals = {k: 0 for k in SHENZHEN_TOTALS} | {
        "buildings": 40,
        "houses": 800,
        "organisations": 20_000,
    }
    paths = generate_city(tmp_path, _grids(), 1.0, seed=3, totals=totals)
    credit = [r["credit_code"] for r in _read(paths["organisations"])[1]]
    assert len(credit) == 20_000 and len(set(credit)) == 20_000
    checks = [codes.check_credit_code(c) for c in credit]
    assert not any(c.errors for c in checks)
    warned = [c for c in checks if c.warnings]
    assert 3 <= len(warned) <= 60  # ~0.1 %
    assert all("校验码" in c.warnings[0] for c in warned)


def test_references_point_at_rows_of_the_other_files(data):
    buildings = {r["code"] for r in data["buildings"]}
    houses = {r["code"]: r for r in data["houses"]}
    persons = {r["id_number"] for r in data["persons"]}
    organisations = {r["credit_code"] for r in data["organisations"]}
    for h in houses.values():
        assert h["building_code"] in buildings
        assert h["code"].startswith(h["building_code"]) and len(h["code"]) == 25
        assert not (h["owner_id_number"] and h["owner_credit_code"])
        assert h["owner_id_number"] == "" or h["owner_id_number"] in persons
        assert h["owner_credit_code"] == "" or h["owner_credit_code"] in organisations
    assert any(h["owner_id_number"] for h in houses.values())
    assert any(h["owner_credit_code"] for h in houses.values())
    for r in data["persons"] + data["organisations"]:
        assert r["house_code"] in houses


def test_buildings_lie_in_their_grid_and_carry_its_code(data):
    grids = {g.code: g for g in _grids()}
    for b in data["buildings"]:
        grid = grids[b["grid_code"]]
        assert b["code"].startswith(b["grid_code"]) and len(b["code"]) == 19
        assert codes.validate_building_code(b["code"], known_grids=grids) == []
        assert shapely.contains_xy(grid.polygon, float(b["lon"]), float(b["lat"]))
        assert b["address"].startswith(grid.address_prefix)
    assert {b["grid_code"] for b in data["buildings"]} == set(grids)
    everywhere = shapely.union_all([g.polygon for g in grids.values()])
    for p in data["places"]:
        assert shapely.contains_xy(everywhere, float(p["lon"]), float(p["lat"]))


def test_houses_and_residents_fit_their_buildings(data):
    buildings = {r["code"]: r for r in data["buildings"]}
    rooms = Counter((h["building_code"], h["room"]) for h in data["houses"])
    assert max(rooms.values()) == 1
    for h in data["houses"]:
        assert 1 <= int(h["floor"]) <= int(buildings[h["building_code"]]["floors"])
        assert h["room"].startswith(h["floor"]) and len(h["room"]) == len(h["floor"]) + 2
    house = {h["code"]: h for h in data["houses"]}
    residents: dict[str, list[dict]] = {}
    for p in data["persons"]:
        residents.setdefault(p["house_code"], []).append(p)
    expected = {"出租": {"租户"}, "自住": {"业主", "家属"}, "宿舍": {"员工宿舍"}}
    for code, people in residents.items():
        h = house[code]
        form = buildings[h["building_code"]]["form"]
        assert {p["relation"] for p in people} <= expected[h["use"]], h["use"]
        if h["use"] == "自住":
            assert sum(p["relation"] == "业主" for p in people) == 1
        if h["use"] == "出租" and form == "城中村私宅":
            assert len(people) <= 3
        if h["use"] == "宿舍":
            assert 4 <= len(people) <= 8
    for b in data["buildings"]:  # urban-village houses are low and rooms small
        if b["form"] == "城中村私宅":
            assert 5 <= int(b["floors"]) <= 9
        if b["form"] == "商品住宅小区":
            assert 18 <= int(b["floors"]) <= 40


def test_zero_scale_writes_headers_only(tmp_path):
    paths = generate_city(tmp_path, _grids(), 0.0)
    for kind, path in paths.items():
        assert path.read_text(encoding="utf-8").splitlines() == [
            ",".join(c.name for c in formats.KINDS[kind])
        ]


def test_impossible_requests_are_refused(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        generate_city(tmp_path, _grids(), -1)
    with pytest.raises(ValueError, match="unknown"):
        generate_city(tmp_path, _grids(), 1, totals={"dragons": 3})
    with pytest.raises(ValueError, match="grids"):
        generate_city(tmp_path, [], 0.001)
    with pytest.raises(ValueError, match="5-digit"):
        generate_city(
            tmp_path,
            _grids()[:1],
            1,
            totals={k: 0 for k in SHENZHEN_TOTALS} | {"buildings": 100_000},
        )


def test_progress_is_reported(tmp_path):
    seen = []
    generate_city(tmp_path, _grids(), 0.0001, progress=lambda *a: seen.append(a))
    stages = [s for s, _, _ in seen]
    assert {"plan", "write", "places"} <= set(stages)
    assert seen[-1] == ("places", 1, 1)


def test_the_fast_writer_writes_what_csv_writer_writes():
    columns = [np.array(["a", "b", ""], dtype=object), ["张三", "李四", "王五"], ["1", "2", "3"]]
    fast, slow = io.StringIO(), io.StringIO()
    city._write(fast, columns, plain=True)
    city._write(slow, columns, plain=False)
    reference = io.StringIO()
    csv.writer(reference, lineterminator="\n").writerows(zip(*columns, strict=True))
    assert fast.getvalue() == slow.getvalue() == reference.getvalue()
    quoted = io.StringIO()
    city._write(quoted, [["深圳市,宝安区"], ['a"b']], plain=False)
    assert quoted.getvalue() == '"深圳市,宝安区","a""b"\n'


def test_a_prefix_that_needs_quoting_is_quoted(tmp_path):
    odd = GridInfo(
        "44030601700101",
        "440306",
        '深圳市宝安区新安街道宝民社区,"东"',
        box(114, 22.6, 114.01, 22.61),
    )
    small = {k: 0 for k in SHENZHEN_TOTALS} | {"buildings": 5, "houses": 20, "persons": 30}
    paths = generate_city(tmp_path, [odd], 1, totals=small)
    _, buildings = _read(paths["buildings"])
    assert len(buildings) == 5
    assert all(b["address"].startswith(odd.address_prefix) for b in buildings)
    assert all(None not in b for b in buildings)  # no stray columns
