"""Reading events, always through the caller's jurisdiction (DESIGN §12): staff see their
subtree; department handlers also the events dispatched or commanded to their department;
citizens their own reports."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_noop

from civicgrid.accounts.scoping import contains, sees_everything
from civicgrid.core.errors import NotFound
from civicgrid.core.queries import one
from civicgrid.events.models import CommandTarget, Event, Task


def _department_q(user) -> Q:
    return Q(pk__in=Task.objects.filter(department_id=user.department_id).values("event_id")) | Q(
        pk__in=CommandTarget.objects.filter(department_id=user.department_id).values(
            "command__event_id"
        )
    )


def events_for(user) -> QuerySet:
    qs = Event.objects.all()
    if user is None or not user.is_authenticated:
        return qs.none()
    if sees_everything(user):
        return qs
    roles = set(user.roles)
    q = Q(pk__in=[])
    q |= Q(reporter_id=user.pk)
    if "department" in roles and user.department_id:
        q |= _department_q(user)
    if roles - {"citizen"} and user.jurisdiction_id:
        path = user.jurisdiction.path
        q |= Q(region_path=path) | Q(region_path__startswith=path + ".")
    return qs.filter(q)


def visible(user, event: Event) -> bool:
    if user is None or isinstance(user, str):
        return True  # the system itself
    if not user.is_authenticated:
        return False
    if sees_everything(user):
        return True
    roles = set(user.roles)
    if event.reporter_id == user.pk:
        return True
    if handles(user, event):
        return True
    if roles - {"citizen"}:
        return contains(user, event.region_path)
    return False


def handles(user, event: Event, *, now: bool = False) -> bool:
    """Whether the user's department has a task on the event or is a target of its command
    (ever: it may open the event); with ``now``, whether it is at work on it — a task not yet
    finished, returned or cancelled, or a command of an event still open."""
    if "department" not in user.roles or not user.department_id:
        return False
    tasks = Task.objects.filter(event=event, department_id=user.department_id)
    commands = CommandTarget.objects.filter(command__event=event, department_id=user.department_id)
    if now:
        from civicgrid.events.workflow import FINAL

        tasks = tasks.filter(status__in=("pending", "signed"))
        if event.status in FINAL:
            return tasks.exists()
    return tasks.exists() or commands.exists()


def similar_openable(user, events, extra: set[str] | frozenset = frozenset()) -> set[str]:
    """Of the events these events point at — their suspected duplicates and the event each was
    merged into (``master``, read through ``select_related("master")``) — plus ``extra``, the
    numbers this user may open, in one query for a whole page: duplicates are looked for by
    distance across the district (DESIGN §6, Duplicates), so one may lie in another
    jurisdiction, whose number is not for this user."""
    numbers = {s["number"] for e in events for s in (e.similar or ())}
    numbers |= {e.master.number for e in events if e.master_id}
    numbers |= set(extra)
    if not numbers:
        return set()
    return set(events_for(user).filter(number__in=numbers).values_list("number", flat=True))


def similar_seen(user, event: Event, openable: set[str] | None = None) -> list[dict]:
    """The event's suspected duplicates this user may open."""
    if not event.similar:
        return []
    if openable is None:
        openable = similar_openable(user, [event])
    return [s for s in event.similar if s["number"] in openable]


def _reported_by(user, event: Event) -> bool:
    return event.reporter_id is not None and getattr(user, "pk", None) == event.reporter_id


def master_seen(user, event: Event, openable: set[str] | None = None) -> str | None:
    """The number of the event this one was merged into, as this user may read it. Its reporter
    keeps it — that is how a citizen follows the problem they reported (the public tracking
    page names it too); anyone else sees it only if they may open that event, since an
    automatic merge joins events across community boundaries."""
    if not event.master_id:
        return None
    number = event.master.number
    if _reported_by(user, event):
        return number
    if openable is None:
        openable = similar_openable(user, [event])
    return number if number in openable else None


OTHER_EVENT = "另一事件"  # what a merge note says instead of a number the reader may not open


def _linked(entry) -> str | None:
    """The other event a timeline entry names: the master of a merge, the event merged into
    this one (a supporter)."""
    data = entry.data or {}
    number = data.get("master") if entry.action == "merge" else data.get("merged")
    return number if isinstance(number, str) and number else None


def timeline_notes(user, event: Event, entries, *, clear: bool | None = None) -> dict[int, str]:
    """Each entry's note (by pk) as this user reads it: a merge or supporter note that names an
    event the user may not open names no number (one query for the whole timeline; the
    reporter keeps their master's number, as in :func:`master_seen`), and personal data typed
    into a note is starred for users who do not read free text in clear
    (:func:`reads_clear_text`) — the report's own entry repeats the title, starred as one."""
    entries = list(entries)
    if clear is None:
        clear = reads_clear_text(user)
    linked = {n for t in entries if (n := _linked(t))}
    keep = similar_openable(user, [], linked) if linked else set()
    if event.master_id and _reported_by(user, event):
        keep.add(event.master.number)
    out = {}
    for t in entries:
        note = t.note or ""
        number = _linked(t)
        if number and number not in keep:
            note = note.replace(number, OTHER_EVENT)
        out[t.pk] = note if clear else redacted_title(note, event.description)
    return out


# --- free text: personal data people type into titles, descriptions and notes ---------------

REVEAL_PERMISSION = "events.reveal_reporter"


def _calls_back_anywhere(user) -> bool:
    """Holds the call-back permission for the whole jurisdiction: a superuser, or a role other
    than the department handler's (whose permission covers its own department's tasks)."""
    from civicgrid.accounts.roles import ROLES

    return user.is_superuser or any(
        REVEAL_PERMISSION in ROLES[r].permissions
        for r in user.roles
        if r in ROLES and r != "department"
    )


def may_call_back(user, event: Event | None = None) -> bool:
    """Whether this user may reveal the reporter's name and phone (with a reason, logged) and
    reads the event's free text as written (:func:`reads_clear_text`). Centre dispatchers,
    grid workers, data stewards and superusers may for every event they see; a department
    handler only while their department is at work on the event (a task not yet finished,
    returned or cancelled, or a command of an open event) — the handler contacts the citizen
    within 24 hours (DESIGN §6), but sees the whole district's events — so never for a list
    (``event`` None)."""
    if user is None or isinstance(user, str) or not user.is_authenticated:
        return False
    if not user.has_perm(REVEAL_PERMISSION):  # cached on the user after the first call
        return False
    if _calls_back_anywhere(user):
        return True
    return event is not None and handles(user, event, now=True)


def reads_clear_text(user, event: Event | None = None) -> bool:
    """Whether this user reads the free text of events (title, description, answer, timeline
    notes, command instructions and results) as written; ``event`` for one event's page,
    None for a list.

    The rule: those who may call the reporter back (:func:`may_call_back`: centre
    dispatchers, grid workers, data stewards, superusers; the handlers of the departments an
    event is dispatched or commanded to, on that event's page) are the staff who handle the
    event; they need the words as written to act (a neighbour's number the caller left, a
    landlord to ring, the contact on site a command names). Everyone else — operators once
    the call is taken, volunteers, mediators, leaders, auditors, citizens — reads ID
    numbers, phones and e-mail addresses in free text starred (``pii.redact_text``), as
    ``reporter_phone`` is. Dashboards and hot issues star the text for everyone: nobody acts
    from an aggregate, and the event itself is one click away (DESIGN §12)."""
    return may_call_back(user, event)


def free_text(text: str | None, clear: bool) -> str:
    from civicgrid.accounts import pii

    return (text or "") if clear else pii.redact_text(text or "")


def redacted_title(title: str | None, description: str | None) -> str:
    """The title with personal data starred. A title cut from the description (the intake's
    first 30 characters) may end inside a number too short to be recognised on its own, so
    it is cut from the starred description instead."""
    from civicgrid.accounts import pii

    title, body = title or "", (description or "").lstrip()
    if title and body.startswith(title):
        return pii.redact_text(body)[: len(title)]
    return pii.redact_text(title)


def event_for(user, number: str) -> Event:
    event = one(
        Event.objects.select_related("category", "centre", "department", "master").filter(
            number=number
        )
    )
    if event is None or not visible(user, event):
        raise NotFound(f"事件 {number} 不存在")
    return event


def timeline(event: Event, *, staff: bool) -> QuerySet:
    qs = event.timeline.select_related("department").order_by("at", "pk")
    return qs if staff else qs.filter(public=True)


# Names for references in answers, without a join per event: departments are few and their
# codes and names rarely change (a miss reloads the table).
_departments: dict[int, dict[str, str]] = {}


def department_ref(pk: int | None) -> dict[str, str] | None:
    if pk is None:
        return None
    ref = _departments.get(pk)
    if ref is None:
        from civicgrid.accounts.models import Department

        for dpk, code, name in Department.objects.values_list("pk", "code", "name"):
            _departments[dpk] = {"code": code, "name": name}
        ref = _departments.get(pk)
    return ref


def category_ref(code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    from civicgrid.events.catalogue_selectors import catalogue

    node = catalogue().nodes.get(code)
    return {"code": code, "name": node.name if node else code}


def queue(user, qs: QuerySet) -> QuerySet:
    """What waits on the user's desk: for a department, its pending or signed tasks; for a
    centre, events it must triage, dispatch or re-dispatch; for anyone else, nothing."""
    dept = user.department if user.department_id else None
    if dept is None:
        return qs.none()
    if dept.kind == "centre":
        return qs.filter(centre_id=dept.pk, status__in=["reported", "accepted", "returned"])
    active = Task.objects.filter(department_id=dept.pk, status__in=["pending", "signed"])
    return qs.filter(pk__in=active.values("event_id"))


# --- desks: the work queues of the staff pages (workbench, grid page) -----------------------

DUE_SOON_WORKING_DAYS = 1  # of working time: Friday afternoon's list holds Monday's deadlines
# marked for the catalogue; the workbench shows them through gettext
DESKS: dict[str, str] = {
    "triage": gettext_noop("待受理"),
    "dispatch": gettext_noop("待派遣"),
    "tasks": gettext_noop("本单位待办"),
    "due_soon": gettext_noop("即将到期"),
    "overdue": gettext_noop("已超期"),
    "verify": gettext_noop("待核查"),
}


def _centre_of(user):
    dept = user.department if getattr(user, "department_id", None) else None
    return dept if dept is not None and dept.kind == "centre" else None


def _task_events(user, qs: QuerySet) -> QuerySet:
    active = Task.objects.filter(department_id=user.department_id, status__in=["pending", "signed"])
    return qs.filter(pk__in=active.values("event_id"))


def desk(user, name: str, now=None) -> QuerySet:
    """One queue of the workbench (``DESKS``), always inside ``events_for(user)``.

    A centre dispatcher's triage, dispatch and verify queues are the events their centre is
    responsible for; an operator or grid worker (no centre) sees those of their jurisdiction.
    "Due soon" and "overdue" are running events by deadline — for a department handler, its
    own tasks only — "soon" meaning within one working day of working time."""
    from django.utils import timezone

    from civicgrid.events.workflow import RUNNING

    if name not in DESKS:
        raise NotFound(f"没有“{name}”这个队列")
    qs = events_for(user)
    centre = _centre_of(user)
    if name in ("triage", "dispatch", "verify"):
        status = {"triage": ["reported"], "dispatch": ["accepted", "returned"]}.get(
            name, ["resolved"]
        )
        qs = qs.filter(status__in=status)
        return qs.filter(centre_id=centre.pk) if centre is not None else qs
    if name == "tasks":
        if not getattr(user, "department_id", None) or centre is not None:
            return qs.none()
        return _task_events(user, qs)
    now = now or timezone.now()
    qs = qs.filter(status__in=list(RUNNING), deadline__isnull=False)
    if getattr(user, "department_id", None) and centre is None:
        qs = _task_events(user, qs)
    if name == "overdue":
        return qs.filter(deadline__lt=now)
    from civicgrid.events.calendar_selectors import calendar

    cal = calendar()
    until = cal.add_working_hours(now, cal.hours.per_day * DUE_SOON_WORKING_DAYS).at
    # up to and including ``until``: a limit in days falls due at the end of a working day,
    # exactly where one working day from the evening before (or the early morning) ends
    return qs.filter(deadline__gte=now, deadline__lte=until)


def desks_for(user) -> list[str]:
    """The queues worth showing this user: a department handler has tasks, a centre or an
    operator triages and dispatches, a grid worker verifies."""
    roles = set(user.roles) if user.is_authenticated else set()
    if user.is_superuser:
        return list(DESKS)
    shown = []
    if roles & {"dispatcher", "operator"}:
        shown += ["triage", "dispatch"]
    if "department" in roles:
        shown.append("tasks")
    if roles & {"dispatcher", "department", "leader", "operator"}:
        shown += ["due_soon", "overdue"]
    if roles & {"dispatcher", "grid_worker"}:
        shown.append("verify")
    return shown


CALLER_HISTORY_DAYS = 730


def caller_history(user, phone: str, limit: int = 20) -> list[Event]:
    """Earlier events (two years back) of the same caller in the user's scope, newest first.
    Phones are stored masked and encrypted, so candidates share the masked form and are
    compared in the clear in memory (nothing is shown unmasked)."""
    from civicgrid.accounts import pii

    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return []
    import datetime as dt

    from django.utils import timezone

    masked = pii.mask_phone(phone)
    cipher = pii.cipher()
    found = []
    since = timezone.now() - dt.timedelta(days=CALLER_HISTORY_DAYS)
    candidates = (
        events_for(user)
        .filter(created_at__gte=since, reporter_phone=masked)
        .exclude(reporter_phone_enc="")
        .select_related("department")
        .order_by("-created_at")[:500]
    )
    for event in candidates:
        clear = cipher.decrypt(event.reporter_phone_enc)
        if "".join(ch for ch in clear if ch.isdigit()) == digits:
            found.append(event)
            if len(found) >= limit:
                break
    return found


def grid_tasks(user) -> QuerySet:
    """A grid worker's desk: events in their grids waiting for on-site verification, and the
    open events they reported themselves."""
    qs = events_for(user)
    return qs.filter(Q(status="resolved") | (Q(reporter_id=user.pk) & ~Q(status__in=FINAL_STATES)))


FINAL_STATES = ["rejected", "merged", "closed"]


def public_event(number: str) -> Event:
    """An event for the public tracking page, by its number alone: the page shows only its
    status, deadline, department and public timeline — no personal data, no staff notes. The
    description is read (not shown) to star a title cut from it (:func:`redacted_title`)."""
    event = one(
        Event.objects.select_related("category", "department", "master")
        .defer("reporter_name_enc", "reporter_phone_enc")
        .filter(number=number)
    )
    if event is None:
        raise NotFound(f"事件 {number} 不存在")
    return event
