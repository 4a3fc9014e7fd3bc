"""Departments and centres in the admin and through the services.

A centre's superior is where its events escalate (events.services._escalate): it must be the
centre of the node above, the one that sees the centre's events; a steward may not hang their
centre under another district's, nor set a superior from outside their jurisdiction. Adding a
department goes through the service too: region, kind, sector and code are checked and a bad
one is a form error, never a server error.
"""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.accounts import services
from civicgrid.accounts.models import Department
from civicgrid.audit.models import AuditRecord
from civicgrid.core.errors import NotFound, ServiceError

pytestmark = pytest.mark.django_db

BAOAN, NANSHAN, STREET = "440306", "440305", "440306017"  # 新安街道, in 宝安区
ADD = "/admin/accounts/department/add/"


def dept(code: str) -> Department:
    return Department.objects.get(code=code)


def change_url(code: str) -> str:
    return f"/admin/accounts/department/{dept(code).pk}/change/"


def form_of(d: Department, **changes) -> dict:
    """The change form as the admin posts it (code, kind and region are read-only there)."""
    data = {
        "name": d.name,
        "sector": d.sector,
        "parent": d.parent_id or "",
        "phone": d.phone,
        "active": "on" if d.active else "",
    } | changes
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def steward(make_user):
    return make_user("ba_steward", "steward", BAOAN)


@pytest.fixture
def admin_client(steward):
    client = Client(raise_request_exception=False)
    client.force_login(steward)
    return client


def audited(action: str, code: str) -> bool:
    return AuditRecord.objects.filter(action=action, object_id=str(dept(code).pk)).exists()


# --- the parent follows the tree (finding 5) ---------------------------------------------------
@pytest.mark.parametrize(
    ("code", "parent"),
    [
        (f"{BAOAN}-ZZ", f"{NANSHAN}-ZZ"),  # another district's centre: outside, and off the tree
        (f"{BAOAN}-ZZ", f"{STREET}-ZZ"),  # inside the jurisdiction, but below: a loop
        (f"{BAOAN}-ZZ", "440300-ZJ"),  # the right node, not a centre
        (f"{BAOAN}-ZZ", None),  # no superior: escalation would stop at the district
        (f"{STREET}-ZZ", "440300-ZZ"),  # the city's centre, skipping the district's
        (f"{STREET}-ZZ", f"{NANSHAN}-ZZ"),
        (f"{BAOAN}-ZJ", "440300-CG"),  # a department: the same sector one level up
        (f"{STREET}-JD", f"{BAOAN}-ZZ"),  # street offices have no superior
    ],
)
def test_a_parent_off_the_tree_is_refused_on_its_field_and_nothing_changes(steward, code, parent):
    d = dept(code)
    before = d.parent_id
    with pytest.raises(ServiceError) as exc:
        services.update_department(steward, d, parent=dept(parent) if parent else None)
    assert [e.field for e in exc.value.errors] == ["parent"]
    assert dept(code).parent_id == before
    assert not audited("accounts.department.update", code)


def test_the_rule_is_the_tree_for_the_whole_city_too(make_user):
    """Not only a matter of jurisdiction: a city steward cannot cross the tree either."""
    city = make_user("city_steward", "steward", "440300")
    with pytest.raises(ServiceError) as exc:
        services.update_department(city, dept(f"{BAOAN}-ZZ"), parent=dept(f"{NANSHAN}-ZZ"))
    assert exc.value.errors[0].field == "parent"
    assert "宝安区" not in exc.value.errors[0].message  # it names the right one: the city's
    assert "440300-ZZ" in exc.value.errors[0].message
    assert dept(f"{BAOAN}-ZZ").parent.code == "440300-ZZ"


def test_the_parent_the_tree_gives_is_accepted(steward):
    """Setting the superior the tree gives (here after someone left it empty) is kept and
    audited, whether it is above the steward's jurisdiction (the city's centre) or inside."""
    Department.objects.filter(code__in=[f"{BAOAN}-ZZ", f"{STREET}-ZZ"]).update(parent=None)
    services.update_department(steward, dept(f"{BAOAN}-ZZ"), parent=dept("440300-ZZ"))
    services.update_department(steward, dept(f"{STREET}-ZZ"), parent=f"{BAOAN}-ZZ")  # or a code
    assert dept(f"{BAOAN}-ZZ").parent.code == "440300-ZZ"
    assert dept(f"{STREET}-ZZ").parent.code == f"{BAOAN}-ZZ"
    assert audited("accounts.department.update", f"{BAOAN}-ZZ")


def test_a_department_outside_the_jurisdiction_is_unknown(steward):
    with pytest.raises(NotFound):
        services.update_department(steward, dept(f"{NANSHAN}-ZZ"), name="南山")
    assert dept(f"{NANSHAN}-ZZ").name == "南山区综治中心"


def test_the_admin_refuses_another_districts_centre_as_a_form_error(admin_client):
    """The reviewer's reproduction: 宝安's steward re-parents 宝安区综治中心 to 南山's."""
    zz = dept(f"{BAOAN}-ZZ")
    r = admin_client.post(change_url(zz.code), form_of(zz, parent=dept(f"{NANSHAN}-ZZ").pk))
    assert r.status_code == 200
    assert "parent" in r.context["adminform"].form.errors
    assert dept(zz.code).parent.code == "440300-ZZ"
    assert not audited("accounts.department.update", zz.code)


def test_the_admin_shows_the_tree_rule_on_the_parent_field(admin_client):
    """A department the steward may see but that is not the superior: the service's reason."""
    zz = dept(f"{BAOAN}-ZZ")
    r = admin_client.post(change_url(zz.code), form_of(zz, parent=dept(f"{STREET}-ZZ").pk))
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert "上一级区域的综治中心" in errors["parent"][0]
    assert dept(zz.code).parent.code == "440300-ZZ"


def test_the_admin_keeps_and_audits_an_ordinary_edit(admin_client):
    zz = dept(f"{BAOAN}-ZZ")
    r = admin_client.post(
        change_url(zz.code), form_of(zz, name="宝安区综治中心（新）", phone="0755-1")
    )
    assert r.status_code == 302
    zz = dept(zz.code)
    assert (zz.name, zz.phone, zz.parent.code) == ("宝安区综治中心（新）", "0755-1", "440300-ZZ")
    assert audited("accounts.department.update", zz.code)


def test_code_kind_and_region_stay_read_only_on_change(admin_client):
    zz = dept(f"{BAOAN}-ZZ")
    page = admin_client.get(change_url(zz.code)).content.decode()
    assert 'name="region"' not in page and 'name="code"' not in page
    r = admin_client.post(change_url(zz.code), form_of(zz, region=NANSHAN, code="X-ZZ"))
    assert r.status_code == 302
    assert (dept(zz.code).region_id, dept(zz.code).kind) == (BAOAN, "centre")


# --- adding a department (finding 6) -----------------------------------------------------------
NEW = {
    "code": f"{BAOAN}-QX",
    "name": "宝安区气象局",
    "kind": "functional",
    "sector": "QX",
    "region": BAOAN,
    "active": "on",
}


def test_the_admin_adds_a_department_through_the_service(admin_client):
    page = admin_client.get(ADD)
    assert page.status_code == 200 and 'name="region"' in page.content.decode()
    r = admin_client.post(ADD, NEW)
    assert r.status_code == 302
    d = dept(f"{BAOAN}-QX")
    assert (d.name, d.kind, d.sector, d.region_id, d.parent_id) == (
        "宝安区气象局",
        "functional",
        "QX",
        BAOAN,
        None,
    )
    rec = AuditRecord.objects.get(action="accounts.department.create", object_id=str(d.pk))
    assert rec.actor == "ba_steward"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"region": ""}, "region"),  # was a server error: NOT NULL region_id
        ({"region": NANSHAN, "code": f"{NANSHAN}-QX"}, "region"),  # outside the jurisdiction
        ({"region": "44030601700101", "code": "44030601700101-QX"}, "region"),  # a grid
        ({"region": STREET, "code": f"{STREET}-QX"}, "region"),  # departments: city/district
        ({"code": f"{BAOAN}-ZZZ"}, "code"),  # not <region>-<sector>
        ({"code": f"{BAOAN}-ZJ", "sector": "ZJ"}, "code"),  # exists already
        ({"sector": "qx1"}, "sector"),
        ({"sector": ""}, "sector"),
        ({"name": "<b>气象</b>"}, "name"),
        ({"parent": "CG"}, "parent"),  # city CG: another sector (set by id below)
        ({"kind": "centre", "sector": "", "code": f"{BAOAN}-ZZ"}, "code"),  # one per node
        ({"kind": "street_office", "sector": "", "code": f"{BAOAN}-JD"}, "region"),
        ({"kind": "wizard"}, "kind"),
    ],
)
def test_bad_input_on_add_is_a_form_error_and_adds_nothing(admin_client, changes, field):
    if changes.get("parent"):
        changes = changes | {"parent": dept(f"440300-{changes['parent']}").pk}
    before = Department.objects.count()
    r = admin_client.post(ADD, {k: v for k, v in (NEW | changes).items() if v != ""})
    assert r.status_code == 200
    assert field in r.context["adminform"].form.errors
    assert Department.objects.count() == before
    assert not AuditRecord.objects.filter(action="accounts.department.create").exists()


def test_the_service_adds_a_centre_under_the_centre_above(steward):
    """A centre for a node that has none (here: removed first) must name the centre above."""
    zz = dept(f"{STREET}001-ZZ")
    Department.objects.filter(pk=zz.pk).update(code="RETIRED", region_id=STREET)
    fields = dict(
        code=f"{STREET}001-ZZ", name="新社区综治中心", kind="centre", region=f"{STREET}001"
    )
    for parent in (None, f"{NANSHAN}-ZZ", f"{BAOAN}-ZZ"):
        with pytest.raises(ServiceError) as exc:
            services.create_department(steward, **fields, parent=parent)
        assert [e.field for e in exc.value.errors] == ["parent"]
    made = services.create_department(steward, **fields, parent=f"{STREET}-ZZ")
    assert (made.sector, made.parent.code) == ("ZZ", f"{STREET}-ZZ")


def test_the_service_refuses_a_region_outside_the_jurisdiction(steward):
    with pytest.raises(ServiceError) as exc:
        services.create_department(
            steward,
            code=f"{NANSHAN}-QX",
            name="南山区气象局",
            kind="functional",
            region=NANSHAN,
            sector="QX",
        )
    assert [e.field for e in exc.value.errors] == ["region"]
    assert not Department.objects.filter(code=f"{NANSHAN}-QX").exists()


def test_a_sector_change_that_would_strand_the_departments_below_is_refused(make_user):
    """A functional department's superior is the one of its sector one level up: the city's
    城管 cannot turn into another sector while the districts' 城管 hang under it."""
    city = make_user("city_steward", "steward", "440300")
    with pytest.raises(ServiceError) as exc:
        services.update_department(city, dept("440300-CG"), sector="QX")
    assert [e.field for e in exc.value.errors] == ["sector"]
    assert "的条线为 CG" in exc.value.errors[0].message  # names a district's 城管
    assert dept("440300-CG").sector == "CG"
    assert not audited("accounts.department.update", "440300-CG")


def test_a_code_added_by_someone_else_meanwhile_is_a_field_error(steward, monkeypatch):
    """Two stewards adding the same code at once: the second gets a field error on ``code``
    (the database's unique constraint decides), not a server error, and no addition is
    recorded."""
    real_clean = services._full_clean

    def someone_else_first(department):
        real_clean(department)
        Department.objects.create(
            code=department.code, name="同时添加", kind="functional", region_id=BAOAN, sector="QX"
        )

    monkeypatch.setattr(services, "_full_clean", someone_else_first)
    with pytest.raises(ServiceError) as exc:
        services.create_department(
            steward,
            code=f"{BAOAN}-QX",
            name="宝安区气象局",
            kind="functional",
            region=BAOAN,
            sector="QX",
        )
    assert [e.field for e in exc.value.errors] == ["code"]
    assert not AuditRecord.objects.filter(action="accounts.department.create").exists()


def test_migrate_gives_the_role_groups_a_permission_a_release_added(db):
    """An instance upgraded with ``migrate`` alone: the dispatchers' group lacked the new
    call-back permission (events.reveal_reporter) until the next ``init``."""
    from django.contrib.auth.models import Group, Permission
    from django.core.management.sql import emit_post_migrate_signal

    group = Group.objects.get(name="dispatcher")
    group.permissions.remove(Permission.objects.get(codename="reveal_reporter"))
    assert not group.permissions.filter(codename="reveal_reporter").exists()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert group.permissions.filter(codename="reveal_reporter").exists()
