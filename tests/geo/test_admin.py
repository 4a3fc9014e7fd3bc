"""Renaming a node in the admin: names reach every map and table, so markup is refused and
nothing changes; a plain new name is kept and audited."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.audit.models import AuditRecord
from civicgrid.geo.models import Region

pytestmark = pytest.mark.django_db

STREET = "440306017"


def _rename(make_user, name: str):
    client = Client()
    client.force_login(make_user("ba_steward", "steward", "440306"))
    return client.post(f"/admin/geo/region/{STREET}/change/", {"name": name})


def test_markup_in_a_name_is_refused_and_nothing_changes(make_user):
    before = Region.objects.get(code=STREET).name
    r = _rename(make_user, '<img src=x onerror="alert(1)">')
    assert r.status_code == 200 and "不能包含 &lt; 或 &gt;" in r.content.decode()
    assert Region.objects.get(code=STREET).name == before
    assert not AuditRecord.objects.filter(action="geo.region.rename").exists()


def test_a_plain_name_is_kept_and_audited(make_user):
    r = _rename(make_user, "  新安街道（新）  ")
    assert r.status_code == 302
    assert Region.objects.get(code=STREET).name == "新安街道（新）"
    assert AuditRecord.objects.filter(action="geo.region.rename", object_id=STREET).exists()
