"""House/building codes, GB 11643 ID numbers and GB 32100 credit codes (DESIGN §4).

No database: these are pure functions, checked against the published examples and, with
Hypothesis, against every valid combination of parts.
"""

from __future__ import annotations

import ast
import dataclasses
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from civicgrid.registry import codes
from civicgrid.registry.codes import (
    CREDIT_CHARSET,
    ID_PROVINCES,
    BuildingCode,
    CodeError,
    HouseCode,
    building_code,
    check_credit_code,
    credit_check_char,
    credit_codes_from_parts,
    house_code,
    id_check_char,
    id_numbers_from_parts,
    parse_building_code,
    parse_house_code,
    parse_id_number,
    validate_building_code,
    validate_house_code,
    validate_id_number,
)

EXAMPLE_HOUSE = "4403070030030400042000003"
EXAMPLE_ID = "11010519491231002X"
EXAMPLE_CREDIT = "91350100M000100Y43"
EARLY_CREDIT = "91350100M0001TGQXM"  # a legal early 福建 code that fails the check (REFERENCE §1.5)
TODAY = date.today()


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


# --- house and building codes ------------------------------------------------------------------

grid_codes = st.builds(
    lambda p, c, d, street, community, grid: f"{p}{c}{d}{street:03d}{community:03d}{grid:02d}",
    digits(2),
    digits(2),
    digits(2),
    st.integers(1, 599),
    st.integers(1, 999),
    st.integers(1, 99),
)
building_seqs = st.integers(1, 99_999)
room_seqs = st.integers(1, 999_999)


def test_example_house_code_parses_into_its_levels():
    h = parse_house_code(EXAMPLE_HOUSE)
    assert (h.province, h.city, h.district) == ("44", "03", "07")
    assert (h.street, h.community, h.grid) == ("003", "003", "04")
    assert (h.building_seq, h.room_seq) == (42, 3)
    assert h.district_code == "440307"
    assert h.street_code == "440307003"
    assert h.community_code == "440307003003"
    assert h.grid_code == "44030700300304"
    assert h.building_code == "4403070030030400042"
    assert h.house_code == h.code == str(h) == EXAMPLE_HOUSE
    assert h.building == parse_building_code("4403070030030400042")
    assert validate_house_code(EXAMPLE_HOUSE) == []


@given(grid_codes, building_seqs, room_seqs)
def test_house_code_round_trip(grid, seq, room):
    b = building_code(grid, seq)
    h = house_code(b, room)
    assert len(b) == 19 and len(h) == 25 and h.startswith(b) and b.startswith(grid)
    assert validate_building_code(b) == []
    assert validate_house_code(h) == []
    assert validate_house_code(h, known_grids={grid}) == []

    parsed = parse_house_code(h)
    assert isinstance(parsed, HouseCode)
    assert parsed.grid_code == grid
    assert (parsed.building_seq, parsed.room_seq) == (seq, room)
    assert parsed.building_code == b and parsed.house_code == h
    assert parsed.province + parsed.city + parsed.district == parsed.district_code == grid[:6]
    assert parsed.street_code == grid[:9] and parsed.community_code == grid[:12]
    assert parsed.grid == grid[12:]

    pb = parse_building_code(b)
    assert type(pb) is BuildingCode
    assert pb == parsed.building
    assert (pb.grid_code, pb.building_seq, pb.code) == (grid, seq, b)
    # Rebuilding from the parsed parts gives the same code back.
    assert house_code(building_code(pb.grid_code, pb.building_seq), parsed.room_seq) == h


@given(grid_codes, building_seqs, grid_codes)
def test_building_code_depends_only_on_its_inputs(grid, seq, other_grid):
    """A code is frozen at issue: nothing but (grid, seq) goes into it, and the grid it names
    is read from the code alone — whatever grids exist now (the caller's ``known_grids``)."""
    first = building_code(grid, seq)
    building_code(other_grid, seq)  # no hidden state between calls
    parse_building_code(building_code(other_grid, 1))
    assert building_code(grid, seq) == first
    assert parse_building_code(first).grid_code == grid
    assume(other_grid != grid)
    # After a re-drawing the grid may no longer be known: the code is reported, never rewritten.
    reasons = validate_building_code(first, known_grids={other_grid})
    assert reasons == [f"编码前 14 位 {grid} 不是已知网格"]
    assert parse_building_code(first).code == first


def test_parts_are_frozen():
    h = parse_house_code(EXAMPLE_HOUSE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.grid = "05"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("grid", "seq"),
    [
        ("4403070030030", 1),  # 13 digits
        ("440307003003040", 1),  # 15 digits
        ("4403070030030A", 1),
        ("４４03070030030４", 1),  # full-width digits are not silently accepted here
        (44030700300304, 1),
        ("44030700300304", 0),
        ("44030700300304", 100_000),
        ("44030700300304", True),
        ("44030700300304", 1.0),
    ],
)
def test_building_code_rejects_bad_input(grid, seq):
    with pytest.raises(ValueError):
        building_code(grid, seq)


@pytest.mark.parametrize(
    ("building", "room"),
    [
        ("440307003003040004", 1),
        ("44030700300304000421", 1),
        ("440307003003040004X", 1),
        ("4403070030030400042", 0),
        ("4403070030030400042", 1_000_000),
        ("4403070030030400042", -3),
    ],
)
def test_house_code_rejects_bad_input(building, room):
    with pytest.raises(ValueError):
        house_code(building, room)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("440307003003040004200000", "长度须为 25 位（实为 24 位）"),
        ("44030700300304000420000031", "长度须为 25 位（实为 26 位）"),
        ("44030700300304000420000O3", "只能包含数字"),
        ("4403070000030400042000003", "街道（乡镇）码 000 须在 001–599 之间"),
        ("4403076000030400042000003", "街道（乡镇）码 600 须在 001–599 之间"),
        ("4403070030000400042000003", "社区（村）码不能为 000"),
        ("4403070030030000042000003", "网格序号须在 01–99 之间"),
        ("4403070030030400000000003", "楼栋序号须在 00001–99999 之间"),
        ("4403070030030400042000000", "房屋序号须在 000001–999999 之间"),
    ],
)
def test_validate_house_code_reasons(code, fragment):
    reasons = validate_house_code(code)
    assert len(reasons) == 1
    assert fragment in reasons[0]
    with pytest.raises(CodeError, match=fragment.split("（")[0]):
        parse_house_code(code)


def test_validate_reports_every_problem_at_once():
    reasons = validate_house_code("4403070000000000000000000")
    assert len(reasons) == 5
    assert validate_building_code("1234") == ["楼栋编码长度须为 19 位（实为 4 位）"]
    assert validate_building_code("") == ["楼栋编码长度须为 19 位（实为 0 位）"]


def test_known_grids():
    grids = {"44030700300304", "44030700300305"}
    assert validate_house_code(EXAMPLE_HOUSE, known_grids=grids) == []
    assert validate_house_code(EXAMPLE_HOUSE, known_grids=set()) == [
        "编码前 14 位 44030700300304 不是已知网格"
    ]
    assert validate_building_code("4403070030030500001", known_grids=grids) == []
    with pytest.raises(CodeError, match="不是已知网格"):
        parse_building_code("4403070030030600001", known_grids=grids)


def test_house_and_building_code_lengths_are_not_interchangeable():
    with pytest.raises(CodeError):
        parse_building_code(EXAMPLE_HOUSE)
    with pytest.raises(CodeError):
        parse_house_code(EXAMPLE_HOUSE[:19])


def test_surrounding_whitespace_is_ignored():
    assert parse_house_code(f"  {EXAMPLE_HOUSE}\n").code == EXAMPLE_HOUSE


# --- GB 11643 ID numbers -----------------------------------------------------------------------


@st.composite
def id_numbers(draw) -> str:
    province = draw(st.sampled_from(sorted(ID_PROVINCES)))
    area = f"{province:02d}{draw(digits(4))}"
    born = draw(st.dates(min_value=date(1890, 1, 1), max_value=TODAY))
    body = f"{area}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + id_check_char(body)


def test_standard_sample():
    assert id_check_char(EXAMPLE_ID[:17]) == "X"
    assert validate_id_number(EXAMPLE_ID) is None
    info = parse_id_number(EXAMPLE_ID)
    assert info.number == EXAMPLE_ID
    assert info.area == "110105"
    assert info.birth_date == date(1949, 12, 31)
    assert info.sequence == 2
    assert info.sex == "F"


def test_lower_case_x_whitespace_and_full_width_are_normalised():
    for typed in [
        "11010519491231002x",
        " 11010519491231002X\t",
        "１１０１０５１９４９１２３１００２ｘ",
    ]:
        assert validate_id_number(typed) is None
        assert parse_id_number(typed).number == EXAMPLE_ID


def test_sex_follows_the_sequence():
    odd = "44030619900101123"
    even = "44030619900101124"
    assert parse_id_number(odd + id_check_char(odd)).sex == "M"
    assert parse_id_number(even + id_check_char(even)).sex == "F"


@given(id_numbers())
def test_generated_numbers_decode(number):
    info = parse_id_number(number)
    assert info.number == number
    assert info.area == number[:6]
    assert info.birth_date.strftime("%Y%m%d") == number[6:14]
    assert info.sex == ("M" if int(number[16]) % 2 else "F")


@given(id_numbers())
def test_check_character_satisfies_iso_7064_mod_11_2(number):
    """Independent of the lookup string: with weights 2^(18−i) mod 11 and X = 10, the weighted
    sum of all 18 characters is 1 mod 11."""
    values = [10 if ch == "X" else int(ch) for ch in number]
    weights = [pow(2, 17 - i, 11) for i in range(18)]
    assert sum(v * w for v, w in zip(values, weights, strict=True)) % 11 == 1


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("44030619900307123", "2"),
        ("44030619900307124", "0"),
        ("44030619900307125", "9"),
        ("44030619900307126", "7"),
        ("44030619900307127", "5"),
        ("44030619900307128", "3"),
        ("44030619900307129", "1"),
        ("44030619900307120", "8"),
        ("44030619900307121", "6"),
        ("44030619900307122", "4"),
        ("44030619900307113", "6"),
        ("11010519491231002", "X"),
    ],
)
def test_id_check_char_table(body, check):
    assert id_check_char(body) == check
    assert id_numbers_from_parts(body[:6], int(body[6:14]), int(body[14:])).item() == body + check


@given(id_numbers(), st.sampled_from("0123456789X"))
def test_every_wrong_check_character_is_rejected(number, wrong):
    assume(wrong != number[17])
    for candidate in (number[:17] + wrong, number[:17] + wrong.lower()):
        assert validate_id_number(candidate) == f"校验码错误（应为 {number[17]}）"
        with pytest.raises(CodeError, match="校验码错误"):
            parse_id_number(candidate)


@given(id_numbers(), st.integers(0, 16), st.integers(1, 9))
def test_every_single_digit_change_is_rejected(number, position, shift):
    corrupted = (
        number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    )
    assert validate_id_number(corrupted) is not None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("1101051949123100", "长度须为 18 位（实为 16 位）"),
        ("11010519491231002XX", "长度须为 18 位（实为 19 位）"),
        ("", "长度须为 18 位（实为 0 位）"),
        ("1101051949123100A2", "前 17 位须为数字，末位须为数字或 X"),
        ("11010519491231002Y", "前 17 位须为数字，末位须为数字或 X"),
        ("00010519491231002X", "地区码无效：000105"),
        ("99010519491231002X", "地区码无效：990105"),
        ("11010519490230002X", "出生日期无效：19490230 不是真实日期"),
        ("11010519491331002X", "出生日期无效：19491331 不是真实日期"),
        ("11010518891231002X", "出生日期无效：18891231 早于 1890 年"),
        ("11010519491231002", "长度须为 18 位"),
    ],
)
def test_id_reasons(number, reason):
    # The check character is fixed up where the body is well formed, so the reason is not
    # masked by a checksum failure.
    if len(number) == 18 and number[:17].isdigit() and number[17] in "0123456789X":
        number = number[:17] + id_check_char(number[:17])
    found = validate_id_number(number)
    assert found is not None and found.startswith(reason)
    with pytest.raises(CodeError) as err:
        parse_id_number(number)
    assert reason in str(err.value)


def test_birth_date_after_today_is_rejected():
    body = "44030620300101123"
    number = body + id_check_char(body)
    assert validate_id_number(number, today=date(2030, 1, 1)) is None
    assert validate_id_number(number, today=date(2029, 12, 31)) == "出生日期无效：20300101 晚于今天"
    tomorrow = TODAY + timedelta(days=1)
    body = f"440306{tomorrow:%Y%m%d}123"
    assert "晚于今天" in validate_id_number(body + id_check_char(body))


@pytest.mark.parametrize("body", ["1101051949123100", "110105194912310021", "1101051949123100A"])
def test_id_check_char_needs_17_digits(body):
    with pytest.raises(CodeError):
        id_check_char(body)


# --- GB 32100 credit codes ---------------------------------------------------------------------

credit_bodies = st.text(CREDIT_CHARSET, min_size=17, max_size=17)


def test_credit_example_validates():
    assert credit_check_char(EXAMPLE_CREDIT[:17]) == "3"
    result = check_credit_code(EXAMPLE_CREDIT)
    assert (result.code, result.errors, result.warnings, result.ok) == (
        EXAMPLE_CREDIT,
        [],
        [],
        True,
    )
    assert check_credit_code(f" {EXAMPLE_CREDIT.lower()} ").code == EXAMPLE_CREDIT


def test_failed_credit_check_is_a_warning_not_an_error():
    result = check_credit_code(EARLY_CREDIT)
    assert result.errors == []
    assert result.ok
    assert len(result.warnings) == 1
    expected = credit_check_char(EARLY_CREDIT[:17])
    assert expected != "M"
    assert f"应为 {expected}" in result.warnings[0]


@pytest.mark.parametrize("bad", "IOSVZ")
def test_credit_code_illegal_characters_are_errors(bad):
    result = check_credit_code(EXAMPLE_CREDIT[:9] + bad + EXAMPLE_CREDIT[10:])
    assert not result.ok
    assert len(result.errors) == 1 and bad in result.errors[0]
    assert result.warnings == []


def test_credit_code_length_is_an_error():
    result = check_credit_code(EXAMPLE_CREDIT[:-1])
    assert result.errors == ["长度须为 18 位（实为 17 位）"]
    assert check_credit_code("").errors == ["长度须为 18 位（实为 0 位）"]
    both = check_credit_code("9135O")
    assert len(both.errors) == 2


def test_non_numeric_area_code_is_a_warning():
    body = "91AB0100M000100Y4"
    result = check_credit_code(body + credit_check_char(body))
    assert result.ok
    assert result.warnings == ["第 3–8 位登记机关行政区划码 AB0100 应为数字"]


@given(credit_bodies)
def test_credit_check_character_makes_the_weighted_sum_zero(body):
    code = body + credit_check_char(body)
    total = sum(CREDIT_CHARSET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
    assert (total + CREDIT_CHARSET.index(code[17])) % 31 == 0


@given(credit_bodies, st.sampled_from(CREDIT_CHARSET))
def test_credit_check_character(body, other):
    good = body + credit_check_char(body)
    assert check_credit_code(good).errors == []
    assert not any("校验码" in w for w in check_credit_code(good).warnings)
    assume(other != good[17])
    bad = check_credit_code(body + other)
    assert bad.ok
    assert f"校验码不符（应为 {good[17]}，实为 {other}）" in " ".join(bad.warnings)


def test_credit_check_char_needs_17_charset_characters():
    with pytest.raises(CodeError):
        credit_check_char(EXAMPLE_CREDIT[:16])
    with pytest.raises(CodeError):
        credit_check_char("I" + EXAMPLE_CREDIT[1:17])


# --- vectorised generators ---------------------------------------------------------------------

id_parts = st.lists(
    st.tuples(
        st.sampled_from(sorted(ID_PROVINCES)),
        st.integers(0, 9999),
        st.dates(min_value=date(1890, 1, 1), max_value=TODAY),
        st.integers(0, 999),
    ),
    min_size=1,
    max_size=50,
)


@settings(deadline=None)
@given(id_parts)
def test_vectorised_ids_are_valid(parts):
    area = np.array([p * 10_000 + rest for p, rest, _, _ in parts])
    birth = np.array([int(f"{d:%Y%m%d}") for _, _, d, _ in parts])
    seq = np.array([s for *_, s in parts])
    out = id_numbers_from_parts(area, birth, seq)
    assert out.dtype == np.dtype("<U18") and out.shape == (len(parts),)
    # Strings for the area give the same numbers.
    assert (id_numbers_from_parts(np.char.zfill(area.astype(str), 6), birth, seq) == out).all()
    for number, a, (_, _, born, s) in zip(out.tolist(), area.tolist(), parts, strict=True):
        assert number[:17] == f"{a:06d}{born:%Y%m%d}{s:03d}"
        assert number[17] == id_check_char(number[:17])
        assert validate_id_number(number) is None
        info = parse_id_number(number)
        assert (info.birth_date, info.sex) == (born, "M" if s % 2 else "F")


def test_vectorised_ids_broadcast_and_match_the_sample():
    out = id_numbers_from_parts("110105", 19491231, np.array([2, 3]))
    assert out.tolist() == [EXAMPLE_ID, "110105194912310038"]
    assert validate_id_number(out[1]) is None
    assert id_numbers_from_parts(110105, 19491231, 2).item() == EXAMPLE_ID
    empty = id_numbers_from_parts(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 1)
    assert empty.shape == (0,)


@pytest.mark.parametrize(
    ("area", "birth", "seq"),
    [
        (990105, 19491231, 2),  # no such province
        (1_101_050, 19491231, 2),  # 7 digits
        ("11010", 19491231, 2),
        ("1101055", 19491231, 2),
        ("11O105", 19491231, 2),
        (110105, 19490229, 2),  # not a leap year
        (110105, 19491301, 2),
        (110105, 18891231, 2),
        (110105, int(f"{TODAY + timedelta(days=1):%Y%m%d}"), 2),
        (110105, 19491231, 1000),
        (110105, 19491231, -1),
    ],
)
def test_vectorised_ids_reject_bad_parts(area, birth, seq):
    with pytest.raises(ValueError):
        id_numbers_from_parts(np.array([110105, area]), np.array([19800101, birth]), seq)


def test_vectorised_ids_accept_leap_days():
    out = id_numbers_from_parts(440306, np.array([20000229, 19000228, 20240229]), 5)
    assert all(validate_id_number(x) is None for x in out.tolist())


credit_parts = st.lists(
    st.tuples(
        st.text(CREDIT_CHARSET, min_size=2, max_size=2),
        digits(6),
        st.integers(0, 31**9 - 1),
    ),
    min_size=1,
    max_size=50,
)


@settings(deadline=None)
@given(credit_parts)
def test_vectorised_credit_codes_are_valid(parts):
    prefix = np.array([a + b for a, b, _ in parts])
    numbers = np.array([n for *_, n in parts], dtype=np.int64)
    out = credit_codes_from_parts(prefix, numbers)
    assert out.dtype == np.dtype("<U18") and out.shape == (len(parts),)
    for code, (head, area, number) in zip(out.tolist(), parts, strict=True):
        assert code[:8] == head + area
        assert code[17] == credit_check_char(code[:17])
        result = check_credit_code(code)
        assert (result.errors, result.warnings) == ([], [])
        # The organisation identifier is the number in base 31 over the charset.
        value = 0
        for c in code[8:17]:
            value = value * 31 + CREDIT_CHARSET.index(c)
        assert value == number


def test_vectorised_credit_code_matches_the_example():
    body = 0
    for c in EXAMPLE_CREDIT[8:17]:
        body = body * 31 + CREDIT_CHARSET.index(c)
    assert credit_codes_from_parts("91350100", np.array([body])).tolist() == [EXAMPLE_CREDIT]


@pytest.mark.parametrize(
    ("prefix", "number"),
    [("9135010", 0), ("913501000", 0), ("9I350100", 0), ("91350100", -1), ("91350100", 31**9)],
)
def test_vectorised_credit_codes_reject_bad_parts(prefix, number):
    with pytest.raises(ValueError):
        credit_codes_from_parts(np.array(["91440300", prefix]), np.array([5, number]))


def test_module_has_no_django_import():
    tree = ast.parse(Path(codes.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not any(name.split(".")[0] == "django" for name in imported)
