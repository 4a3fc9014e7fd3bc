"""Outbound webhooks: every status change of an event becomes a signed notice to each
subscriber whose region holds the event.

``record`` runs inside the action's transaction (called by the one place the timeline is
written) and only writes pending ``Delivery`` rows, in a savepoint: whatever goes wrong there
is logged and the action goes on. ``deliver_due`` sends them later, outside any transaction —
from the server's scheduler thread in the embedded mode, from Celery workers in production —
and retries failures with exponential backoff until ``MAX_ATTEMPTS``; every attempt is logged
on its delivery.

Signature: ``X-Civicgrid-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's
secret of ``"<X-Civicgrid-Timestamp>." + body``; receivers check it with :func:`verify` (or
the same three lines) and refuse old timestamps to stop replays. For a day after the secret is
rotated, ``X-Civicgrid-Signature-Previous`` carries the signature with the old secret: a
receiver that checks both headers switches to the new secret whenever it likes in that day.
Delivery is at least once (a process that dies between the answer and its bookkeeping sends
again after the lease), so receivers drop repeats by ``X-Civicgrid-Delivery``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from civicgrid.accounts import pii
from civicgrid.audit import services as audit
from civicgrid.core.errors import FieldError, ServiceError
from civicgrid.core.memo import StampedMemo
from civicgrid.webhooks.models import Delivery, Subscription

log = logging.getLogger(__name__)

KIND = "event.status_changed"
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=6)
LEASE = dt.timedelta(seconds=60)  # a claimed delivery is left alone this long
TIMEOUT = 5.0
USER_AGENT = "civicgrid-webhooks/1"


# --- subscriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sub:
    pk: int
    path: str  # region path; "" = citywide


def _stamp() -> tuple:
    a = Subscription.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    return (a["n"], a["t"])


def _build() -> list[_Sub]:
    return [
        _Sub(s.pk, s.region.path if s.region_id else "")
        for s in Subscription.objects.filter(active=True).select_related("region")
    ]


_memo = StampedMemo(_stamp, _build)
_fresh_until = 0.0


def reset() -> None:
    global _fresh_until
    _memo.reset()
    _fresh_until = 0.0


def _subscribers() -> list[_Sub]:
    """Active subscriptions, from memory; the stamp query that refreshes them runs at most
    every few seconds, in a savepoint, so even a failing query leaves the action's
    transaction usable."""
    global _fresh_until
    if time.monotonic() < _fresh_until:
        return _memo.get()
    with transaction.atomic():
        subs = _memo.get()
    _fresh_until = time.monotonic() + _memo.every
    return subs


def check_url(url: str) -> None:
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise ServiceError("输入有误", [FieldError("url", "须为 http:// 或 https:// 地址")])


@transaction.atomic
def subscribe(
    actor, name: str, url: str, region_code: str | None = None
) -> tuple[Subscription, str]:
    """A new subscription; returns it with its signing secret, shown this once."""
    from civicgrid.geo.models import Region

    check_url(url)
    if not (name or "").strip():
        raise ServiceError("输入有误", [FieldError("name", "必填")])
    region = None
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise ServiceError("输入有误", [FieldError("region", f"区域 {region_code} 不存在")])
    secret = "whsec_" + secrets.token_hex(24)
    sub = Subscription.objects.create(
        name=name.strip()[:100], url=url, region=region, secret_enc=pii.cipher().encrypt(secret)
    )
    audit.record(
        "webhooks.subscribe",
        actor=actor,
        obj=sub,
        after={"name": sub.name, "url": url, "region": region_code or ""},
    )
    transaction.on_commit(reset)
    reset()
    return sub, secret


ROTATION_OVERLAP = dt.timedelta(hours=24)
EDITABLE = ("name", "url", "region", "active")


def _require(actor, perm: str) -> None:
    if hasattr(actor, "has_perm") and not actor.has_perm(perm):
        raise PermissionDenied("无权修改 Webhook 订阅")


@transaction.atomic
def update_subscription(actor, sub: Subscription, **changes) -> Subscription:
    """Change a subscription's name, URL, region or state, checked like a new one and audited:
    a changed URL sends the city's events somewhere else. Only these columns are written, so
    an edit never undoes a rotation of the secret made meanwhile."""
    _require(actor, "webhooks.change_subscription")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ServiceError("不可修改的字段", [FieldError(f, "不可修改") for f in sorted(unknown)])
    if "url" in changes:
        check_url(changes["url"] or "")
    if "name" in changes and not (changes["name"] or "").strip():
        raise ServiceError("输入有误", [FieldError("name", "必填")])
    sub = Subscription.objects.select_for_update().get(pk=sub.pk)
    before = {k: str(getattr(sub, k) or "") for k in changes}
    for key, value in changes.items():
        setattr(sub, key, value.strip()[:100] if key == "name" else value)
    sub.save(update_fields=[*changes, "updated_at"])
    audit.record(
        "webhooks.update",
        actor=actor,
        obj=sub,
        before=before,
        after={k: str(getattr(sub, k) or "") for k in changes},
    )
    transaction.on_commit(reset)
    return sub


@transaction.atomic
def rotate_secret(actor, sub: Subscription) -> str:
    """A new signing secret, returned to be shown this once. The old one keeps signing beside
    it for ``ROTATION_OVERLAP``, so the receiver can switch over without dropping notices.
    Rotating again within that day retires the oldest at once (what a leaked secret needs)."""
    _require(actor, "webhooks.change_subscription")
    sub = Subscription.objects.select_for_update().get(pk=sub.pk)
    secret = "whsec_" + secrets.token_hex(24)
    sub.previous_secret_enc = sub.secret_enc
    sub.previous_until = timezone.now() + ROTATION_OVERLAP
    sub.secret_enc = pii.cipher().encrypt(secret)
    sub.save(update_fields=["secret_enc", "previous_secret_enc", "previous_until", "updated_at"])
    audit.record(
        "webhooks.rotate_secret",
        actor=actor,
        obj=sub,
        after={"old_secret_valid_until": sub.previous_until.isoformat(timespec="seconds")},
    )
    return secret


def _secrets(sub: Subscription, now: dt.datetime) -> list[str]:
    """The secrets a notice is signed with now: the current one, and the previous one during
    the overlap after a rotation."""
    cipher = pii.cipher()
    out = [cipher.decrypt(sub.secret_enc)]
    if sub.previous_secret_enc and sub.previous_until and now < sub.previous_until:
        out.append(cipher.decrypt(sub.previous_secret_enc))
    return out


# --- recording (inside the action's transaction) -------------------------------------------


def _payload(uid: str, event, entry) -> dict:
    from civicgrid.accounts.pii import redact_text as redact
    from civicgrid.events import workflow
    from civicgrid.events.selectors import category_ref, department_ref

    return {
        "id": uid,
        "type": KIND,
        "occurred_at": timezone.localtime(entry.at).isoformat(),
        "event": {
            "number": event.number,
            "status": event.status,
            "status_label": workflow.STATUS_LABELS.get(event.status, event.status),
            "open311_status": "closed" if event.status in workflow.FINAL else "open",
            "channel": event.channel,
            "category": category_ref(event.category_id),
            "department": department_ref(event.department_id),
            "deadline": timezone.localtime(event.deadline).isoformat() if event.deadline else None,
            "grid_code": event.grid_code,
            "district_code": event.district_code,
        },
        "change": {
            "action": entry.action,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            # only what the citizen may read; internal notes stay inside
            "note": redact(entry.note) if entry.public else "",
        },
    }


def record(event, entry) -> int:
    """Pending deliveries for a status change (not for the first "reported" row, which the
    PostgreSQL intake writes in its own single statement; the first change a subscriber hears
    of is the acceptance or closure that follows). Never raises."""
    if not entry.from_status or entry.from_status == entry.to_status:
        return 0
    try:
        path = event.region_path
        subs = [
            s
            for s in _subscribers()
            if not s.path or path == s.path or path.startswith(s.path + ".")
        ]
        if not subs:
            return 0
        now = timezone.now()
        with transaction.atomic():  # a savepoint: a failure here leaves the action intact
            rows = []
            for s in subs:
                uid = secrets.token_hex(16)
                rows.append(
                    Delivery(
                        subscription_id=s.pk,
                        uid=uid,
                        kind=KIND,
                        event_number=event.number or "",
                        payload=_payload(uid, event, entry),
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            Delivery.objects.bulk_create(rows)
        transaction.on_commit(_wake)
        return len(rows)
    except Exception:
        log.exception("could not record webhook deliveries for %s", getattr(event, "number", "?"))
        return 0


_woken = 0.0


def _wake() -> None:
    """Production: ask a worker to send now (at most a few times a second per process). The
    embedded mode's scheduler thread sends every few seconds; nothing is sent inline, so a
    slow subscriber never holds up a request."""
    global _woken
    if not settings.BROKER_URL or time.monotonic() - _woken < 0.2:
        return
    _woken = time.monotonic()
    try:
        from civicgrid.webhooks.tasks import deliver

        deliver.delay()
    except Exception:
        log.exception("could not wake the webhook sender")


# --- sending ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: int = 300,
    previous: str = "",
) -> bool:
    """What a receiver does: the signature (or, in the day after a rotation, the one in
    ``X-Civicgrid-Signature-Previous``) matches and the timestamp is recent."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    expected = sign(secret, timestamp, body)
    return fresh and any(constant_time_compare(expected, s) for s in (signature, previous) if s)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … after the 1st, 2nd, 3rd … failure; at most 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer that is not 2xx: retried, logged


_opener = urllib.request.build_opener(_NoRedirect)


def _send(url: str, secrets_: list[str], delivery: Delivery) -> tuple[int | None, str]:
    """(HTTP status or None, error text) of one POST."""
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Civicgrid-Event": delivery.kind,
            "X-Civicgrid-Delivery": delivery.uid,
            "X-Civicgrid-Timestamp": stamp,
            "X-Civicgrid-Signature": sign(secrets_[0], stamp, body),
        },
    )
    if len(secrets_) > 1:
        request.add_header("X-Civicgrid-Signature-Previous", sign(secrets_[1], stamp, body))
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:500]


@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(now: dt.datetime, limit: int) -> list[Delivery]:
    due = Delivery.objects.filter(state="pending", next_attempt_at__lte=now)
    if not due.exists():
        return []  # the usual case: no write transaction (SQLite would lock the file for it)
    with transaction.atomic():
        qs = Delivery.objects.filter(
            state="pending", next_attempt_at__lte=now, subscription__active=True
        ).order_by("next_attempt_at", "pk")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("subscription")[:limit])
        if rows:
            Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(next_attempt_at=now + LEASE)
    return rows


def deliver_due(limit: int = 100, now: dt.datetime | None = None) -> Report:
    """Send up to ``limit`` due deliveries. Each is claimed first (a lease), sent outside any
    transaction, then marked delivered, rescheduled with backoff, or given up and logged."""
    report = Report()
    wall = timezone.now()
    now = now or wall  # a caller may run the job on another clock (tests, replays)
    for d in _claim(now, limit):
        started = time.monotonic()
        status, error = _send(d.subscription.url, _secrets(d.subscription, wall), d)
        ms = round((time.monotonic() - started) * 1000)
        done = now + (timezone.now() - wall)
        ok = status is not None and 200 <= status < 300
        d.attempts += 1
        d.last_status, d.last_error = status, error
        d.log = [*d.log, {"at": done.isoformat(), "status": status, "error": error, "ms": ms}]
        if ok:
            d.state, d.delivered_at = "delivered", done
            report.delivered += 1
        elif d.attempts >= MAX_ATTEMPTS:
            d.state = "failed"
            report.failed += 1
            log.warning("webhook %s to %s given up: %s", d.uid, d.subscription.url, error)
        else:
            d.next_attempt_at = done + backoff(d.attempts)
            report.retrying += 1
        d.save(
            update_fields=[
                "attempts",
                "last_status",
                "last_error",
                "log",
                "state",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return report


@transaction.atomic
def retry_now(actor, deliveries) -> int:
    """Send these again at the next run (the admin's "retry now"), attempts counted anew."""
    n = 0
    for d in deliveries:
        if d.state == "delivered":
            continue
        d.state, d.attempts, d.next_attempt_at = "pending", 0, timezone.now()
        d.save(update_fields=["state", "attempts", "next_attempt_at"])
        n += 1
    audit.record("webhooks.retry", actor=actor, extra={"deliveries": n})
    return n
