"""The grading rules as data and their pure evaluation (no database)."""

from __future__ import annotations

import copy
import json

import pytest

from civicgrid.rental import grading

CLEAN = {
    "registered": 2,
    "observed": 2,
    "safety_letter": True,
    "fire_facilities_ok": True,
    "escape_route_blocked": False,
    "ebike_indoor_charging": False,
    "illegal_use": False,
    "area_per_person": 15.0,
    "open_hazards": 0,
    "incidents_12m": 0,
    "complaints_12m": 0,
    "refused_inspections": 0,
}


@pytest.fixture
def default():
    return grading.parse(grading.shipped("default"))


@pytest.fixture
def longgang():
    return grading.parse(grading.shipped("longgang"))


def test_a_clean_house_may_be_green(default):
    ev = grading.evaluate(default, CLEAN)
    assert ev.cap == "green" and ev.reasons == [] and ev.fixes == []


@pytest.mark.parametrize(
    "finding", ["escape_route_blocked", "ebike_indoor_charging", "illegal_use"]
)
def test_a_severe_finding_caps_at_red_with_its_reason(default, finding):
    ev = grading.evaluate(default, CLEAN | {finding: True})
    assert ev.cap == "red"
    assert len(ev.reasons) == 1 and "禁止级" in ev.reasons[0]
    assert ev.fixes


@pytest.mark.parametrize(
    "change, words",
    [
        ({"registered": 1, "observed": 3}, "登记居住人数少于实住人数"),
        ({"safety_letter": False}, "安全责任书"),
        ({"open_hazards": 2}, "未整改"),
    ],
)
def test_lesser_problems_cap_at_yellow(default, change, words):
    ev = grading.evaluate(default, CLEAN | change)
    assert ev.cap == "yellow"
    assert any(words in r for r in ev.reasons)


def test_reasons_list_every_match_worst_first(default):
    ev = grading.evaluate(default, CLEAN | {"safety_letter": False, "illegal_use": True})
    assert ev.cap == "red"
    assert "违规用途" in ev.reasons[0] and "安全责任书" in ev.reasons[1]


def test_an_unknown_value_never_matches(default):
    # nobody counted the residents yet: "registered < observed" cannot hold
    ev = grading.evaluate(default, CLEAN | {"observed": None, "area_per_person": None})
    assert ev.cap == "green"


def test_violations_downgrade_at_once(default):
    ev = grading.evaluate(default, CLEAN | {"escape_route_blocked": True})
    d = grading.decide(default, "green", ev, 1, inspection=True)
    assert (d.grade, d.streak, d.changed) == ("red", 0, True)
    assert d.reasons == ev.reasons


def test_upgrades_need_two_clean_inspections_and_go_one_step(default):
    clean = grading.evaluate(default, CLEAN)
    first = grading.decide(default, "red", clean, 0, inspection=True)
    assert (first.grade, first.streak, first.changed) == ("red", 1, False)
    second = grading.decide(default, "red", clean, first.streak, inspection=True)
    assert (second.grade, second.streak, second.changed) == ("yellow", 0, True)
    assert "连续 2 次检查合格" in second.reasons[0]
    third = grading.decide(default, "yellow", clean, 0, inspection=True)
    fourth = grading.decide(default, "yellow", clean, third.streak, inspection=True)
    assert (third.grade, fourth.grade) == ("yellow", "green")


def test_an_inspection_that_allows_no_better_grade_resets_the_count(default):
    still_yellow = grading.evaluate(default, CLEAN | {"safety_letter": False})
    d = grading.decide(default, "yellow", still_yellow, 1, inspection=True)
    assert (d.grade, d.streak) == ("yellow", 0)


def test_without_inspection_nothing_moves_up(default):
    d = grading.decide(default, "red", grading.evaluate(default, CLEAN), 1, inspection=False)
    assert (d.grade, d.streak, d.changed) == ("red", 1, False)


def test_upgrade_after_is_configurable(default):
    data = grading.shipped("default") | {"upgrade_after": 3}
    rules = grading.parse(data)
    clean = grading.evaluate(rules, CLEAN)
    streak, grade = 0, "red"
    for _ in range(2):
        d = grading.decide(rules, grade, clean, streak, inspection=True)
        streak, grade = d.streak, d.grade
    assert grade == "red"
    assert grading.decide(rules, grade, clean, streak, inspection=True).grade == "yellow"


def test_the_four_level_scheme(longgang):
    assert longgang.codes == ["green", "yellow", "orange", "red"]
    assert [g.interval_days for g in longgang.grades] == [21, 14, 7, 7]
    assert not longgang.grade("red").let_allowed
    undeclared = grading.evaluate(longgang, CLEAN | {"registered": 1, "observed": 4})
    assert undeclared.cap == "orange"
    assert grading.evaluate(longgang, CLEAN | {"safety_letter": False}).cap == "yellow"
    # orange, moving up, passes through yellow
    clean = grading.evaluate(longgang, CLEAN)
    d = grading.decide(longgang, "orange", clean, 1, inspection=True)
    assert d.grade == "yellow"


def test_a_grade_of_another_scheme_is_mapped_with_the_reason(default, longgang):
    d = grading.decide(default, "orange", grading.evaluate(default, CLEAN), 0, inspection=False)
    assert d.grade == "red" and d.changed and "等级方案变更" in d.reasons[0]
    assert longgang.rank("purple") == 3  # unknown and unmapped: the safe side


def _broken(**change):
    data = copy.deepcopy(grading.shipped("default"))
    for path, value in change.items():
        target = data
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    "data, words",
    [
        (_broken(rules__0__when={"escape_blocked": True}), "未知指标 'escape_blocked'"),
        (_broken(rules__0__grade="purple"), "等级 'purple' 不在本方案中"),
        (_broken(rules__3__when={"registered": {"below": "observed"}}), "比较符 'below' 无效"),
        (_broken(rules__0__when={"escape_route_blocked": {"lt": True}}), "只能用 eq 或 ne"),
        (_broken(rules__5__when={"open_hazards": "many"}), "不是指标"),
        (_broken(rules__5__when={"open_hazards": True}), "须为数字"),
        (_broken(grades__1__interval_days=0), "interval_days 须为正整数"),
        (_broken(grades__1__code="green"), "等级编码重复：green"),
        (_broken(upgrade_after=0), "upgrade_after"),
        (_broken(rules__0__reason=""), "缺少 reason"),
        (_broken(aliases={"orange": "violet"}), "aliases"),
        (_broken(colour="red"), "未知的配置项：colour"),
        ({"name": "x", "scheme": "x", "grades": [], "rules": []}, "至少两个等级"),
    ],
)
def test_an_invalid_rule_set_is_refused_with_the_reason(data, words):
    with pytest.raises(grading.RuleError) as exc:
        grading.parse(data)
    assert words in str(exc.value)


def test_bad_json_names_line_and_column():
    with pytest.raises(grading.RuleError, match="第 2 行"):
        grading.loads('{"name": "x",\n "scheme": }')


def test_shipped_rule_sets_round_trip_through_json():
    for name in ("default", "longgang"):
        text = json.dumps(grading.shipped(name), ensure_ascii=False)
        assert grading.loads(text).name == grading.shipped(name)["name"]
