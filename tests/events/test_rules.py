"""The pure rules of the hub: the transition table, routing (most specific wins) and the
catalogue file check — no database."""

from __future__ import annotations

import pytest

from civicgrid.events import catalogue as cat
from civicgrid.events import routing, workflow
from civicgrid.events.services import HANDLERS
from civicgrid.events.workflow import Status


def test_every_action_has_a_handler_and_valid_states():
    assert set(HANDLERS) == set(workflow.ACTIONS)
    for a in workflow.ACTIONS.values():
        assert a.sources <= set(Status), a.code
        assert a.target is None or a.target in set(Status), a.code
        assert a.roles, a.code


def test_the_main_line_is_walkable_by_the_right_roles():
    path = [
        ("accept", "dispatcher"),
        ("dispatch", "dispatcher"),
        ("sign", "department"),
        ("resolve", "department"),
        ("verify", "grid_worker"),
        ("close", "dispatcher"),
    ]
    status = Status.REPORTED
    for action, role in path:
        assert action in workflow.allowed(status, {role}), (action, status)
        status = workflow.target(action, status)
    assert status == Status.CLOSED


@pytest.mark.parametrize(
    "status, role, forbidden",
    [
        (Status.REPORTED, "department", "sign"),
        (Status.DISPATCHED, "dispatcher", "close"),
        (Status.IN_PROGRESS, "grid_worker", "resolve"),
        (Status.CLOSED, "department", "reopen"),
        (Status.MERGED, "dispatcher", "dispatch"),
        (Status.REJECTED, "operator", "accept"),
    ],
)
def test_the_table_refuses(status, role, forbidden):
    assert forbidden not in workflow.allowed(status, {role})


def test_problem_ticket_threshold():
    assert not workflow.is_problem(returned=1, reopened=1, departments=2)
    assert workflow.is_problem(returned=2, reopened=1, departments=1)
    assert workflow.is_problem(returned=0, reopened=0, departments=3)
    assert workflow.is_problem(returned=0, reopened=0, departments=1, rework=3)


PLACES = {
    "community": "440306017001",
    "street": "440306017",
    "district": "440306",
    "city": "440300",
}
PAIRS = routing.parse_route("community:GZZ;street:JD;district:CG")


def test_catalogue_route_dispatches_on_the_first_level_or_the_asked_one():
    chain = ["010101", "0101", "01"]
    assert routing.route(chain, PLACES, [], PAIRS).department == "440306017001-GZZ"
    assert routing.route(chain, PLACES, [], PAIRS, level="street").department == "440306017-JD"
    assert routing.route(chain, PLACES, [], PAIRS, level="district").department == "440306-CG"
    # a city centre asks: the leaf names nobody at city level and nothing above → none
    assert routing.route(chain, PLACES, [], PAIRS, level="city") is None


def test_rules_most_specific_wins():
    chain = ["010101", "0101", "01"]
    rules = [
        routing.Rule("01", None, "440300-CG"),  # the whole class, citywide
        routing.Rule("0101", None, "440300-ZJ"),  # the sub-class, citywide
        routing.Rule("0101", "440306", "440306-ZJ"),  # the sub-class, in 宝安
        routing.Rule("0101", "440305", "440305-ZJ"),  # elsewhere: never applies here
    ]
    assert routing.route(chain, PLACES, rules, PAIRS).department == "440306-ZJ"
    assert routing.route(chain, PLACES, rules[:2], PAIRS).department == "440300-ZJ"
    assert routing.route(chain, PLACES, rules[:1], PAIRS).department == "440300-CG"
    # a deeper category beats a smaller region
    rules.append(routing.Rule("010101", None, "440300-GH"))
    assert routing.route(chain, PLACES, rules, PAIRS).department == "440300-GH"


def test_route_text_is_checked():
    with pytest.raises(ValueError, match="street"):
        routing.parse_route("street:CG")
    with pytest.raises(ValueError):
        routing.parse_route("district-CG")


def _rows(*rows):
    header = [
        "code",
        "name",
        "parent",
        "intake_type",
        "deadline",
        "urgency",
        "on_spot",
        "yellow",
        "red",
        "radius_m",
        "route",
        "assist",
        "source",
        "keywords",
    ]
    return [(i + 2, dict(zip(header, r, strict=False))) for i, r in enumerate(rows)]


def test_catalogue_check_names_line_and_column():
    ok = ("01", "市容环境", "")
    leaf = ("0101", "暴露垃圾", "01", "投诉", "4h", "normal", "1", "", "", "", "district:CG")
    assert [n.code for n in cat.check_rows(_rows(ok, leaf))] == ["01", "0101"]
    with pytest.raises(cat.CatalogueError) as err:
        cat.check_rows(
            _rows(
                ok,
                (
                    "0101",
                    "暴露垃圾",
                    "01",
                    "投诉",
                    "4小时半",
                    "normal",
                    "1",
                    "",
                    "",
                    "",
                    "district:CG",
                ),
                ("0102", "道路不洁", "02", "投诉", "4h", "normal", "0", "", "", "", "district:CG"),
                ("0103", "乱堆物料", "01", "吐槽", "4h", "normal", "0", "", "", "", "street:JD"),
                ("0103", "重复", "01"),
            )
        )
    found = {(p.line, p.column) for p in err.value.problems}
    assert {
        (3, "办理时限"),
        (4, "上级编码"),
        (5, "诉求类型"),
        (5, "责任层级"),
        (6, "编码"),
    } <= found
