"""The event hub's actions: the only code that changes events (DESIGN §6).

``submit`` is the one intake every channel uses (API, file import, pages, Open311); ``act``
runs one workflow action, checked against the transition table of ``workflow``, with its
permission, in one transaction, writing one timeline row; ``process`` is the post-intake work
(duplicates, category suggestion, routing and dispatch) that runs inline in the embedded mode
and on Celery workers in production; ``sweep`` is the periodic supervision.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from civicgrid.accounts import pii
from civicgrid.accounts.models import Department
from civicgrid.accounts.scoping import contains
from civicgrid.core import uploads
from civicgrid.core.errors import Conflict, FieldError, NotFound, ServiceError
from civicgrid.core.queries import one
from civicgrid.core.uploads import MAX_PHOTO_BYTES, MAX_PHOTOS  # noqa: F401 — channels' limits
from civicgrid.events import workcal, workflow
from civicgrid.events.calendar_selectors import calendar
from civicgrid.events.catalogue_selectors import catalogue
from civicgrid.events.models import (
    Channel,
    Command,
    CommandTarget,
    Event,
    Outbox,
    Task,
    TimelineEntry,
)
from civicgrid.events.workflow import Status
from civicgrid.geo import selectors as geo
from civicgrid.triage import duplicates
from civicgrid.triage.similarity import degrees_box
from civicgrid.triage.suggest import CONFIDENT, suggestions

SYSTEM = "system"
MAX_DESCRIPTION = 4000
CRS = ("wgs84", "gcj02", "bd09")


# --- who ---------------------------------------------------------------------------------


def _roles(actor) -> frozenset[str]:
    if actor is None or isinstance(actor, str):
        return frozenset()
    return frozenset(actor.roles)


def _is_system(actor) -> bool:
    return actor is None or isinstance(actor, str)


def _actor_fields(actor) -> tuple[str, int | None]:
    if _is_system(actor):
        return actor or SYSTEM, None
    return actor.get_username(), actor.pk


_clock: ContextVar[dt.datetime | None] = ContextVar("civicgrid_events_clock", default=None)


def _now() -> dt.datetime:
    return _clock.get() or timezone.now()


@contextmanager
def clock(at: dt.datetime) -> Iterator[None]:
    """Run actions as if it were ``at`` (the history simulation replays past days)."""
    token = _clock.set(at)
    try:
        yield
    finally:
        _clock.reset(token)


# --- intake -------------------------------------------------------------------------------


@dataclass
class Intake:
    """What a channel hands over. Coordinates in ``crs``; ``photos`` as raw bytes."""

    channel: str
    description: str
    source_ref: str = ""
    title: str = ""
    category: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address: str = ""
    house_code: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    photos: list[bytes] = field(default_factory=list)
    on_spot: bool = False  # a grid worker closes a minor event on patrol (即巡即办)
    answer: str = ""  # a consultation answered at intake
    created_at: dt.datetime | None = None  # a legacy backlog keeps its own times


def existing(channel: str, source_ref: str, actor=None) -> Event | None:
    """The event a retry of ``channel`` + ``source_ref`` refers to. With ``actor``, a key
    someone else's event holds is refused (409) rather than answered with that event:
    reference numbers are guessable, events outside the caller's scope are not theirs."""
    if not source_ref:
        return None
    found = one(Event.objects.filter(channel=channel, source_ref=source_ref))
    if found is not None and actor is not None:
        from civicgrid.events.selectors import visible

        if not visible(actor, found):
            raise Conflict(
                "该渠道下此来源编号已被使用",
                [FieldError("source_ref", "已被使用，请换一个来源编号")],
            )
    return found


CITIZEN_CHANNELS = ("web", "miniprogram")  # a citizen's own account files through these


def _check(data: Intake, actor) -> list[FieldError]:
    errors = []
    if data.channel not in Channel.values:
        errors.append(FieldError("channel", f"渠道须为 {'、'.join(Channel.values)} 之一"))
    if not (data.description or "").strip():
        errors.append(FieldError("description", "必填"))
    elif len(data.description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"不能超过 {MAX_DESCRIPTION} 字"))
    if len(data.source_ref) > 64:
        errors.append(FieldError("source_ref", "不能超过 64 个字符"))
    if data.crs not in CRS:
        errors.append(FieldError("crs", "坐标系须为 wgs84、gcj02 或 bd09"))
    if (data.lon is None) != (data.lat is None):
        errors.append(FieldError("lat" if data.lat is None else "lon", "经纬度须同时提供"))
    if data.lon is None and not data.house_code:
        errors.append(FieldError("location", "缺少位置：请提供经纬度（lon、lat）或房屋编码"))
    if _roles(actor) == {"citizen"} and data.channel not in CITIZEN_CHANNELS:
        errors.append(FieldError("channel", "市民请通过网站或小程序反映（web、miniprogram）"))
    errors += uploads.photo_errors(data.photos)
    if data.on_spot:
        if "grid_worker" not in _roles(actor) and not getattr(actor, "is_superuser", False):
            errors.append(FieldError("on_spot", "只有网格员可以即巡即办"))
        if not data.photos:
            errors.append(FieldError("photos", "即巡即办须附处置照片"))
    return errors


def _place(data: Intake) -> tuple[float | None, float | None, str, str, str]:
    """(lon, lat in WGS84, grid code, building code, house code) — or a 422."""
    from civicgrid.registry.models import House

    lon, lat = data.lon, data.lat
    building_code = ""
    if data.house_code:
        house = (
            House.objects.filter(code=data.house_code)
            .select_related("building")
            .only("code", "building__code", "building__lon", "building__lat")
            .first()
        )
        if house is None:
            raise ServiceError("输入有误", [FieldError("house_code", "房屋编码不存在")])
        building_code = house.building.code
        if lon is None:
            lon, lat, data.crs = house.building.lon, house.building.lat, "wgs84"
    from civicgrid.geo.coords import to_wgs84

    wlon, wlat = float(lon), float(lat)
    if data.crs != "wgs84":
        wlon, wlat = (float(v) for v in to_wgs84(lon, lat, data.crs))
    located = geo.locate(wlon, wlat)  # raises 422 "outside the jurisdiction"
    grid = located.grid["code"]
    if not building_code and data.address:
        building_code = _building_at(grid, data.address)
    return wlon, wlat, grid, building_code, data.house_code


def _building_at(grid_code: str, address: str) -> str:
    """The registry's building with exactly this address in the event's grid, if any."""
    from civicgrid.registry.models import Building

    found = one(
        Building.objects.filter(
            district_code=_places(grid_code)[2],
            grid_code=grid_code,
            address=address.strip(),
        ).values_list("code", flat=True)
    )
    return found or ""


def _places(grid_code: str) -> tuple[dict[str, str], str, str]:
    """{level: region code} for a grid's ancestors, the grid's path and its district code."""
    idx = geo.index()
    places: dict[str, str] = {}
    code: str | None = grid_code
    chain = []
    while code is not None:
        _, level, parent = idx.nodes[code]
        places[level] = code
        chain.append(code)
        code = parent
    return places, ".".join(reversed(chain)), places.get("district", "")


def _centre_for(places: dict[str, str], level: str) -> str:
    for lv in ("community", "street", "district", "city")[
        ("community", "street", "district", "city").index(level) :
    ]:
        if lv in places:
            return f"{places[lv]}-ZZ"
    return f"{places['city']}-ZZ"


def reveal_reporter(actor, number: str, reason: str) -> dict[str, str]:
    """The reporter's clear name and phone, once, with the reason in the access log."""
    from civicgrid.audit import services as audit
    from civicgrid.events.selectors import event_for, may_call_back
    from civicgrid.registry.services import MIN_REASON

    event = event_for(actor, number)
    if not may_call_back(actor, event):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("无权查看诉求人完整信息（部门人员限本部门承办的事件）")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ServiceError(
            "查看完整个人信息须说明理由",
            [FieldError("reason", f"请填写理由（至少 {MIN_REASON} 个字）")],
        )
    cipher = pii.cipher()
    clear = {
        "name": cipher.decrypt(event.reporter_name_enc) if event.reporter_name_enc else "",
        "phone": cipher.decrypt(event.reporter_phone_enc) if event.reporter_phone_enc else "",
    }
    audit.record(
        "pii.reveal",
        actor=actor,
        obj=event,
        extra={"event": event.number, "fields": ["name", "phone"], "reason": reason},
    )
    return clear


def submit(actor, data: Intake) -> tuple[Event, bool]:
    """Take one report from any channel. Returns (event, created); a retry with the same
    ``channel`` + ``source_ref`` returns the first event unchanged."""
    fast = _fast_path(data)
    if not fast:
        found = existing(data.channel, data.source_ref, actor)
        if found is not None:
            return found, False
    try:
        event = _build(actor, data)
    except ServiceError:
        found = existing(data.channel, data.source_ref, actor) if fast else None
        if found is not None:
            return found, False
        raise
    if fast:
        if not _insert_new(event, actor):
            return existing(data.channel, data.source_ref, actor), False
        if settings.CELERY_TASK_ALWAYS_EAGER:
            _process_now(event)
        else:
            transaction.on_commit(_nudge)
        return event, True
    return _save_new(event, actor, data)


def _fast_path(data: Intake) -> bool:
    """Plain reports on PostgreSQL go in as one statement (see ``_insert_new``)."""
    return connection.vendor == "postgresql" and not data.on_spot and not data.answer


def _build(actor, data: Intake) -> Event:
    """Check a report and make its (unsaved) event: located, classified, masked."""
    errors = _check(data, actor)
    cat = catalogue()
    node = None
    if data.category:
        node = cat.nodes.get(data.category)
        if node is None or not node.active:
            errors.append(FieldError("category", f"事项编码 {data.category} 不存在"))
        elif not node.leaf:
            errors.append(
                FieldError("category", f"{data.category}（{node.name}）不是末级事项，请选具体事项")
            )
    if data.on_spot and node is not None and node.leaf and not node.on_spot:
        errors.append(FieldError("on_spot", f"“{node.name}”不属于可即巡即办的事项"))
    if data.answer and node is not None and node.intake_type and node.intake_type != "咨询":
        errors.append(FieldError("answer", "只有咨询类事项可以当场答复办结"))
    if errors:
        raise ServiceError("输入有误", errors)
    lon, lat, grid_code, building_code, house_code = _place(data)
    places, path, district = _places(grid_code)
    if data.on_spot and not _is_system(actor) and not contains(actor, path):
        # closed on patrol counts in that grid's figures: only its own grid workers may
        raise ServiceError("输入有误", [FieldError("location", "即巡即办只能在本人辖区内")])
    picks = None if node else suggestions(cat, data.title, data.description)
    first_level = node.route[0][0] if node and node.route else "district"
    now = _now()
    created = data.created_at or now
    evidence = uploads.store(data.photos, "events") if data.photos else []
    cipher = pii.cipher() if (data.reporter_name or data.reporter_phone) else None
    event = Event(
        channel=data.channel,
        source_ref=data.source_ref,
        title=(data.title or data.description[:30]).strip()[:200],
        description=data.description,
        category_id=node.code if node else None,
        suggested_category_id=picks.best[0] if picks else None,
        suggestion_score=picks.best[1] if picks else None,
        suggestions=picks.as_json() if picks else {},
        intake_type=node.intake_type if node else "",
        urgency=node.urgency if node else "normal",
        status=Status.REPORTED,
        lon=lon,
        lat=lat,
        address=data.address[:200],
        grid_code=grid_code,
        district_code=district,
        region_path=path,
        house_code=house_code,
        building_code=building_code,
        reporter_id=None if _is_system(actor) or not actor.is_authenticated else actor.pk,
        reporter_name=pii.mask_name(data.reporter_name) if data.reporter_name else "",
        reporter_phone=pii.mask_phone(data.reporter_phone) if data.reporter_phone else "",
        reporter_name_enc=cipher.encrypt(data.reporter_name) if data.reporter_name else "",
        reporter_phone_enc=cipher.encrypt(data.reporter_phone) if data.reporter_phone else "",
        centre_id=_department_id(_centre_for(places, first_level)),
        evidence=evidence,
        created_at=created,
    )
    event.answer = data.answer
    return event


def _save_new(event: Event, actor, data: Intake) -> tuple[Event, bool]:
    now = _now()
    created = event.created_at
    try:
        with transaction.atomic():
            _save_numbered(event, created)
            _entry(
                event,
                actor,
                "report",
                "",
                Status.REPORTED,
                note=event.title,
                public=True,
                at=created,
            )
            if data.on_spot:
                _close_directly(event, actor, "close_on_spot", "即巡即办，现场处置完毕", now)
            elif data.answer:
                _close_directly(event, actor, "answer", data.answer, now)
            else:
                Outbox.objects.create(event=event, kind="intake")
                if not settings.CELERY_TASK_ALWAYS_EAGER:
                    transaction.on_commit(_nudge)
    except IntegrityError:
        # the same channel + source_ref arrived concurrently: the first one wins
        found = existing(data.channel, data.source_ref, actor)
        if found is None:
            raise
        return found, False
    if settings.CELERY_TASK_ALWAYS_EAGER and event.status == Status.REPORTED:
        _process_now(event)
    return event, True


def _process_now(event: Event) -> None:
    """The embedded mode: the post-intake work right away. The event is already saved, so a
    failure here is logged and left in the outbox for the scheduler's relay, not lost."""
    try:
        with transaction.atomic():
            process(event.pk)
    except Exception:
        logging.getLogger(__name__).exception("post-intake work for %s failed", event.number)
    event.refresh_from_db()


_FIELDS: dict[type, list] = {}


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, dt.datetime):
            return o.isoformat()  # to the microsecond (Django's encoder stops at the millisecond)
        return super().default(o)


def _record(obj) -> str:
    """An unsaved model instance as one JSON object of column → value (defaults and auto
    times applied), for ``jsonb_populate_record``: the hand-written insert below then never
    drifts from the model, and travels as one parameter instead of fifty."""
    fields = _FIELDS.get(type(obj))
    if fields is None:
        fields = _FIELDS[type(obj)] = [f for f in obj._meta.concrete_fields if not f.primary_key]
    return json.dumps(
        {f.column: f.pre_save(obj, add=True) for f in fields},
        cls=_Encoder,
        ensure_ascii=False,
    )


_DEFAULTS: dict[type, dict[str, tuple[str, Any, bool]]] = {}


def _row(model: type, **values) -> str:
    """``_record(model(**values))`` without building the instance (half the cost of the
    timeline and outbox rows): the model's own defaults, taken once, under ``values``.
    Columns and defaults still come from the model, so the insert keeps following it."""
    defaults = _DEFAULTS.get(model)
    if defaults is None:
        defaults = _DEFAULTS[model] = {
            f.attname: (
                f.column,
                f.get_default(),
                getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False),
            )
            for f in model._meta.concrete_fields
            if not f.primary_key
        }
    if unknown := values.keys() - defaults.keys():
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    doc = {}
    for attname, (column, default, auto) in defaults.items():
        if auto:  # as Django's pre_save: an auto time is the moment of the insert
            doc[column] = timezone.now()
        else:
            doc[column] = values.get(attname, default)
    return json.dumps(doc, cls=_Encoder, ensure_ascii=False)


_INSERT_NEW = """
WITH n AS (SELECT nextval(pg_get_serial_sequence('events_event', 'id')) AS id),
e AS (
    INSERT INTO events_event
    SELECT r.* FROM n, LATERAL jsonb_populate_record(NULL::events_event, %s::jsonb
        || jsonb_build_object('id', n.id, 'number', %s::text || lpad(n.id::text, 7, '0'))) r
    ON CONFLICT (channel, source_ref) WHERE source_ref <> '' DO NOTHING
    RETURNING id, number
),
t AS (
    INSERT INTO events_timelineentry
    SELECT r.* FROM e, LATERAL jsonb_populate_record(NULL::events_timelineentry, %s::jsonb
        || jsonb_build_object('event_id', e.id,
            'id', nextval(pg_get_serial_sequence('events_timelineentry', 'id')))) r
),
o AS (
    INSERT INTO events_outbox
    SELECT r.* FROM e, LATERAL jsonb_populate_record(NULL::events_outbox, %s::jsonb
        || jsonb_build_object('event_id', e.id,
            'id', nextval(pg_get_serial_sequence('events_outbox', 'id')))) r
)
SELECT id, number FROM e
"""


_ONLY_WHEN_ASKED = 2**31 - 1  # a prepare threshold no statement reaches by repetition


def _insert_new(event: Event, actor) -> bool:
    """Event, its first timeline row and its outbox row in one statement — one round trip,
    atomic on its own — with the number made from the key PostgreSQL hands out. A retry
    racing the first submission meets the unique (channel, source_ref) and inserts nothing:
    returns False then."""
    name, actor_id = _actor_fields(actor)
    entry = _row(
        TimelineEntry,
        at=event.created_at,
        actor=name,
        actor_id=actor_id,
        action="report",
        from_status="",
        to_status=Status.REPORTED,
        note=event.title,
        public=True,
    )
    box = _row(Outbox, kind="intake")
    day = f"{timezone.localtime(event.created_at):%Y%m%d}"
    params = [_record(event), day, entry, box]
    # Bound on the server and prepared once per connection: PostgreSQL parses and plans
    # this three-insert statement once, not on every report (Django's cursors bind on the
    # client, which rules preparing out). Same connection, same transaction state.
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:  # Django's default turns preparing off altogether;
        raw.prepare_threshold = _ONLY_WHEN_ASKED  # now only ``prepare=True`` prepares
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cur:
        cur.execute(_INSERT_NEW, params, prepare=True)
        row = cur.fetchone()
    if row is None:
        return False
    event.pk, event.number = row
    event._state.adding = False
    return True


def _save_numbered(event: Event, created: dt.datetime) -> None:
    """Insert the event with its number: the day it came in and its key (``20261126…``).
    PostgreSQL hands out the key first, so the row is written once; SQLite numbers it after."""
    day = f"{timezone.localtime(created):%Y%m%d}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence('events_event', 'id'))")
            event.pk = cur.fetchone()[0]
        event.number = f"{day}{event.pk:07d}"
        event.save(force_insert=True)
        return
    event.save()
    event.number = f"{day}{event.pk:07d}"
    Event.objects.filter(pk=event.pk).update(number=event.number)


def _close_directly(event: Event, actor, action: str, note: str, now) -> None:
    event.accepted_at = event.resolved_at = event.closed_at = now
    event.on_spot = action == "close_on_spot"
    event.status = Status.CLOSED
    event.save()
    _entry(event, actor, action, Status.REPORTED, Status.CLOSED, note=note, public=True)


_nudged = 0.0
NUDGE_SECONDS = 0.2


def _nudge() -> None:
    """Wake the outbox relay on the workers — at most a few times a second per process, so a
    busy intake costs the broker almost nothing and a quiet one is still handled at once.
    (``civicgrid beat`` also runs the relay every few seconds, whatever happens here.)"""
    global _nudged
    now = time.monotonic()
    if now - _nudged < NUDGE_SECONDS:
        return
    _nudged = now
    from civicgrid.events.tasks import relay_outbox

    try:
        relay_outbox.delay()
    except Exception:
        logging.getLogger(__name__).exception("could not wake the outbox relay")


# --- timeline -----------------------------------------------------------------------------


def _entry(
    event: Event,
    actor,
    action: str,
    from_status: str,
    to_status: str,
    *,
    note: str = "",
    public: bool = False,
    department: Department | None = None,
    data: dict | None = None,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    name, actor_id = _actor_fields(actor)
    entry = TimelineEntry.objects.create(
        event=event,
        at=at or _now(),
        actor=name,
        actor_id=actor_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        department=department,
        note=note,
        public=public,
        data=data or {},
    )
    from civicgrid.webhooks.services import record  # pending notices of a status change

    record(event, entry)  # never raises: a webhook cannot fail the action
    return entry


# --- post-intake ----------------------------------------------------------------------------


def process(event_id: int) -> str:
    """Duplicates, category and dispatch for a new event, once: the outbox row is locked and
    marked done in the same transaction, so a redelivered task finds nothing left to do."""
    with transaction.atomic():
        box = one(
            Outbox.objects.select_for_update(skip_locked=True).filter(
                event_id=event_id, kind="intake"
            )
        )
        if box is None or box.done_at is not None:
            return "done-before"  # or being done right now by another worker
        event = Event.objects.select_for_update().get(pk=event_id)
        outcome = "left"
        if event.status == Status.REPORTED:
            outcome = _triage(event)
        _test_pause()
        box.done_at = _now()
        box.attempts += 1
        box.save(update_fields=["done_at", "attempts"])
        return outcome


def _test_pause() -> None:
    """Lets the worker test kill a worker in the middle of the work (never set in use)."""
    import os
    import time

    pause = float(os.environ.get("CIVICGRID_TEST_TASK_PAUSE", "0") or 0)
    if pause:
        time.sleep(pause)


def _candidates(event: Event, radius: int) -> list[duplicates.Candidate]:
    cat = catalogue()
    code = event.category_id or event.suggested_category_id
    related = cat.related(code) if code else set()
    since = event.created_at - dt.timedelta(days=duplicates.WINDOW_DAYS)
    qs = Event.objects.filter(
        status__in=list(workflow.OPEN),
        created_at__gte=since,
        district_code=event.district_code,
    ).exclude(pk=event.pk)
    if related:
        qs = qs.filter(category_id__in=related)
    elif code is None:
        qs = qs.filter(grid_code=event.grid_code)
    if radius > 0 and event.lon is not None:
        w, e, s, n = degrees_box(event.lon, event.lat, radius)
        qs = qs.filter(lon__gte=w, lon__lte=e, lat__gte=s, lat__lte=n)
    rows = qs.order_by("created_at").values_list(
        "number", "title", "description", "lon", "lat", "category_id"
    )[:200]
    return [
        duplicates.Candidate(num, f"{t} {d}", lo, la, cat_id == code)
        for num, t, d, lo, la, cat_id in rows
    ]


def _triage(event: Event) -> str:
    cat = catalogue()
    code = event.category_id or event.suggested_category_id
    radius = cat.nodes[code].radius_m if code in cat.nodes else 250
    strong, weak = duplicates.rank(
        f"{event.title} {event.description}",
        event.lon,
        event.lat,
        _candidates(event, radius),
        radius,
    )
    if weak:
        event.similar = [
            {"number": m.key, "score": m.score, "distance_m": m.distance_m} for m in weak
        ]
        event.save(update_fields=["similar"])
    if strong is not None:
        master = Event.objects.select_for_update().get(number=strong.key)
        _merge(SYSTEM, event, master, f"与 {master.number} 相似度 {strong.score}，自动合并")
        return "merged"
    # the line the suggesting model was validated for (≥ 95 % precision), else the keywords'
    line = (event.suggestions or {}).get("threshold", CONFIDENT)
    confident = (event.suggestion_score or 0) >= line
    if event.category_id is None and event.suggested_category_id and confident:
        event.category_id = event.suggested_category_id
        node = cat.nodes[event.category_id]
        event.intake_type, event.urgency = node.intake_type, node.urgency
        event.save(update_fields=["category", "intake_type", "urgency"])
    if event.category_id is None:
        return "triage"  # waits for a dispatcher
    _accept(SYSTEM, event, note="事项明确，自动立案")
    route = cat.route(event.category_id, _places(event.grid_code)[0])
    if route is None:
        return "accepted"
    try:
        with transaction.atomic():
            _dispatch(
                SYSTEM, event, route.department, list(route.assists), note="按派遣规则自动派遣"
            )
    except ServiceError as exc:
        # a routing rule naming a department outside the event's area (or one since stopped):
        # the event waits, accepted, for the dispatcher instead of failing its whole intake
        _entry(event, SYSTEM, "comment", event.status, event.status, note=f"未能自动派遣：{exc}")
        return "accepted"
    return "dispatched"


# --- workflow actions ----------------------------------------------------------------------


_dept_ids: dict[str, int] = {}
_dept_loaded: dict[str, float] = {}


def _department_id(code: str) -> int | None:
    """A department's key by its code; departments are few (a few thousand) and their codes
    never change, so the first miss loads them all in one query instead of one per centre."""
    pk = _dept_ids.get(code)
    if pk is None and time.monotonic() - _dept_loaded.get(code, -60.0) >= 60:
        _dept_ids.update(Department.objects.values_list("code", "pk"))
        _dept_loaded[code] = time.monotonic()  # a code no department has: asked again in 60 s
        pk = _dept_ids.get(code)
    return pk


def _department(code: str, field: str = "department", event: Event | None = None) -> Department:
    """An active department by code; with ``event``, one whose area covers the event's place
    (the city's, its district's, its street's …): another district's department is not to be
    tasked with it, nor to see it through the task."""
    dept = (
        Department.objects.filter(code=code, active=True)
        .select_related("region")
        .defer("region__geometry")
        .first()
    )
    if dept is None:
        raise ServiceError("输入有误", [FieldError(field, f"机构 {code} 不存在或已停用")])
    if event is not None and event.region_path:
        area = dept.region.path
        if not (event.region_path == area or event.region_path.startswith(area + ".")):
            raise ServiceError("输入有误", [FieldError(field, f"{dept.name}不负责该事件所在区域")])
    return dept


def _calendar_deadline(start: dt.datetime, limit: workcal.Limit | None):
    if limit is None:
        return None
    return workcal.add_limit(calendar(), start, limit)


def _accept(actor, event: Event, note: str = "", category: str | None = None) -> None:
    if category:
        _set_category(event, category)
    before = event.status
    event.status = Status.ACCEPTED
    event.accepted_at = event.accepted_at or _now()
    event.save()
    _entry(event, actor, "accept", before, event.status, note=note or "立案", public=True)


def _set_category(event: Event, code: str) -> None:
    node = catalogue().nodes.get(code)
    if node is None or not node.leaf:
        raise ServiceError(
            "输入有误", [FieldError("category", f"事项编码 {code} 不存在或不是末级")]
        )
    event.category_id = code
    event.intake_type, event.urgency = node.intake_type, node.urgency


def _freeze_deadline(event: Event, start: dt.datetime, force: bool = False) -> None:
    """Deadline and supervision lines from the leaf's limits, counted from ``start``; frozen
    at the first dispatch (a re-dispatch after 退单 keeps it; 重办 starts anew)."""
    if event.deadline is not None and not force:
        return
    node = catalogue().nodes[event.category_id]
    due = _calendar_deadline(start, node.deadline)
    if due is None:
        return
    event.deadline, event.deadline_estimated = due.at, due.estimated
    cal = calendar()
    # 催办 when three quarters of the working time given are used (a limit in days runs from
    # the next workday to its end, so its working time is not N times a day's)
    three_quarters = cal.working_hours_between(start, due.at) * 0.75
    event.remind_at = cal.add_working_hours(start, three_quarters).at
    yellow = _calendar_deadline(start, node.yellow)
    red = _calendar_deadline(start, node.red)
    event.yellow_at = yellow.at if yellow else due.at
    event.red_at = red.at if red else None
    event.supervision = ""


def _dispatch(
    actor,
    event: Event,
    department: str,
    assists: list[str] | None = None,
    note: str = "",
    category: str | None = None,
) -> None:
    if category:
        _set_category(event, category)
    if event.category_id is None:
        raise ServiceError("请先确定事项", [FieldError("category", "派遣前须确定事项编码")])
    lead = _department(department, event=event)
    helpers = [_department(c, "assists", event) for c in (assists or []) if c != department]
    now = _now()
    Task.objects.filter(event=event, status__in=("pending", "signed")).update(
        status="cancelled", finished_at=now
    )
    _freeze_deadline(event, now)
    for dept, is_lead in [(lead, True), *[(h, False) for h in helpers]]:
        Task.objects.create(
            event=event,
            department=dept,
            lead=is_lead,
            status="pending",
            dispatched_at=now,
            deadline=event.deadline,
        )
    before = event.status
    event.status = Status.DISPATCHED
    event.department = lead
    event.dispatched_at = event.dispatched_at or now
    event.departments_count = (
        Task.objects.filter(event=event, lead=True).values("department").distinct().count()
    )
    event.save()
    names = "、".join([lead.name, *[f"{h.name}（协办）" for h in helpers]])
    _entry(
        event,
        actor,
        "dispatch",
        before,
        event.status,
        note=note or f"派遣至 {names}",
        public=True,
        department=lead,
        data={"department": lead.code, "assists": [h.code for h in helpers]},
    )
    _check_problem(event, actor)


def _merge(actor, event: Event, master: Event, note: str = "") -> None:
    if master.pk == event.pk or master.status not in workflow.OPEN:
        raise Conflict(f"不能合并到 {master.number}：该事件已办结或就是本事件")
    before = event.status
    event.status = Status.MERGED
    event.master = master
    event.save()
    master.supporters = F("supporters") + 1 + event.supporters
    master.save(update_fields=["supporters"])
    master.refresh_from_db(fields=["supporters"])
    _entry(
        event,
        actor,
        "merge",
        before,
        Status.MERGED,
        note=note or f"与 {master.number} 为同一问题，已合并办理，请关注该编号",
        public=True,
        data={"master": master.number},
    )
    _entry(
        master,
        actor,
        "supporter",
        master.status,
        master.status,
        note=f"{event.number} 反映同一问题，已合并（附议 {master.supporters} 人）",
        data={"merged": event.number},
    )


def _check_problem(event: Event, actor) -> None:
    """问题工单: flag and escalate once when the re-handling counts reach the threshold."""
    if event.problem:
        return
    if workflow.is_problem(
        returned=event.returned_count,
        reopened=event.reopened_count,
        departments=event.departments_count,
        rework=event.rework_count,
    ):
        event.problem = True
        event.save(update_fields=["problem"])
        # the system flags and escalates, whoever's action crossed the line
        _escalate(SYSTEM, event, "多次退单、重办或经手 3 个以上部门，列为问题工单，提级督办")


def _escalate(actor, event: Event, note: str) -> None:
    centre = event.centre
    parent = centre.parent if centre is not None else None
    if parent is None:
        _entry(event, actor, "escalate", event.status, event.status, note=note + "（已在最高层级）")
        return
    event.centre = parent
    event.save(update_fields=["centre"])
    _entry(
        event,
        actor,
        "escalate",
        event.status,
        event.status,
        note=f"{note}：由 {centre.name} 上报至 {parent.name}",
        department=parent,
        data={"from": centre.code, "to": parent.code},
    )


def _my_task(actor, event: Event, states=("pending", "signed")) -> Task:
    if _is_system(actor) or actor.is_superuser:
        task = event.tasks.filter(status__in=states, lead=True).first()
    else:
        task = event.tasks.filter(status__in=states, department_id=actor.department_id).first()
    if task is None:
        raise NotFound(f"事件 {event.number} 没有派给本单位的待办任务")
    return task


# Each handler takes (actor, event, params) and does the action's work; ``act`` wraps them.


def _do_accept(actor, event, p):
    _accept(actor, event, p.get("note", ""), p.get("category"))


def _do_reject(actor, event, p):
    reason = _required(p, "note", "不予受理须说明理由")
    event.status = Status.REJECTED
    event.closed_at = _now()
    event.save()
    _entry(event, actor, "reject", Status.REPORTED, Status.REJECTED, note=reason, public=True)


def _do_merge(actor, event, p):
    number = _required(p, "master", "须给出合并到的事件编号")
    master = one(Event.objects.select_for_update().filter(number=number))
    if master is None or not _visible(actor, master):
        raise ServiceError("输入有误", [FieldError("master", f"事件 {number} 不存在")])
    _merge(actor, event, master, p.get("note", ""))


def _do_dispatch(actor, event, p):
    category = p.get("category") or None
    if category:
        _set_category(event, category)
    department = p.get("department")
    assists = list(p.get("assists") or [])
    if not department:
        if event.category_id is None:
            raise ServiceError("请先确定事项", [FieldError("category", "派遣前须确定事项编码")])
        level = None
        if not _is_system(actor) and actor.department_id and actor.department.kind == "centre":
            level = actor.department.region.level
            level = level if level in ("community", "street", "district", "city") else None
        route = catalogue().route(event.category_id, _places(event.grid_code)[0], level)
        if route is None:
            raise ServiceError("无法自动确定责任单位", [FieldError("department", "请指定处置单位")])
        department, assists = route.department, assists or list(route.assists)
    _dispatch(actor, event, department, assists, p.get("note", ""))


def _do_sign(actor, event, p):
    task = _my_task(actor, event, ("pending",))
    task.status, task.signed_at = "signed", _now()
    task.save()
    before = event.status
    if task.lead:
        event.status = Status.IN_PROGRESS
        event.save()
    _entry(
        event,
        actor,
        "sign",
        before,
        event.status,
        note=p.get("note") or "已签收",
        department=task.department,
        public=True,
    )


def _do_return(actor, event, p):
    reason = _choice(p, "reason", workflow.RETURN_REASONS, "退单原因")
    task = _my_task(actor, event)
    now = _now()
    task.status, task.finished_at, task.return_reason = "returned", now, reason
    task.save()
    if not task.lead:
        _entry(
            event,
            actor,
            "return",
            event.status,
            event.status,
            department=task.department,
            note=f"协办退回：{workflow.RETURN_REASONS[reason]}。{p.get('note', '')}",
        )
        return
    Task.objects.filter(event=event, status__in=("pending", "signed")).update(
        status="cancelled", finished_at=now
    )
    before = event.status
    event.status = Status.RETURNED
    event.returned_count += 1
    event.save()
    _entry(
        event,
        actor,
        "return",
        before,
        Status.RETURNED,
        note=f"{workflow.RETURN_REASONS[reason]}。{p.get('note', '')}".strip(),
        department=task.department,
        data={"reason": reason},
    )
    _check_problem(event, actor)


def _do_contact(actor, event, p):
    task = _my_task(actor, event)
    event.contacted_at = event.contacted_at or _now()
    event.save(update_fields=["contacted_at"])
    _entry(
        event,
        actor,
        "contact",
        event.status,
        event.status,
        department=task.department,
        note=p.get("note") or "已联系诉求人",
    )


MAX_EXTENSION_DAYS = 60  # working days; a case needing more is a new case, not an extension
EXTENSION_REASON_MAX = Task._meta.get_field("extension_reason").max_length
ON_SCENE_WITHIN = dt.timedelta(days=30)


def _do_request_extension(actor, event, p):
    task = _my_task(actor, event)
    text = _required(p, "limit", "须给出延期时长，如 2d")
    try:
        limit = workcal.parse_limit(text)
    except ValueError as exc:
        raise ServiceError("输入有误", [FieldError("limit", str(exc))]) from None
    per_day = calendar().hours.per_day
    if limit.hours(per_day) > per_day * MAX_EXTENSION_DAYS or len(str(limit)) > 8:
        raise ServiceError(
            "输入有误",
            [FieldError("limit", f"延期不能超过 {MAX_EXTENSION_DAYS} 个工作日，如 2d 或 4h")],
        )
    reason = _required(p, "note", "须说明延期理由")
    if len(reason) > EXTENSION_REASON_MAX:
        raise ServiceError(
            "输入有误", [FieldError("note", f"延期理由不能超过 {EXTENSION_REASON_MAX} 字")]
        )
    task.extension_status, task.extension_limit, task.extension_reason = (
        "requested",
        str(limit),
        reason,
    )
    task.save()
    _entry(
        event,
        actor,
        "request_extension",
        event.status,
        event.status,
        note=reason,
        department=task.department,
        data={"limit": str(limit)},
    )


def _do_grant_extension(actor, event, p):
    task = event.tasks.filter(extension_status="requested").first()
    if task is None:
        raise Conflict("没有待审批的延期申请", [FieldError("action", "没有待审批的延期申请")])
    granted = p.get("granted", True) not in (False, "false", "0", 0)
    task.extension_status = "granted" if granted else "refused"
    note = p.get("note", "")
    if granted and event.deadline is not None:
        cal, limit = calendar(), workcal.parse_limit(task.extension_limit)
        due = workcal.add_limit(cal, event.deadline, limit)
        event.deadline, event.deadline_estimated = due.at, event.deadline_estimated or due.estimated
        # every line moves by the same working time (a wall-clock shift could land a red card
        # on a holiday, or days late); a day counts a working day's hours
        more = limit.hours(cal.hours.per_day)

        def later(at):
            return cal.add_working_hours(at, more).at if at else None

        event.yellow_at = later(event.yellow_at) or due.at
        event.red_at, event.remind_at = later(event.red_at), later(event.remind_at)
        event.supervision = ""
        event.save()
        # the lead's and the assisting departments' tasks share the event's deadline
        Task.objects.filter(event=event, status__in=("pending", "signed")).exclude(
            pk=task.pk
        ).update(deadline=due.at)
        task.deadline = due.at
        new = timezone.localtime(due.at)
        note = note or f"同意延期 {task.extension_limit}，新时限 {new:%Y-%m-%d %H:%M}"
    task.save()
    _entry(
        event,
        actor,
        "grant_extension",
        event.status,
        event.status,
        public=granted,
        note=note or "不同意延期",
        data={"granted": granted, "limit": task.extension_limit},
    )


def _do_resolve(actor, event, p):
    result = _required(p, "note", "须填写处置结果")
    task = _my_task(actor, event, ("signed",))
    now = _now()
    task.status, task.finished_at = "resolved", now
    task.save()
    if not task.lead:
        _entry(
            event,
            actor,
            "resolve",
            event.status,
            event.status,
            note=f"协办完成：{result}",
            department=task.department,
        )
        return
    event.status, event.resolved_at = Status.RESOLVED, now
    event.save()
    _entry(
        event,
        actor,
        "resolve",
        Status.IN_PROGRESS,
        Status.RESOLVED,
        note=result,
        public=True,
        department=task.department,
    )


def _do_verify(actor, event, p):
    passed = p.get("passed", True) not in (False, "false", "0", 0)
    note = p.get("note", "")
    if passed:
        event.status, event.verified_at = Status.VERIFIED, _now()
        event.save()
        _entry(event, actor, "verify", Status.RESOLVED, Status.VERIFIED, note=note or "核查通过")
        return
    if not note:
        raise ServiceError("输入有误", [FieldError("note", "核查不通过须说明原因")])
    task = event.tasks.filter(lead=True, status="resolved").order_by("-pk").first()
    if task is not None:
        task.status, task.finished_at = "signed", None
        task.save()
    event.status, event.resolved_at = Status.IN_PROGRESS, None
    event.rework_count += 1
    event.save()
    _entry(
        event,
        actor,
        "verify",
        Status.RESOLVED,
        Status.IN_PROGRESS,
        note=f"核查未通过，返回处置：{note}",
        data={"passed": False},
    )
    _check_problem(event, actor)


def _do_close(actor, event, p):
    event.status, event.closed_at = Status.CLOSED, _now()
    event.save()
    _entry(
        event,
        actor,
        "close",
        Status.VERIFIED,
        Status.CLOSED,
        note=p.get("note") or "结案",
        public=True,
    )


def _do_rate(actor, event, p):
    rating = _choice(p, "rating", workflow.RATINGS, "评价")
    roles = _roles(actor)
    privileged = "operator" in roles or _is_system(actor) or actor.is_superuser
    if not privileged and event.reporter_id != actor.pk:
        raise NotFound(f"事件 {event.number} 不存在")
    if event.rated_this_closure:
        raise Conflict("该事件已评价", [FieldError("rating", "每次结案只能评价一次")])
    event.rating, event.rated_at = rating, _now()
    event.save()
    _entry(
        event,
        actor,
        "rate",
        Status.CLOSED,
        Status.CLOSED,
        public=True,
        note=f"{workflow.RATINGS[rating]}。{p.get('note', '')}".strip(),
        data={"rating": rating},
    )
    if rating == "unsatisfied":
        _reopen(SYSTEM, event, "诉求人不满意，发回重办")


def _reopen(actor, event: Event, note: str) -> None:
    lead = event.department
    event.reopened_count += 1
    # the rating stays: an unsatisfied verdict counts until the citizen rates the next closure
    event.resolved_at = event.verified_at = event.closed_at = None
    event.status = Status.ACCEPTED
    event.deadline = None
    _entry(event, actor, "reopen", Status.CLOSED, Status.ACCEPTED, note=note, public=True)
    if lead is None:
        event.save()
        return
    _dispatch(actor, event, lead.code, note=f"重办：再次派遣至 {lead.name}")


def _do_reopen(actor, event, p):
    _reopen(actor, event, _required(p, "note", "须说明重办原因"))


def _do_escalate(actor, event, p):
    _escalate(actor, event, p.get("note") or "上报上级中心")


def _do_command(actor, event, p):
    codes = p.get("departments") or []
    if not codes:
        raise ServiceError("输入有误", [FieldError("departments", "须指定至少一个执行单位")])
    depts = [_department(c, "departments", event) for c in dict.fromkeys(codes)]  # once each
    instruction = _required(p, "note", "须写明指令")
    by = p.get("on_scene_by")
    if isinstance(by, str):
        try:
            by = dt.datetime.fromisoformat(by)
        except ValueError:
            raise ServiceError(
                "输入有误", [FieldError("on_scene_by", "时间格式无效（ISO 8601）")]
            ) from None
    if by is None:
        raise ServiceError("输入有误", [FieldError("on_scene_by", "须给出到场时限")])
    now = _now()
    if 2000 <= by.year < 2100 and timezone.is_naive(by):  # out of range: refused just below
        by = timezone.make_aware(by)
    if not (2000 <= by.year < 2100 and now - dt.timedelta(hours=1) < by <= now + ON_SCENE_WITHIN):
        raise ServiceError("输入有误", [FieldError("on_scene_by", "到场时限须在今后 30 天内")])
    centre = actor.department if not _is_system(actor) and actor.department_id else event.centre
    cmd = Command.objects.create(
        event=event,
        centre=centre,
        issued_by=actor,
        issued_at=_now(),
        on_scene_by=by,
        instruction=instruction,
    )
    for d in depts:
        CommandTarget.objects.create(command=cmd, department=d)
    names = "、".join(d.name for d in depts)
    _entry(
        event,
        actor,
        "command",
        event.status,
        event.status,
        department=centre,
        note=f"发令：{names} 于 {timezone.localtime(by):%m-%d %H:%M} 前到场。{instruction}",
        data={"command": cmd.pk, "departments": [d.code for d in depts]},
    )


def _do_arrive(actor, event, p):
    if _is_system(actor) or not actor.department_id:
        raise NotFound("没有给本单位的发令")
    target = (
        CommandTarget.objects.filter(command__event=event, department_id=actor.department_id)
        .select_related("command")
        .order_by("-command__issued_at")
        .first()
    )
    if target is None:
        raise NotFound(f"事件 {event.number} 没有给本单位的发令")
    now = _now()
    target.arrived_at = target.arrived_at or now
    if p.get("note"):
        target.result = p["note"]
    target.save()
    late = target.arrived_at > target.command.on_scene_by
    _entry(
        event,
        actor,
        "arrive",
        event.status,
        event.status,
        department=actor.department,
        note=("到场" + ("（超时）" if late else "（按时）"))
        + (f"：{p['note']}" if p.get("note") else ""),
        data={"command": target.command_id, "late": late},
    )


def _do_remind(actor, event, p):
    if not event.supervision:
        event.supervision = "reminded"
        event.save(update_fields=["supervision"])
    _entry(
        event,
        actor,
        "remind",
        event.status,
        event.status,
        note=p.get("note") or "催办",
        department=event.department,
    )


def _do_comment(actor, event, p):
    note = _required(p, "note", "备注不能为空")
    _entry(
        event, actor, "comment", event.status, event.status, note=note, public=bool(p.get("public"))
    )


def _choice(p: dict, key: str, choices: dict[str, str], what: str) -> str:
    value = p.get(key) or ""
    if value not in choices:
        listed = "、".join(f"{k}（{v}）" for k, v in choices.items())
        raise ServiceError("输入有误", [FieldError(key, f"{what}须为 {listed} 之一")])
    return value


def _required(p: dict, key: str, message: str) -> str:
    value = (p.get(key) or "").strip() if isinstance(p.get(key), str) else p.get(key)
    if not value:
        raise ServiceError("输入有误", [FieldError(key, message)])
    return value


HANDLERS = {
    "accept": _do_accept,
    "reject": _do_reject,
    "merge": _do_merge,
    "dispatch": _do_dispatch,
    "sign": _do_sign,
    "return": _do_return,
    "contact": _do_contact,
    "request_extension": _do_request_extension,
    "grant_extension": _do_grant_extension,
    "resolve": _do_resolve,
    "verify": _do_verify,
    "close": _do_close,
    "rate": _do_rate,
    "reopen": _do_reopen,
    "escalate": _do_escalate,
    "command": _do_command,
    "arrive": _do_arrive,
    "remind": _do_remind,
    "comment": _do_comment,
}
assert set(HANDLERS) == set(workflow.ACTIONS), "every action in the table has a handler"


def _visible(actor, event: Event) -> bool:
    from civicgrid.events.selectors import visible

    return visible(actor, event)


def allowed_actions(actor, event: Event) -> list[str]:
    superuser = _is_system(actor) or actor.is_superuser
    return workflow.allowed(event.status, _roles(actor), superuser=superuser)


def act(actor, number: str, action: str, params: dict[str, Any] | None = None) -> Event:
    """Run one workflow action on the event ``number`` for ``actor``: 404 when the actor
    cannot see the event, 409 naming the allowed actions when the table forbids it now."""
    if action not in workflow.ACTIONS:
        raise NotFound(f"没有“{action}”这个操作")
    params = params or {}
    with transaction.atomic():
        event = one(
            Event.objects.select_for_update(of=("self",))
            .select_related("centre", "department")
            .filter(number=number)
        )
        if event is None or not _visible(actor, event):
            raise NotFound(f"事件 {number} 不存在")
        allowed = allowed_actions(actor, event)
        if action not in allowed:
            label = workflow.ACTIONS[action].label
            state = workflow.STATUS_LABELS[event.status]
            names = "、".join(f"{a}（{workflow.ACTIONS[a].label}）" for a in allowed) or "无"
            raise Conflict(
                f"事件当前为“{state}”，不能“{label}”",
                [FieldError("action", f"当前可执行：{names}")],
                allowed=allowed,
                status=event.status,
            )
        HANDLERS[action](actor, event, params)
    return event


# --- supervision -----------------------------------------------------------------------------


@dataclass
class SweepReport:
    reminded: int = 0
    yellow: int = 0
    red: int = 0


# --- the work calendar changed ------------------------------------------------------------------
LINES = ("deadline", "yellow_at", "red_at", "remind_at")


def _deadline_start(event: Event) -> dt.datetime:
    """When the event's lines began to run: its first dispatch, or its latest 重办 (which
    starts them anew, see _freeze_deadline)."""
    if event.reopened_count:
        again = (
            event.timeline.filter(action="reopen").order_by("-at").values_list("at", flat=True)
        ).first()
        if again is not None:
            return again
    return event.dispatched_at


def recompute_deadlines(
    old: workcal.WorkCalendar, new: workcal.WorkCalendar, changed: list[dt.date], actor=None
) -> int:
    """Move the lines of open events to where the work calendar now puts them, after days
    changed from ``old`` to ``new`` (``changed``: the dates whose workday status differs):
    deadlines that rest on estimated days are recomputed when the official days arrive
    (DESIGN §6), and a line that counted a day now off (or a day now worked) moves with it.
    Each move is a timeline row; the running tasks follow the event's deadline. Returns the
    number of events changed."""
    from django.db.models import Q

    near = Q(deadline_estimated=True)
    if changed:
        since = timezone.make_aware(dt.datetime.combine(min(changed), dt.time(0)))
        until = timezone.make_aware(dt.datetime.combine(max(changed), dt.time(0)))
        near |= Q(dispatched_at__lt=until + dt.timedelta(days=1)) & (
            Q(deadline__gte=since)
            | Q(yellow_at__gte=since)
            | Q(red_at__gte=since)
            | Q(remind_at__gte=since)
        )
    moved = 0
    candidates = (
        Event.objects.filter(deadline__isnull=False, dispatched_at__isnull=False)
        .exclude(status__in=workflow.FINAL)
        .filter(near)
        .values_list("pk", flat=True)
    )
    for pk in list(candidates):
        with transaction.atomic():
            event = one(Event.objects.select_for_update(of=("self",)).filter(pk=pk))
            if event is None or event.deadline is None:
                continue
            start = _deadline_start(event)
            before = {f: getattr(event, f) for f in LINES}
            after = {
                f: workcal.carry_over(old, new, start, at).at if at else None
                for f, at in before.items()
            }
            estimated = workcal.rests_on_estimated(new, start, after["deadline"])
            if after == before and estimated == event.deadline_estimated:
                continue
            for f, at in after.items():
                setattr(event, f, at)
            event.deadline_estimated = estimated
            event.save(update_fields=[*LINES, "deadline_estimated"])
            Task.objects.filter(event=event, status__in=("pending", "signed")).update(
                deadline=event.deadline
            )
            if after["deadline"] != before["deadline"]:
                old_at = timezone.localtime(before["deadline"])
                new_at = timezone.localtime(after["deadline"])
                note = (
                    f"工作日历调整，办理时限由 {old_at:%Y-%m-%d %H:%M} 改为 {new_at:%Y-%m-%d %H:%M}"
                )
            else:
                note = "工作日历调整，督办节点随之调整"
            _entry(
                event,
                actor or SYSTEM,
                "recalendar",
                event.status,
                event.status,
                note=note,
                data={f: (v.isoformat() if v else None) for f, v in after.items()},
            )
            moved += 1
    return moved


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """催办 before expiry, 黄牌 past the yellow line, 红牌 and escalation past the red line.
    Each step happens once per event (the ``supervision`` field remembers it)."""
    now = now or _now()
    with clock(now):  # every row it writes, escalations included, carries the sweep's time
        return _sweep(now)


def _sweep(now: dt.datetime) -> SweepReport:
    report = SweepReport()
    running = list(workflow.RUNNING)
    steps = [
        ("red", "red_at", ("", "reminded", "yellow"), "红牌督办：已超过红牌线"),
        ("yellow", "yellow_at", ("", "reminded"), "黄牌督办：已到办理时限"),
        ("reminded", "remind_at", ("",), "催办：办理时限将至"),
    ]
    for level, line, before, note in steps:
        ids = list(
            Event.objects.filter(
                status__in=running, supervision__in=before, **{f"{line}__lte": now}
            ).values_list("pk", flat=True)[:5000]
        )
        for pk in ids:
            with transaction.atomic():
                event = one(
                    Event.objects.select_for_update(of=("self",))
                    .select_related("centre")
                    .filter(pk=pk, status__in=running, supervision__in=before)
                )
                if event is None:
                    continue
                event.supervision = level
                event.save(update_fields=["supervision"])
                action = {"reminded": "remind", "yellow": "yellow_card", "red": "red_card"}[level]
                _entry(
                    event,
                    SYSTEM,
                    action,
                    event.status,
                    event.status,
                    note=note,
                    department=event.department,
                    at=now,
                )
                if level == "red":
                    _escalate(SYSTEM, event, "红牌督办")
                setattr(report, level, getattr(report, level) + 1)
    return report


def relay(limit: int = 500) -> int:
    """Do the post-intake work of up to ``limit`` waiting events, oldest first; returns how
    many this call did. Workers may relay at the same time: each event is claimed with a
    skip-locked row lock, and a worker killed half-way leaves its row to the next relay."""
    ids = list(
        Outbox.objects.filter(done_at=None)
        .order_by("created_at")
        .values_list("event_id", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        if process(pk) != "done-before":
            done += 1
    return done
