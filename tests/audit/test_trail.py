"""The audit trail is append-only and `civicgrid audit verify` finds any tampering."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from civicgrid.audit import services as audit
from civicgrid.audit.models import AppendOnlyError, AuditRecord
from civicgrid.audit.selectors import verify_trail
from civicgrid.core.context import request_context

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditRecord]:
    return [
        audit.record(
            "test.action",
            actor="tester",
            object_type="test.thing",
            object_id=str(i),
            after={"value": i, "名称": "测试"},
        )
        for i in range(n)
    ]


def _drop_guard() -> None:
    """Simulate someone with direct database access: the triggers go first."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit_auditrecord")
        else:
            cur.execute("DROP TRIGGER IF EXISTS audit_no_update")
            cur.execute("DROP TRIGGER IF EXISTS audit_no_delete")


def test_records_form_a_chain_and_verify_passes(capsys):
    records = _append(5)
    for prev, rec in itertools.pairwise(records):
        assert rec.seq == prev.seq + 1
        assert rec.prev_hash == prev.hash
    assert verify_trail().ok
    call_command("audit", "verify")
    assert "审计链完好" in capsys.readouterr().out


def test_records_share_the_request_id_of_their_request():
    with request_context("req-1234abcd"):
        a, b = _append(2)
    assert a.request_id == b.request_id == "req-1234abcd"


def test_orm_refuses_changes_and_deletes():
    rec = _append(1)[0]
    rec.actor = "someone else"
    with pytest.raises(AppendOnlyError):
        rec.save()
    with pytest.raises(AppendOnlyError):
        rec.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=rec.pk).update(actor="x")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=rec.pk).delete()


def test_database_trigger_refuses_raw_update():
    rec = _append(1)[0]
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE audit_auditrecord SET actor = 'x' WHERE id = %s", [rec.pk])


def test_verify_names_an_altered_record():
    records = _append(4)
    target = records[1]
    _drop_guard()
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditrecord SET summary = %s WHERE id = %s",
            ['{"after": {"value": 999}}', target.pk],
        )
    verdict = verify_trail()
    assert not verdict.ok
    assert verdict.bad_seq == target.seq
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("audit", "verify")


def test_verify_names_a_removed_record():
    records = _append(4)
    target = records[2]
    _drop_guard()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditrecord WHERE id = %s", [target.pk])
    verdict = verify_trail()
    assert not verdict.ok
    assert verdict.bad_seq == target.seq
    assert "缺失" in verdict.problem


def test_verify_detects_records_cut_from_the_end():
    records = _append(3)
    _drop_guard()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditrecord WHERE id = %s", [records[-1].pk])
    verdict = verify_trail()
    assert not verdict.ok
    assert verdict.bad_seq == records[-1].seq


def test_a_rolled_back_change_leaves_no_record():
    before = AuditRecord.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        _append(1)
        raise RuntimeError("business rule failed")
    assert AuditRecord.objects.count() == before
    assert verify_trail().ok


def test_the_admin_shows_an_auditor_only_their_jurisdiction(make_user):
    """The admin reads the trail through the same jurisdiction as the API: a 南山 auditor
    never sees who revealed whose data in 宝安, nor why."""
    from django.test import Client

    from civicgrid.geo.models import Region

    baoan = Region.objects.get(code="440306").path
    nanshan = Region.objects.get(code="440305").path
    for n, (path, reason) in enumerate([(baoan, "宝安的理由"), (nanshan, "南山的理由")], 1):
        audit.record(
            "pii.reveal",
            actor="tester",
            object_type="registry.person",
            object_id=str(n),
            region_path=path,
            after={"reason": reason},
        )
    client = Client()
    client.force_login(make_user("ns_auditor", "auditor", "440305"))
    page = client.get("/admin/audit/auditrecord/?action__exact=pii.reveal")
    assert page.status_code == 200
    ids = [r.object_id for r in page.context["cl"].result_list]
    assert ids == ["2"]
    baoan_seq = AuditRecord.objects.get(object_id="1", action="pii.reveal").seq
    assert client.get(f"/admin/audit/auditrecord/{baoan_seq}/change/").status_code in (302, 404)
