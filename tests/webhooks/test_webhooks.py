"""Outbound webhooks against real local HTTP servers: status changes become signed deliveries,
sent after the action (never inside it), retried with backoff when the target fails, given up
and logged after the last attempt; a broken webhook never stops an intake or an action."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading

import pytest
from django.utils import timezone

from civicgrid.events import services as events
from civicgrid.events.models import Event
from civicgrid.webhooks import services as webhooks
from civicgrid.webhooks.models import Delivery, Subscription
from tests.events.conftest import small_catalogue  # noqa: F401

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server on a local port that records what it is sent and answers ``status``."""

    def __init__(self, status: int = 200):
        self.status = status
        self.received: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def failing():
    r = Receiver(status=500)
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _fresh_subscriptions():
    webhooks.reset()
    yield
    webhooks.reset()


def _closed_port_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: the connection is refused
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def report(small_catalogue, grid_point):  # noqa: F811
    """``report()`` → the number of a new hotline report of rubbish (9801), taken in by the
    hub's intake and then accepted and dispatched automatically."""
    refs = iter(range(1, 1000))

    def file() -> str:
        lon, lat = grid_point()
        event, created = events.submit(
            "test",
            events.Intake(
                channel="hotline",
                source_ref=f"W-{next(refs)}",
                description="小区门口垃圾堆积很多天没有清运",
                category="9801",
                lon=lon,
                lat=lat,
                reporter_name="张三",
                reporter_phone="13812345678",
            ),
        )
        assert created
        return event.number

    return file


def test_status_changes_are_delivered_signed_after_the_action(receiver, report):
    _, secret = webhooks.subscribe("test", "城管系统", receiver.url)
    number = report()  # intake, then automatic 立案 and 派遣
    event = Event.objects.get(number=number)
    assert event.status == "dispatched"
    assert receiver.received == []  # nothing is sent inside the action
    pending = list(Delivery.objects.filter(event_number=number).order_by("pk"))
    assert [
        (d.payload["change"]["from_status"], d.payload["change"]["to_status"]) for d in pending
    ] == [
        ("reported", "accepted"),
        ("accepted", "dispatched"),
    ]
    assert {d.state for d in pending} == {"pending"}

    report_ = webhooks.deliver_due()
    assert (report_.delivered, report_.retrying, report_.failed) == (2, 0, 0)
    assert len(receiver.received) == 2
    first = receiver.received[0]
    headers, body = first["headers"], first["body"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Civicgrid-Event"] == "event.status_changed"
    assert webhooks.verify(
        secret, headers["X-Civicgrid-Timestamp"], body, headers["X-Civicgrid-Signature"]
    )
    assert not webhooks.verify(
        "whsec_wrong", headers["X-Civicgrid-Timestamp"], body, headers["X-Civicgrid-Signature"]
    )
    payload = json.loads(body)
    assert payload["id"] == headers["X-Civicgrid-Delivery"]
    assert payload["event"]["number"] == number
    assert payload["event"]["category"] == {"code": "9801", "name": "暴露垃圾"}
    assert payload["change"]["to_status"] == "accepted"
    text = body.decode()
    assert "13812345678" not in text and "张" not in text  # no personal data
    delivered = Delivery.objects.filter(event_number=number, state="delivered")
    assert delivered.count() == 2
    d = delivered.first()
    assert d.attempts == 1 and d.last_status == 200 and d.delivered_at is not None
    assert len(d.log) == 1 and d.log[0]["status"] == 200
    assert webhooks.deliver_due().delivered == 0  # nothing sent twice


def test_a_failing_target_is_retried_with_backoff_then_given_up_and_logged(failing, report):
    webhooks.subscribe("test", "坏掉的系统", failing.url)
    number = report()
    d = Delivery.objects.filter(event_number=number).order_by("pk").first()
    Delivery.objects.exclude(pk=d.pk).delete()
    now = timezone.now()
    gaps = []
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        got = webhooks.deliver_due(now=now)
        d.refresh_from_db()
        assert d.attempts == attempt and d.last_status == 500
        assert "HTTP 500" in d.last_error and len(d.log) == attempt
        if attempt < webhooks.MAX_ATTEMPTS:
            assert got.retrying == 1 and d.state == "pending"
            gaps.append(d.next_attempt_at - now)
            # not due again before its backoff has passed
            assert webhooks.deliver_due(now=now).retrying == 0
            now = d.next_attempt_at + dt.timedelta(seconds=1)
        else:
            assert got.failed == 1 and d.state == "failed"
    assert len(failing.received) == webhooks.MAX_ATTEMPTS
    seconds = [round(g.total_seconds() / 30) * 30 for g in gaps]
    assert seconds == [30, 60, 120, 240, 480, 960, 1920]
    assert webhooks.deliver_due(now=now + dt.timedelta(days=1)).failed == 0  # given up for good
    # an operator can send it again from the admin
    assert webhooks.retry_now("test", [d]) == 1
    d.refresh_from_db()
    assert (d.state, d.attempts) == ("pending", 0)


def test_an_unreachable_target_is_logged_and_retried(report):
    webhooks.subscribe("test", "不在线的系统", _closed_port_url())
    number = report()
    got = webhooks.deliver_due()
    assert got.retrying == 2
    d = Delivery.objects.filter(event_number=number).first()
    assert d.last_status is None and "Connection refused" in d.last_error
    assert d.next_attempt_at > timezone.now()


def test_subscribers_hear_only_of_their_region(receiver, report):
    webhooks.subscribe("test", "南山区", receiver.url, region_code="440305")
    baoan, _ = webhooks.subscribe("test", "宝安区", receiver.url, region_code="440306")
    number = report()  # in 宝安区
    subs = set(Delivery.objects.filter(event_number=number).values_list("subscription", flat=True))
    assert subs == {baoan.pk}


def test_internal_notes_stay_out_and_unmoved_steps_send_nothing(receiver, report):
    webhooks.subscribe("test", "城管系统", receiver.url)
    number = report()
    Delivery.objects.all().delete()
    events.act("test", number, "comment", {"note": "内部备注", "public": False})
    assert not Delivery.objects.exists()  # the status did not change
    events.act("test", number, "sign")
    events.act("test", number, "resolve", {"note": "已清运"})
    events.act("test", number, "verify", {"note": "内部核查意见"})
    notes = {
        d.payload["change"]["action"]: d.payload["change"]["note"] for d in Delivery.objects.all()
    }
    assert notes == {"sign": "已签收", "resolve": "已清运", "verify": ""}  # sign is public


def test_a_broken_webhook_never_fails_intake_or_an_action(receiver, report, monkeypatch):
    webhooks.subscribe("test", "城管系统", receiver.url)

    def broken(*args, **kwargs):
        raise RuntimeError("payload builder crashed")

    monkeypatch.setattr(webhooks, "_payload", broken)
    number = report()
    event = Event.objects.get(number=number)
    assert event.status == "dispatched"  # intake and the automatic steps went through
    events.act("test", number, "sign")
    assert Event.objects.get(number=number).status == "in_progress"
    assert not Delivery.objects.exists()


def test_a_slow_target_holds_up_no_request(report):
    """The action returns at once even when the subscriber would take seconds to answer:
    sending happens later, in the background job."""
    import time

    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(1)  # accepts the connection, never answers
    try:
        webhooks.subscribe("test", "慢系统", f"http://127.0.0.1:{hang.getsockname()[1]}/")
        started = time.monotonic()
        report()
        assert time.monotonic() - started < webhooks.TIMEOUT
        assert Delivery.objects.filter(state="pending").count() == 2
    finally:
        hang.close()


def test_subscriptions_refuse_bad_urls_and_unknown_regions():
    from civicgrid.core.errors import ServiceError

    with pytest.raises(ServiceError):
        webhooks.subscribe("test", "x", "ftp://example.org/")
    with pytest.raises(ServiceError):
        webhooks.subscribe("test", "x", "https://example.org/", region_code="999999")


def test_the_admin_shows_a_new_secret_once_and_the_delivery_log(receiver, report, db):
    from django.test import Client

    from civicgrid.accounts.models import User
    from civicgrid.webhooks.models import Subscription

    admin = User.objects.create_superuser("root", "root@example.org", "Root-password-2026")
    client = Client()
    client.force_login(admin)
    page = client.post(
        "/admin/webhooks/subscription/add/",
        {"name": "区数字城管", "url": receiver.url, "region": "", "active": "on"},
        follow=True,
    )
    assert page.status_code == 200
    sub = Subscription.objects.get(name="区数字城管")
    shown = [str(m) for m in page.context["messages"]]
    assert any("whsec_" in m for m in shown)
    assert "whsec_" not in sub.secret_enc  # kept encrypted
    report()
    webhooks.deliver_due()
    log = client.get("/admin/webhooks/delivery/")
    assert log.status_code == 200 and "区数字城管" in log.content.decode()
    assert len(receiver.received) == 2
    # an edit goes through the service (checked, audited); a rotation shows the new secret once
    from civicgrid.audit.models import AuditRecord

    client.post(
        f"/admin/webhooks/subscription/{sub.pk}/change/",
        {"name": "区数字城管", "url": "https://hooks.example.org/cg", "region": "", "active": "on"},
    )
    sub.refresh_from_db()
    assert sub.url == "https://hooks.example.org/cg"
    assert AuditRecord.objects.filter(action="webhooks.update", actor="root").exists()
    refused = client.post(
        f"/admin/webhooks/subscription/{sub.pk}/change/",
        {"name": "区数字城管", "url": "ftp://hooks.example.org/cg", "region": "", "active": "on"},
    )
    assert refused.status_code == 200
    assert "须为 http:// 或 https:// 地址" in refused.content.decode()
    sub.refresh_from_db()
    assert sub.url == "https://hooks.example.org/cg"
    before = sub.secret_enc
    page = client.post(
        "/admin/webhooks/subscription/",
        {"action": "rotate", "_selected_action": [sub.pk]},
        follow=True,
    )
    sub.refresh_from_db()
    assert sub.secret_enc != before and sub.previous_secret_enc == before
    assert sum("whsec_" in str(m) for m in page.context["messages"]) == 1


def test_a_failing_subscription_query_leaves_the_action_whole(receiver, report, monkeypatch):
    """On PostgreSQL a failed query spoils the whole transaction unless it ran in a savepoint:
    the action must still commit its step."""
    from django.db import connection

    webhooks.subscribe("test", "城管系统", receiver.url)

    def bad_query():
        with connection.cursor() as cur:
            cur.execute("SELECT * FROM no_such_table_for_webhooks")

    monkeypatch.setattr(webhooks._memo, "_build", bad_query)
    webhooks.reset()
    number = report()
    events.act("test", number, "sign")
    event = Event.objects.get(number=number)
    assert event.status == "in_progress"
    assert event.timeline.filter(action="sign").exists()
    assert not Delivery.objects.exists()


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(receiver, report):
    from civicgrid.audit.models import AuditRecord

    sub, old = webhooks.subscribe("test", "城管系统", receiver.url)
    new = webhooks.rotate_secret("test", sub)
    assert new != old and new.startswith("whsec_")
    assert AuditRecord.objects.filter(action="webhooks.rotate_secret").count() == 1
    report()
    webhooks.deliver_due()
    headers, body = receiver.received[0]["headers"], receiver.received[0]["body"]
    stamp, signature = headers["X-Civicgrid-Timestamp"], headers["X-Civicgrid-Signature"]
    previous = headers["X-Civicgrid-Signature-Previous"]
    # the signature header keeps its one value (with the new secret) ...
    assert signature == webhooks.sign(new, stamp, body)
    # ... and a receiver checking both headers accepts the notice before and after switching
    assert webhooks.verify(new, stamp, body, signature, previous=previous)
    assert webhooks.verify(old, stamp, body, signature, previous=previous)
    assert not webhooks.verify("whsec_other", stamp, body, signature, previous=previous)
    assert old not in str(list(AuditRecord.objects.values_list("summary", flat=True)))
    # after the overlap only the new secret signs
    sub.refresh_from_db()
    sub.previous_until = timezone.now() - dt.timedelta(seconds=1)
    sub.save()
    receiver.received.clear()
    report()
    webhooks.deliver_due()
    headers, body = receiver.received[0]["headers"], receiver.received[0]["body"]
    stamp, signature = headers["X-Civicgrid-Timestamp"], headers["X-Civicgrid-Signature"]
    assert "X-Civicgrid-Signature-Previous" not in headers
    assert webhooks.verify(new, stamp, body, signature)
    assert not webhooks.verify(old, stamp, body, signature)


def test_changing_a_subscription_is_checked_and_audited(receiver):
    from civicgrid.audit.models import AuditRecord
    from civicgrid.core.errors import ServiceError

    sub, _ = webhooks.subscribe("test", "城管系统", receiver.url)
    with pytest.raises(ServiceError) as err:
        webhooks.update_subscription("test", sub, url="ftp://elsewhere.example/hook")
    assert err.value.errors[0].field == "url"
    sub.refresh_from_db()
    assert sub.url == receiver.url
    webhooks.update_subscription("test", sub, url="https://elsewhere.example/hook")
    record = AuditRecord.objects.get(action="webhooks.update")
    assert record.summary["before"] == {"url": receiver.url}
    assert record.summary["after"] == {"url": "https://elsewhere.example/hook"}
    with pytest.raises(ServiceError):
        webhooks.update_subscription("test", sub, secret_enc="x")
    # an edit from an instance loaded before a rotation leaves the rotation in place
    stale = Subscription.objects.get(pk=sub.pk)
    webhooks.rotate_secret("test", sub)
    rotated = Subscription.objects.get(pk=sub.pk).secret_enc
    webhooks.update_subscription("test", stale, name="区城管")
    assert Subscription.objects.get(pk=sub.pk).secret_enc == rotated


def test_a_viewer_of_subscriptions_may_neither_rotate_nor_edit(receiver):
    from django.contrib.auth.models import Permission
    from django.core.exceptions import PermissionDenied
    from django.test import Client

    from civicgrid.accounts.models import User

    sub, _ = webhooks.subscribe("test", "城管系统", receiver.url)
    viewer = User.objects.create_user("wh_viewer", password="Viewer-password-2026")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    viewer = User.objects.get(pk=viewer.pk)
    with pytest.raises(PermissionDenied):
        webhooks.rotate_secret(viewer, sub)
    with pytest.raises(PermissionDenied):
        webhooks.update_subscription(viewer, sub, url="https://evil.example/hook")
    client = Client()
    client.force_login(viewer)
    before = Subscription.objects.get(pk=sub.pk).secret_enc
    page = client.post(
        "/admin/webhooks/subscription/",
        {"action": "rotate", "_selected_action": [sub.pk]},
        follow=True,
    )
    assert "whsec_" not in page.content.decode()
    assert Subscription.objects.get(pk=sub.pk).secret_enc == before
