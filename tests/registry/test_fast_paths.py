"""The importer's fast paths must agree exactly with the row-by-row rules they shortcut:
the vectorised ID and credit-code checks, the column-wise cleaners, the COPY text, and the
duplicate check that rides on the upsert (across batches, for every kind)."""

from __future__ import annotations

import csv
import datetime as dt
import random

import pytest

from civicgrid.registry import bulk, codes, rows
from civicgrid.registry.importers import import_file
from civicgrid.registry.models import House, Organisation, Person, Residence
from tests.registry.conftest import id_number, write_csv
from tests.registry.test_import import HOUSE_HEADER, PERSON_HEADER, _buildings


def _random_ids(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    out = ["", "x", "440306199002291234", "１１０１０５１９４９１２３１００２Ｘ"]
    for _ in range(n):
        prov = rng.choice(["11", "44", "99", "00", "91", "71"])
        ymd = f"{rng.randint(1880, 2040):04d}{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}"
        body = f"{prov}0306{ymd}{rng.randint(0, 999):03d}"
        try:
            check = codes.id_check_char(body) if rng.random() < 0.6 else rng.choice("0123456789X")
        except codes.CodeError:
            check = "0"
        value = body + check
        if rng.random() < 0.05:
            value = value.lower()
        if rng.random() < 0.03:
            value = value[:-1]
        out.append(value)
    for birth in ("20000229", "19000229", "18891231", "18900101"):
        body = f"440306{birth}123"
        out.append(body + codes.id_check_char(body))
    return out


def test_vectorised_id_check_agrees_with_the_scalar_one():
    values = _random_ids(20_000)
    today = dt.date(2026, 1, 1)
    ok = codes.id_numbers_ok(values, today=today)
    for value, fast in zip(values, ok, strict=True):
        slow = codes.validate_id_number(value, today=today) is None
        assert fast == (slow and codes.normalise_code(value) == value), value
    assert sum(ok) > 1000


def test_vectorised_credit_check_agrees_with_the_scalar_one():
    rng = random.Random(5)
    charset = codes.CREDIT_CHARSET
    values = ["", "91440300MA5DXXXX0", "91440300MA5DXXXX01"]
    for _ in range(20_000):
        body = "".join(
            rng.choice(charset + "IOSVZa" if rng.random() < 0.03 else charset) for _ in range(17)
        )
        if rng.random() < 0.8:
            body = body[:2] + "".join(rng.choice("0123456789") for _ in range(6)) + body[8:]
        try:
            check = codes.credit_check_char(body) if rng.random() < 0.7 else rng.choice(charset)
        except codes.CodeError:
            check = "0"
        values.append(body + check)
    ok = codes.credit_codes_ok(values)
    for value, fast in zip(values, ok, strict=True):
        check = codes.check_credit_code(value)
        assert fast == (not check.errors and not check.warnings and check.code == value), value
    assert sum(ok) > 1000


def _columns(kind: str, records: list[dict]) -> tuple[list[int], dict[str, list[str]]]:
    names = list(records[0])
    return list(range(2, len(records) + 2)), {n: [r[n] for r in records] for n in names}


def _agree(kind: str, records: list[dict]) -> None:
    today = dt.date(2026, 1, 1)
    lines, cols = _columns(kind, records)
    fast = rows.clean_columns(kind, lines, cols, today)
    for record, (_, values, errors, warnings) in zip(records, fast, strict=True):
        slow = rows.CLEANERS[kind](record, today)
        assert (values, errors, warnings) == (slow.values, slow.errors, slow.warnings), record
        assert [type(v) for v in values.values()] == [type(v) for v in slow.values.values()]


HOUSE = "4403060170010100001000001"


def test_column_cleaning_agrees_with_the_row_cleaners_for_persons():
    rng = random.Random(7)
    ids = _random_ids(3000)
    choices = {
        "name": ["张三", "", "长" * 65, "李四"],
        "phone": ["", "13812345678", "0755-1234567", "12", "+86 138 1234 5678", "１３８"],
        "household_type": ["户籍", "非户籍", "local", "LOCAL", "", "外星"],
        "tags": ["", "残障、独居老人", "独居老人,独居老人", "未知", " ;残障"],
        "house_code": ["", HOUSE, HOUSE[:-1], "4403060170010100001000000", "４" + HOUSE[1:]],
        "relation": ["", "租户", "业主", "tenant", "无"],
        "since": ["", "2023-05-01", "2023/5/1", "2023.05.01", "2099-01-01", "2023-02-30", "x"],
    }
    records = [{"id_number": i, **{k: rng.choice(v) for k, v in choices.items()}} for i in ids]
    _agree("persons", records)


def test_column_cleaning_agrees_with_the_row_cleaners_for_houses_and_organisations():
    rng = random.Random(11)
    ids = _random_ids(2000, seed=9)
    credits = ["", "91440300MA5D8Y1Y4C", "914403002540795720", "9144030025407957", "abc"]
    houses = {
        "code": ["", HOUSE, HOUSE[:-1] + "x", "4403060170010200001000001"],
        "building_code": [HOUSE[:19], "", "4403060170010100000", "44030601700101000011"],
        "floor": ["3", "-1", "-11", "201", "2.0", "2.5", "", "x"],
        "room": ["301", "", "1" * 17],
        "area": ["", "89.5", "0.4", "1e7", "nan", "inf", "x", "1_0"],
        "use": ["自住", "出租", "", "无"],
    }
    records = [
        {
            **{k: rng.choice(v) for k, v in houses.items()},
            "owner_id_number": rng.choice(["", i]),
            "owner_credit_code": rng.choice(credits),
        }
        for i in ids
    ]
    _agree("houses", records)
    orgs = {
        "credit_code": credits,
        "name": ["某公司", "", "名" * 201],
        "kind": ["企业", "个体工商户", "", "无"],
        "industry": ["", "制造业", "行" * 65],
        "legal_rep": ["", "张三", "人" * 65],
        "house_code": ["", HOUSE, "1"],
        "staff": ["", "0", "12", "-1", "3.0", "3.5", "10000001", "x"],
    }
    _agree("organisations", [{k: rng.choice(v) for k, v in orgs.items()} for _ in range(3000)])


def test_copy_text_escapes_and_formats():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    text = bulk.copy_text(
        [
            ("a\tb", 1, 1.5, None, dt.date(2020, 1, 2), when, True, "x"),
            ("c\\d\ne\r", 2, 2.0, "z", None, when, False, "x"),
        ]
    )
    assert text == (
        "a\\tb\t1\t1.5\t\\N\t2020-01-02\t2026-01-02T03:04:05+00:00\tt\tx\n"
        "c\\\\d\\ne\\r\t2\t2.0\tz\t\\N\t2026-01-02T03:04:05+00:00\tf\tx\n"
    )


pytestmark_db = pytest.mark.django_db


def _errors(result) -> dict[tuple[str, str], str]:
    with open(result.report_path, encoding="utf-8-sig") as fh:
        return {(r["行号"], r["列"]): r["原因"] for r in csv.DictReader(fh)}


@pytestmark_db
def test_duplicates_across_batches_for_every_bulk_kind(buildings_file, tmp_path):
    estate, _ = _buildings(buildings_file)
    houses = [["", estate.code, 1, f"10{i}", 50, "出租", "", ""] for i in range(4)]
    houses.append([estate.code + "000002", estate.code, 1, "101", 50, "出租", "", ""])
    result = import_file(
        "houses", write_csv(tmp_path / "h.csv", HOUSE_HEADER, houses), batch_size=2
    )
    assert (result.written, result.rejected) == (4, 1)
    assert _errors(result) == {("6", "code"): "与第 3 行重复"}
    house = House.objects.get(building=estate, room="100")

    people = [id_number(seq=s) for s in (1, 2, 3)]
    persons = [[p, f"人{i}", "", "户籍", "", house.code, "租户", ""] for i, p in enumerate(people)]
    persons.append([people[0].lower(), "重复", "", "户籍", "", "", "", ""])
    persons.append([people[1], "重复", "", "户籍", "", house.code, "业主", ""])
    result = import_file(
        "persons", write_csv(tmp_path / "p.csv", PERSON_HEADER, persons), batch_size=2
    )
    assert (result.written, result.rejected) == (3, 2)
    assert _errors(result) == {
        ("5", "id_number"): "与第 2 行重复",
        ("6", "id_number"): "与第 3 行重复",
    }
    assert sorted(Person.objects.values_list("name", flat=True)) == ["人0", "人1", "人2"]
    assert Residence.objects.filter(house=house, relation="tenant").count() == 3

    a, b = (
        body + codes.credit_check_char(body) for body in ("91440300MA5D8Y1Y4", "92440300MA54X43K7")
    )
    orgs = [
        [a, "甲", "企业", "", "", "", ""],
        [b, "乙", "企业", "", "", "", ""],
        [a, "丙", "企业", "", "", "", ""],
    ]
    header = ["credit_code", "name", "kind", "industry", "legal_rep", "house_code", "staff"]
    result = import_file("organisations", write_csv(tmp_path / "o.csv", header, orgs), batch_size=2)
    assert (result.written, result.rejected) == (2, 1)
    assert _errors(result) == {("4", "credit_code"): "与第 2 行重复"}
    assert Organisation.objects.get(credit_code=a).name == "甲"

    # the same files again: everything is an update of an earlier run, nothing is refused
    again = import_file(
        "persons", write_csv(tmp_path / "p2.csv", PERSON_HEADER, persons[:3]), batch_size=2
    )
    assert (again.written, again.rejected) == (3, 0)
    assert Residence.objects.filter(house=house).count() == 3


def test_pages_count_without_a_count_query_only_when_the_page_shows_the_total():
    from civicgrid.registry.api import Pagination

    pager = Pagination()
    rows_ = list(range(5))

    def page(limit, offset):
        return pager.paginate_queryset(rows_, Pagination.Input(limit=limit, offset=offset), None)

    assert page(10, 0) == {"items": rows_, "count": 5}
    assert page(2, 0) == {"items": [0, 1], "count": 5}
    assert page(2, 4) == {"items": [4], "count": 5}
    assert page(2, 9) == {"items": [], "count": 5}
    assert pager.paginate_queryset([], Pagination.Input(limit=2, offset=0), None)["count"] == 0


@pytestmark_db
def test_houses_looked_up_ahead_by_the_reading_thread_are_used(buildings_file, tmp_path):
    import datetime as dt

    from django.db import transaction

    from civicgrid.registry.importers import PersonLoader
    from civicgrid.registry.models import ImportRun
    from civicgrid.registry.rows import clean_columns

    estate, _ = _buildings(buildings_file)
    import_file(
        "houses",
        write_csv(
            tmp_path / "h.csv", HOUSE_HEADER, [["", estate.code, 1, "101", 50, "出租", "", ""]]
        ),
    )
    house = House.objects.get(building=estate, room="101")
    names = ["id_number", "name", "phone", "household_type", "tags", "house_code", "relation"]
    records = [
        [id_number(seq=1), "甲", "", "户籍", "", house.code, "租户"],
        [id_number(seq=2), "乙", "", "户籍", "", house.code[:-1] + "9", "租户"],
        [id_number(seq=3), "丙", "", "户籍", "", "", ""],
    ]
    cols = {n: [r[i] for r in records] for i, n in enumerate(names)}
    cleaned = clean_columns("persons", [2, 3, 4], cols, dt.date(2026, 1, 1))
    good = [(line, values) for line, values, errors, _ in cleaned if not errors]
    loader = PersonLoader(ImportRun.objects.create(kind="persons", file_name="x").pk)
    loader.ahead_reads = True
    loader.prepare(good)
    assert good[0][1]["_house"][0] == house.pk and good[1][1]["_house"] is None
    with transaction.atomic():
        refused = loader.write(good)
    assert refused == [(3, "house_code", house.code[:-1] + "9", "房屋编码不存在")]
    assert Person.objects.filter(name__in=["甲", "丙"]).count() == 2
    assert Residence.objects.get(house=house).person.name == "甲"


def test_array_literals_only_for_plain_words():
    assert bulk.text_array(["4403", "ab-c.d_e"]) == "{4403,ab-c.d_e}"
    for values in (["a", ""], ["a,b"], ["a b"], ["x", "NULL"], ["null"], ['a"'], ["{a}"], [1]):
        assert bulk.text_array(values) == values
