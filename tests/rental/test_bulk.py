"""Set-based work: profiles for a city's let houses, the bulk regrade after a rule change, and
the inspection schedule."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from civicgrid.rental import grading, selectors, services
from civicgrid.rental.models import GradeChange, InspectionTask, RentalProfile


def _profiles(people, make_house, n: int) -> list[RentalProfile]:
    return [
        services.register_rental(people["grid"], make_house(), safety_letter=True)[0]
        for _ in range(n)
    ]


def test_profiles_for_let_houses_are_made_once(people, make_house):
    let = [make_house() for _ in range(3)]
    own = make_house(use="own")
    assert services.create_profiles("test") == 3
    assert services.create_profiles("test") == 0
    codes = set(RentalProfile.objects.values_list("house_code", flat=True))
    assert codes == {h.code for h in let} and own.code not in codes
    p = RentalProfile.objects.get(house=let[0])
    assert (p.grid_code, p.district_code, p.grade) == (let[0].grid_code, "440306", "green")


def test_synthetic_profiles_get_a_mix_and_regrade_sets_their_grades(people, make_house):
    for _ in range(120):
        make_house()
    assert services.create_profiles("test", synthetic=True) == 120
    services.regrade("test")
    grades = set(RentalProfile.objects.values_list("grade", flat=True))
    assert grades == {"green", "yellow", "red"}
    # the set-based result is what the pure evaluation says for every house
    rules = selectors.active_rules()
    for p in RentalProfile.objects.all():
        assert p.grade == grading.evaluate(rules, selectors.indicators(p)).cap, p.house_code


def test_regrade_after_a_rule_change_dry_run_then_real(people, make_house):
    profiles = _profiles(people, make_house, 4)
    RentalProfile.objects.filter(pk__in=[profiles[0].pk, profiles[1].pk]).update(complaints_12m=3)
    assert set(RentalProfile.objects.values_list("grade", flat=True)) == {"green"}
    stricter = grading.shipped("default")
    stricter["rules"].append(
        {
            "when": {"complaints_12m": {"ge": 3}},
            "grade": "yellow",
            "reason": "近 12 个月投诉 3 次以上",
        }
    )
    services.load_rules(people["steward"], stricter)
    dry = services.regrade("test", dry_run=True)
    assert (dry["evaluated"], dry["changed"], dry["moves"]) == (4, 2, {"green→yellow": 2})
    assert set(RentalProfile.objects.values_list("grade", flat=True)) == {"green"}

    done = services.regrade("test")
    assert (done["evaluated"], done["changed"]) == (4, 2)
    changed = RentalProfile.objects.filter(grade="yellow")
    assert set(changed.values_list("pk", flat=True)) == {profiles[0].pk, profiles[1].pk}
    last = GradeChange.objects.filter(profile=profiles[0]).latest("id")
    assert (last.from_grade, last.to_grade, last.actor) == ("green", "yellow", "test")
    assert "重新评定" in last.reason_list[0] and "投诉 3 次以上" in last.reasons
    # the next visit is brought forward to the yellow interval
    p = changed.first()
    assert p.next_due <= timezone.localdate() + dt.timedelta(days=30)
    assert services.regrade("test")["changed"] == 0  # nothing left to do


def test_regrade_of_one_region_leaves_the_rest(people, make_house):
    profiles = _profiles(people, make_house, 2)
    RentalProfile.objects.update(illegal_use=True)
    elsewhere = services.regrade("test", region="440305")
    assert elsewhere["evaluated"] == 0 and elsewhere["changed"] == 0
    here = services.regrade("test", region="440306017001")
    assert here["changed"] == 2
    assert RentalProfile.objects.get(pk=profiles[0].pk).grade == "red"


def test_switching_to_four_levels_and_back_maps_orange(people, make_house):
    from civicgrid.rental.grading import shipped

    p = _profiles(people, make_house, 1)[0]
    services.load_rules(people["steward"], shipped("longgang"))
    RentalProfile.objects.filter(pk=p.pk).update(registered=1, observed=3)
    assert services.regrade("test")["changed"] == 1
    assert RentalProfile.objects.get(pk=p.pk).grade == "orange"
    services.load_rules(people["steward"], shipped("default"))
    RentalProfile.objects.filter(pk=p.pk).update(registered=3)
    assert services.regrade("test")["changed"] == 1
    assert RentalProfile.objects.get(pk=p.pk).grade == "red"  # aliases: orange → red


def test_regrade_command_reports_counts(people, make_house, capsys):
    _profiles(people, make_house, 2)
    RentalProfile.objects.update(ebike_indoor_charging=True)
    call_command("rental", "regrade", "--dry-run")
    out = capsys.readouterr().out
    assert "将变更等级 2 户" in out
    assert set(RentalProfile.objects.values_list("grade", flat=True)) == {"green"}
    call_command("rental", "regrade", "--region", "440306")
    assert "已变更等级 2 户" in capsys.readouterr().out
    with pytest.raises(CommandError, match="区域 440399999 不存在"):
        call_command("rental", "regrade", "--region", "440399999")
    with pytest.raises(CommandError, match="格式无效"):
        call_command("rental", "regrade", "--region", "bao'an")


def test_schedule_creates_tasks_for_the_grid_worker_and_flags_overdue(people, make_house):
    due_soon, later, late = _profiles(people, make_house, 3)
    today = timezone.localdate()
    RentalProfile.objects.filter(pk=due_soon.pk).update(next_due=today + dt.timedelta(days=3))
    RentalProfile.objects.filter(pk=later.pk).update(next_due=today + dt.timedelta(days=60))
    RentalProfile.objects.filter(pk=late.pk).update(next_due=today - dt.timedelta(days=2))
    report = services.schedule(today)
    assert report["tasks_created"] == 2 and report["flagged_overdue"] == 1
    tasks = {t.profile_id: t for t in InspectionTask.objects.all()}
    assert set(tasks) == {due_soon.pk, late.pk}
    assert tasks[late.pk].overdue and not tasks[due_soon.pk].overdue
    assert tasks[late.pk].assignee == people["grid"]
    assert services.schedule(today)["tasks_created"] == 0  # one open task a house


def test_an_inspection_closes_the_task_and_the_worker_sees_overdue_ones(
    people, clients, make_house, inspect
):
    p = _profiles(people, make_house, 1)[0]
    RentalProfile.objects.filter(pk=p.pk).update(
        next_due=timezone.localdate() - dt.timedelta(days=1)
    )
    services.schedule()
    listed = clients["grid"].get("/api/v1/rental/tasks?overdue=true").json()
    assert listed["count"] == 1 and listed["items"][0]["house_code"] == p.house_code
    assert clients["nanshan"].get("/api/v1/rental/tasks").json()["count"] == 0
    inspect(p.house_code, observed=0)
    assert clients["grid"].get("/api/v1/rental/tasks").json()["count"] == 0
    assert InspectionTask.objects.get().inspection is not None


def test_the_schedule_is_part_of_the_periodic_jobs():
    from django.conf import settings

    from civicgrid.celery import app
    from civicgrid.core import scheduler

    assert "rental.schedule" in [name for name, _, _ in scheduler._jobs()]
    assert settings.CELERY_BEAT_SCHEDULE["rental-schedule"]["task"] == "rental.schedule"
    app.loader.import_default_modules()
    assert "rental.schedule" in app.tasks and "rental.make_sheet" in app.tasks


def test_new_profiles_count_the_registered_residents(people, make_house):
    from civicgrid.registry import services as registry

    from .conftest import id_number

    house = make_house(area=24.0)
    for seq in (1, 2, 3):
        registry.register_residence(
            people["grid"], house, id_number=id_number(400 + seq), name="某", relation="tenant"
        )
    assert services.create_profiles("test") == 1
    p = RentalProfile.objects.get(house=house)
    assert (p.registered, p.area_per_person) == (3, 8.0)


def test_rules_and_profiles_from_the_command_line(people, make_house, tmp_path, capsys):
    from civicgrid.rental.grading import shipped

    for _ in range(30):
        make_house()
    call_command("rental", "profiles", "--synthetic")
    assert "新建出租屋档案 30 户" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x", "scheme": "y", "grades": []}', encoding="utf-8")
    with pytest.raises(CommandError, match="至少两个等级"):
        call_command("rental", "rules", "load", str(broken))
    assert selectors.active_rules().scheme == "default3"
    good = tmp_path / "longgang.json"
    good.write_text(json.dumps(shipped("longgang"), ensure_ascii=False), encoding="utf-8")
    call_command("rental", "rules", "load", str(good))
    assert "已加载规则 v1" in capsys.readouterr().out
    call_command("rental", "rules", "show")
    assert "orange 严管级 每 7 天检查" in capsys.readouterr().out
