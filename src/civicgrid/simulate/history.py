"""N days of city life replayed through the event hub, so dashboards and tests have history.

Why: KPIs, supervision and dashboards (DESIGN §6, §10) mean little on an empty hub, and a
history written straight into the tables would not prove the workflow can produce it. So every
step here is a call to ``civicgrid.events.services`` — ``submit`` for intake, ``act`` for each
workflow action, ``sweep`` for supervision — made by a staff account of the role the workflow
table names (DESIGN §1), with ``services.clock`` set to the simulated moment. Nothing writes an
event table directly; the hub's own rules (routing, deadlines on the work calendar, duplicate
merging, 不满意重办, 问题工单) shape the result.

How: the days are planned first (a generator seeded by ``(seed, date)``, so a day's events do
not depend on how many days are run), then replayed in time order from one queue that also
holds each case's next step and an hourly ``sweep``. A case draws its fate (return, extension,
overdue, rating …) from its own generator seeded by its ``source_ref``, so outcomes repeat
exactly for a seed. Each simulated day commits as one transaction. Steps that would fall after
``end`` are not taken: recent events stay open, as they would on the real hub. Rerunning adds
nothing twice: ``channel`` + ``source_ref`` (``SIM-<seed>-<yyyymmdd>-<n>``) is unique, and a
case whose intake answers "already there" is skipped entirely.

Numbers, and where they come from ([R] REFERENCE.md, [D] DESIGN.md, [A] our assumption):

* Volume [R §3]: Shenzhen 民意速办 took 3,700 万+ appeals in 2023, ≈ 100,000 a day citywide;
  scaled by the registry scale, then sampled at ``HISTORY_SHARE`` = 10 %: a replayed event costs
  ~40–60 ms on SQLite (about ten service calls with their checks and timeline rows), and
  ``civicgrid init --scale 0.002 --history-days 30`` (20 a day: 545 events, ~500 simulation
  accounts) was measured at 23 s of a 37 s init, inside the minute ``make demo`` may add.
  At least ``MIN_PER_DAY``, so an init without a synthetic city still gets a few hundred
  events; ``rate`` overrides. Weekends and holidays × 0.75 [A].
* Channels [A, after R §3 "537 channels merged into 23", 12345 the single public number]:
  hotline 46 %, grid patrol 20 %, 数字城管 12 %, mini-program 8 %, web 5 %, hall 3 %,
  sensors 3 %, 上级交办 2 %, Open311 1 %.
* Categories: the shipped catalogue's leaves [D §6]; GB/T 30428 municipal-appearance classes
  (01–06) carry ~40 % of citizen appeals and all of 数字城管 [A]; grid workers mostly report
  07 基层网格治理 and on-the-spot items; "其他" leaves count less.
* Times: citizens call mostly 08:00–20:00 with an evening tail; patrols 08:00–18:00; sensors
  round the clock [A]. Dispatch within 30 min (urgent) / 2 h (normal), first contact within
  24 h [R §3 民意速办]. Limits and supervision lines are the leaves' own [R §2, §3].
* Outcomes [R §3: 按时办结率 and 满意率 > 99 %; 南山 2025: 412 不满意重办 in 24.1 万, average
  6.5 days]: ~88 % of dispatched work is resolved before its deadline, mostly early (a Beta(1.2,
  3) share of the working time left, mean ~30 %: a 13-working-day appeal takes ~4 working
  days; that run measured 1.8 working days on average, 86 % on time), the rest late enough
  for 催办/黄牌 and some 红牌; 5 % 退单 (属地不符 / 权属不清 / 职能交叉, R §3) then
  re-dispatch; 4 % of day-limit work asks for an extension (85 % granted); 2 % fail
  verification; 85 % of citizens' appeals are rated after closing: 82 % 满意, 15 % 基本满意,
  3 % 不满意 — more than the city's 0.2 % so that short histories still show the 重办 path.
  15 % of citizens' web/app/Open311 appeals (8 % of calls) come without a category, for the
  suggester or a dispatcher [A]; 70 % of grid reports of
  on-the-spot items are closed on the spot (即巡即办 [R §4]); 75 % of consultations by phone or
  at the hall are answered at intake; 3 % of calls repeat an open report (merged, [D §6]).
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.core.errors import ServiceError
from civicgrid.events import routing, services, workflow
from civicgrid.events.calendar_selectors import calendar
from civicgrid.events.catalogue import Node
from civicgrid.events.catalogue_selectors import catalogue
from civicgrid.events.models import Event
from civicgrid.geo import selectors as geo

ACTOR = "simulate"
PREFIX = "sim_"
CITY_PER_DAY = 100_000  # 3,700 万 a year (REFERENCE §3) ÷ 365
HISTORY_SHARE = 0.1  # the sample replayed: keeps the demo's 30 days under a minute on SQLite
MIN_PER_DAY = 12
OFF_DAY_FACTOR = 0.75
SWEEP_EVERY = dt.timedelta(hours=1)
# The smallest valid PNG: a grid worker's on-the-spot photo as the intake sees it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

CHANNELS: dict[str, float] = {
    "hotline": 0.46,
    "grid": 0.20,
    "city_mgmt": 0.12,
    "miniprogram": 0.08,
    "web": 0.05,
    "hall": 0.03,
    "sensor": 0.03,
    "upper": 0.02,
    "open311": 0.01,
}
# Share of a channel's reports that arrive without a category.
UNCATEGORISED = {"web": 0.15, "miniprogram": 0.15, "open311": 0.15, "hotline": 0.08, "hall": 0.1}
REPEAT = 0.03  # a call about a problem already reported and still open
ON_SPOT = 0.70
ANSWER_AT_INTAKE = 0.75
RETURN = 0.05
EXTENSION = 0.04
EXTENSION_GRANTED = 0.85
OVERDUE = 0.12
VERIFY_FAILS = 0.02
CONTACT = 0.95
RATED = 0.85
RATED_CHANNELS = ("hotline", "web", "miniprogram", "hall", "open311", "upper")  # a citizen to ask
RATINGS = (("satisfied", 0.82), ("basic", 0.15), ("unsatisfied", 0.03))
REJECT = 0.03  # of the uncategorised reports a dispatcher looks at
COMMAND = 0.5  # of emergency events: the centre orders the lead department on site

# Weight of each 大类 among citizens' appeals (hotline, web, app, hall, Open311, upper).
CITIZEN_CLASSES = {
    "01": 14, "02": 4, "03": 6, "04": 3, "05": 8, "06": 6,  # GB/T 30428: ~40 %
    "07": 10, "08": 12, "22": 8, "18": 5, "20": 5, "21": 4, "19": 4, "11": 3, "13": 3,
    "16": 3, "14": 1, "09": 0.5, "10": 0.5, "12": 0.3, "15": 0.3, "17": 0.4,
}  # fmt: skip
PATROL_CLASSES = {"07": 45, "01": 25, "05": 20, "02": 5, "06": 5}
CITY_MGMT_CLASSES = {"01": 35, "02": 12, "03": 12, "04": 6, "05": 25, "06": 10}
SENSOR_LEAVES = ("0405", "0407", "0402", "0404", "0302", "0115", "070502", "070302")
HUMAN_HOURS = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.5, 5.0, 5.5, 5.0,
    3.5, 3.0, 4.5, 5.0, 5.0, 4.5, 3.0, 3.0, 2.5, 2.0, 1.5, 0.8,
)  # fmt: skip
PATROL_HOURS = tuple(1.0 if 8 <= h < 18 else 0.0 for h in range(24))
SENSOR_HOURS = (1.0,) * 24

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
DETAILS = (
    "已经好几天了",
    "早晚高峰尤其明显",
    "附近居民意见很大",
    "多次反映未见改善",
    "存在安全隐患",
    "影响老人小孩出行",
    "周末更严重",
    "晚上也一样",
)
RETURN_NOTES = {
    "territory": "该位置不属于本单位辖区",
    "ownership": "产权单位不明，需先确认权属",
    "overlap": "该事项属其他部门职责",
}


@dataclass
class HistoryReport:
    days: int
    planned: int = 0
    created: int = 0
    skipped: int = 0  # already there from an earlier run
    closed: int = 0
    on_spot: int = 0
    answered: int = 0
    merged: int = 0
    rejected: int = 0
    returned: int = 0
    extended: int = 0
    reopened: int = 0
    open: int = 0
    reminded: int = 0
    yellow: int = 0
    red: int = 0
    staff: int = 0  # simulation accounts created
    steps: int = 0
    errors: list[str] = field(default_factory=list)
    channels: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (
            f"历史事件 {self.days} 天：新增 {self.created} 件（已存在 {self.skipped}），"
            f"结案 {self.closed}，即巡即办 {self.on_spot}，合并 {self.merged}，"
            f"重办 {self.reopened}，未办结 {self.open}；用时 {self.seconds:.0f} 秒"
        )
        if self.errors:
            text += f"；{len(self.errors)} 步未能执行"
        return text


def events_per_day(scale: float) -> int:
    """The replayed sample of the city's daily appeals at ``scale``, at least ``MIN_PER_DAY``."""
    return max(MIN_PER_DAY, round(CITY_PER_DAY * scale * HISTORY_SHARE))


def registry_scale() -> float:
    """The synthetic city's scale as the registry holds it (buildings ÷ Shenzhen's)."""
    from civicgrid.registry.models import Building
    from civicgrid.simulate.city import SHENZHEN_TOTALS

    return Building.objects.count() / SHENZHEN_TOTALS["buildings"]


# --- the plan -------------------------------------------------------------------------------


@dataclass
class _Plan:
    ref: str
    at: dt.datetime
    channel: str
    leaf: str
    grid: str
    lon: float
    lat: float
    description: str
    given: bool  # the reporter named the category
    on_spot: bool = False
    answer: str = ""
    reporter: tuple[str, str] = ("", "")


def _pick(rng: random.Random, weights: dict) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class _Leaves:
    """Catalogue leaves weighted per channel."""

    def __init__(self) -> None:
        cat = catalogue()
        self.nodes: dict[str, Node] = {
            c: n for c, n in sorted(cat.nodes.items()) if n.leaf and n.active and n.route
        }
        by_class: dict[str, list[str]] = {}
        for code in self.nodes:
            by_class.setdefault(code[:2], []).append(code)
        self.by_class = by_class
        self._tables: dict[str, tuple[list[str], list[float]]] = {}

    def _table(self, kind: str) -> tuple[list[str], list[float]]:
        if kind not in self._tables:
            classes = {
                "patrol": PATROL_CLASSES,
                "city_mgmt": CITY_MGMT_CLASSES,
            }.get(kind, CITIZEN_CLASSES)
            codes, weights = [], []
            for cls, share in classes.items():
                members = self.by_class.get(cls, [])
                raw = [self._leaf_weight(self.nodes[c], kind) for c in members]
                total = sum(raw)
                for c, w in zip(members, raw, strict=True):
                    if total and w:
                        codes.append(c)
                        weights.append(share * w / total)
            if kind == "sensor":
                codes = [c for c in SENSOR_LEAVES if c in self.nodes] or codes
                weights = [1.0] * len(codes) if codes != [] else weights
            if not codes:  # a city with a catalogue of its own: every leaf alike
                codes, weights = list(self.nodes), [1.0] * len(self.nodes)
            self._tables[kind] = (codes, weights)
        return self._tables[kind]

    @staticmethod
    def _leaf_weight(node: Node, kind: str) -> float:
        w = 0.4 if node.name.startswith("其他") else 1.0
        if kind == "patrol" and node.on_spot:
            w *= 3
        if kind == "upper" and node.intake_type == "咨询":
            w = 0.0
        return w

    def draw(self, rng: random.Random, channel: str) -> str:
        kind = {"grid": "patrol", "city_mgmt": "city_mgmt", "sensor": "sensor"}.get(channel, "")
        kind = kind or ("upper" if channel == "upper" else "citizen")
        codes, weights = self._table(kind)
        return rng.choices(codes, weights=weights)[0]


def _text(rng: random.Random, node: Node, where: str) -> str:
    kw = rng.choice(node.keywords) if node.keywords else node.name
    detail = rng.choice(DETAILS)
    return {
        "咨询": f"咨询{node.name}：{kw}相关政策和办理流程是怎样的？",
        "举报": f"举报{where}存在{node.name}问题（{kw}），{detail}，请相关部门依法查处。",
        "求助": f"{where}{node.name}，{kw}，{detail}，请求尽快帮助处理。",
        "意见建议": f"建议：关于{where}{node.name}，{kw}，{detail}，希望有关部门改进。",
    }.get(node.intake_type, f"{where}{node.name}，{kw}，{detail}，请尽快处理。")


def _points(grids: list[tuple[str, float, float]], rng: random.Random, n: int):
    """``n`` random points, each inside a random grid (checked with the locator)."""
    idx = [rng.randrange(len(grids)) for _ in range(n)]
    lon0 = np.array([grids[i][1] for i in idx])
    lat0 = np.array([grids[i][2] for i in idx])
    want = np.array([grids[i][0] for i in idx], dtype=object)
    lon, lat = lon0.copy(), lat0.copy()
    pending = np.ones(n, dtype=bool)
    spread = 0.004
    for _ in range(4):
        k = int(pending.sum())
        if not k:
            break
        jx = np.array([rng.uniform(-spread, spread) for _ in range(k)])
        jy = np.array([rng.uniform(-spread, spread) for _ in range(k)])
        lon[pending], lat[pending] = lon0[pending] + jx, lat0[pending] + jy
        found = geo.locate_many(lon[pending], lat[pending])
        ok = found == want[pending]
        done = np.flatnonzero(pending)[ok]
        pending[done] = False
        spread /= 2
    lon[pending], lat[pending] = lon0[pending], lat0[pending]  # the grid's own point
    return [(want[i], float(lon[i]), float(lat[i])) for i in range(n)]


def _plan_day(
    day: dt.date, seed: int, rate: int, leaves: _Leaves, grids, names: dict[str, str]
) -> list[_Plan]:
    rng = random.Random(f"civicgrid-history:{seed}:{day.isoformat()}")
    factor = 1.0 if calendar().is_workday(day) else OFF_DAY_FACTOR
    count = max(1, round(rate * factor * rng.uniform(0.9, 1.1)))
    spots = _points(grids, rng, count)
    tz = timezone.get_current_timezone()
    plans: list[_Plan] = []
    for n in range(count):
        channel = _pick(rng, CHANNELS)
        ref = f"SIM-{seed}-{day:%Y%m%d}-{n:05d}"
        if channel == "hotline" and plans and rng.random() < REPEAT:
            first = rng.choice(plans)
            if not first.on_spot and not first.answer and first.given:
                plans.append(_repeat(rng, first, ref))
                continue
        hours = {"grid": PATROL_HOURS, "city_mgmt": PATROL_HOURS, "sensor": SENSOR_HOURS}
        hour = rng.choices(range(24), weights=hours.get(channel, HUMAN_HOURS))[0]
        at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tz)
        leaf = leaves.draw(rng, channel)
        node = leaves.nodes[leaf]
        grid, lon, lat = spots[n]
        where = names.get(grid[:12], "") + rng.choice(("附近", "一带", "路口", "小区", ""))
        plan = _Plan(
            ref=ref,
            at=at,
            channel=channel,
            leaf=leaf,
            grid=grid,
            lon=lon,
            lat=lat,
            description=_text(rng, node, where),
            given=rng.random() >= UNCATEGORISED.get(channel, 0.0),
        )
        if channel == "grid" and node.on_spot and rng.random() < ON_SPOT:
            plan.on_spot = True
        if (
            channel in ("hotline", "hall")
            and plan.given
            and node.intake_type == "咨询"
            and rng.random() < ANSWER_AT_INTAKE
        ):
            plan.answer = f"已就“{node.name}”相关政策和办理流程当场答复，诉求人表示清楚。"
        if channel == "hotline":
            sex = rng.choice(("先生", "女士"))
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            plan.reporter = (rng.choice(SURNAMES) + sex, phone)
        plans.append(plan)
    return sorted(plans, key=lambda p: (p.at, p.ref))


def _repeat(rng: random.Random, first: _Plan, ref: str) -> _Plan:
    """Another caller about the same problem, soon after and a few metres away."""
    later = first.at + dt.timedelta(minutes=rng.randint(20, 300))
    return _Plan(
        ref=ref,
        at=later,
        channel="hotline",
        leaf=first.leaf,
        grid=first.grid,
        lon=first.lon + rng.uniform(-0.0002, 0.0002),
        lat=first.lat + rng.uniform(-0.0002, 0.0002),
        description=first.description,
        given=True,
        reporter=(rng.choice(SURNAMES) + "女士", f"13{rng.randrange(10**9):09d}"),
    )


# --- the people -------------------------------------------------------------------------------


class _Staff:
    """Simulation accounts, created on first use through ``accounts.services.save_user`` with
    unusable passwords: nobody can log in as them."""

    def __init__(self, report: HistoryReport) -> None:
        self.report = report
        self._users: dict[str, object] = {}

    def _get(self, username: str, role: str, region: str | None, dept: str | None, name: str):
        user = self._users.get(username)
        if user is not None:
            return user
        from civicgrid.accounts import services as accounts
        from civicgrid.accounts.models import User

        user = (
            User.objects.select_related("jurisdiction", "department__region")
            .filter(username=username)
            .first()
        )
        if user is None:
            accounts.save_user(
                ACTOR,
                username,
                role=role,
                region_code=region,
                department_code=dept,
                full_name=name,
                generate=False,
            )
            self.report.staff += 1
            user = User.objects.select_related("jurisdiction", "department__region").get(
                username=username
            )
        self._users[username] = user
        return user

    def operator(self, channel: str = "hotline"):
        names = {
            "hotline": "12345热线话务员（模拟）",
            "city_mgmt": "数字城管平台接口（模拟）",
            "sensor": "物联感知平台接口（模拟）",
            "upper": "上级交办接口（模拟）",
            "open311": "Open311 应用接口（模拟）",
        }
        suffix = "operator" if channel == "hotline" else channel
        return self._get(f"{PREFIX}{suffix}", "operator", "440300", None, names[channel])

    def dispatcher(self, district: str):
        return self._get(
            f"{PREFIX}disp_{district}",
            "dispatcher",
            district,
            f"{district}-ZZ",
            "综治中心调度员（模拟）",
        )

    def handler(self, department: str):
        from civicgrid.accounts.models import Department

        username = f"{PREFIX}dept_{department}"
        if username in self._users:
            return self._users[username]
        dept = Department.objects.select_related("region").get(code=department)
        return self._get(username, "department", dept.region_id, department, f"{dept.name}处置员")

    def grid_worker(self, community: str):
        return self._get(
            f"{PREFIX}grid_{community}", "grid_worker", community, None, "网格员（模拟）"
        )

    def citizen(self, n: int):
        return self._get(f"{PREFIX}citizen_{n}", "citizen", None, None, f"市民{n}（模拟）")


# --- the replay -------------------------------------------------------------------------------


@dataclass
class _Case:
    plan: _Plan
    rng: random.Random
    number: str = ""
    pk: int = 0
    district: str = ""
    reporter: object = None
    returned: bool = False
    extended: bool = False
    reworked: bool = False
    rated_unsatisfied: bool = False
    commanded: str = ""


Step = Callable[[_Case], None]


class _Replay:
    def __init__(self, seed: int, end: dt.datetime, report: HistoryReport) -> None:
        self.seed = seed
        self.end = end
        self.report = report
        self.staff = _Staff(report)
        self.queue: list[tuple[dt.datetime, int, _Case, Step]] = []
        self.order = itertools.count()
        self.cal = calendar()
        self.cat = catalogue()
        self.ids: list[int] = []
        self.now = end

    # scheduling -------------------------------------------------------------------------

    def later(self, case: _Case, at: dt.datetime, step: Step) -> None:
        """Queue ``step``; a step after ``end`` is never taken (the case stays open)."""
        if at <= self.end:
            heapq.heappush(self.queue, (at, next(self.order), case, step))

    def working(self, start: dt.datetime, lo: float, hi: float, rng: random.Random):
        """A moment ``lo``–``hi`` working hours after ``start``."""
        return self.cal.add_working_hours(start, rng.uniform(lo, hi)).at

    def run_until(self, t: dt.datetime) -> None:
        while self.queue and self.queue[0][0] <= t:
            at, _, case, step = heapq.heappop(self.queue)
            self.now = at
            with services.clock(at):
                try:
                    step(case)
                    self.report.steps += 1
                except ServiceError as exc:
                    where = case.number or case.plan.ref
                    self.report.errors.append(f"{where} {step.__name__}: {exc.detail}")

    def sweep(self, t: dt.datetime) -> None:
        with services.clock(t):  # the red card's escalation takes the clock's time
            swept = services.sweep(t)
        self.report.reminded += swept.reminded
        self.report.yellow += swept.yellow
        self.report.red += swept.red

    # helpers ------------------------------------------------------------------------------

    def state(self, case: _Case) -> dict:
        return (
            Event.objects.filter(pk=case.pk)
            .values(
                "status",
                "category_id",
                "deadline",
                "department__code",
                "urgency",
                "region_path",
                "reporter_id",
            )
            .get()
        )

    def act(self, actor, case: _Case, action: str, **params) -> None:
        services.act(actor, case.number, action, params)

    def dispatcher(self, case: _Case):
        return self.staff.dispatcher(case.district)

    def handler(self, case: _Case):
        code = self.state(case)["department__code"]
        return self.staff.handler(code)

    # steps -------------------------------------------------------------------------------

    def intake(self, case: _Case) -> None:
        p = case.plan
        actor = self.reporter_for(case)
        data = services.Intake(
            channel=p.channel,
            source_ref=p.ref,
            description=p.description,
            category=p.leaf if p.given else None,
            lon=p.lon,
            lat=p.lat,
            reporter_name=p.reporter[0],
            reporter_phone=p.reporter[1],
            photos=[PNG] if p.channel == "grid" else [],
            on_spot=p.on_spot,
            answer=p.answer,
            created_at=p.at,
        )
        event, created = services.submit(actor, data)
        if not created:
            self.report.skipped += 1
            return
        case.number, case.pk = event.number, event.pk
        case.district = event.district_code
        self.ids.append(event.pk)
        self.report.channels[p.channel] = self.report.channels.get(p.channel, 0) + 1
        self.next_after_dispatch_or_triage(case, p.at)

    def reporter_for(self, case: _Case):
        p = case.plan
        if p.channel == "grid":
            return self.staff.grid_worker(p.grid[:12])
        if p.channel in ("web", "miniprogram"):
            case.reporter = self.staff.citizen(1 + case.rng.randrange(3))
            return case.reporter
        if p.channel == "hall":  # the walk-in hall of the district centre
            nodes = geo.index().nodes
            code = p.grid
            while nodes[code][1] != "district":
                code = nodes[code][2]
            return self.staff.dispatcher(code)
        return self.staff.operator(p.channel)

    def next_after_dispatch_or_triage(self, case: _Case, now: dt.datetime) -> None:
        """Whatever the hub made of the event, the next person's step."""
        s = self.state(case)
        status = s["status"]
        rng = case.rng
        urgent = s["urgency"] != "normal"
        if status == workflow.Status.REPORTED:
            minutes = rng.uniform(5, 25) if urgent else rng.uniform(10, 110)
            self.later(case, now + dt.timedelta(minutes=minutes), self.triage)
        elif status == workflow.Status.ACCEPTED:
            self.later(case, now + dt.timedelta(minutes=rng.uniform(3, 30)), self.dispatch)
        elif status == workflow.Status.DISPATCHED:
            if s["urgency"] == "emergency" and rng.random() < COMMAND:
                self.later(case, now + dt.timedelta(minutes=rng.uniform(2, 10)), self.command)
            if urgent:
                at = now + dt.timedelta(minutes=rng.uniform(5, 40))
            else:
                at = self.working(now, 0.1, 2.5, rng)
            self.later(case, at, self.sign)

    def triage(self, case: _Case) -> None:
        disp = self.dispatcher(case)
        if case.rng.random() < REJECT:
            note = "经核实，该诉求不属于本平台受理范围，已告知诉求人通过其他渠道办理。"
            self.act(disp, case, "reject", note=note)
            return
        self.act(disp, case, "accept", category=case.plan.leaf, note="人工分类后立案")
        now = self.now
        self.later(case, now + dt.timedelta(minutes=case.rng.uniform(2, 20)), self.dispatch)

    def dispatch(self, case: _Case) -> None:
        self.act(self.dispatcher(case), case, "dispatch")
        self.next_after_dispatch_or_triage(case, self.now)

    def command(self, case: _Case) -> None:
        case.commanded = self.state(case)["department__code"]
        now = self.now
        by = now + dt.timedelta(minutes=case.rng.choice((30, 45, 60)))
        self.act(
            self.dispatcher(case),
            case,
            "command",
            departments=[case.commanded],
            on_scene_by=by,
            note="立即到场处置，及时反馈现场情况",
        )
        arrive = now + dt.timedelta(minutes=case.rng.uniform(15, 70))
        self.later(case, arrive, self.arrive)

    def arrive(self, case: _Case) -> None:
        if self.state(case)["status"] in workflow.RUNNING:
            handler = self.staff.handler(case.commanded)
            self.act(handler, case, "arrive", note="已到达现场，正在处置")

    def sign(self, case: _Case) -> None:
        self.act(self.handler(case), case, "sign")
        now = self.now
        rng = case.rng
        if not case.returned and rng.random() < RETURN:
            self.later(case, self.working(now, 0.3, 4, rng), self.give_back)
            return
        p = case.plan
        if p.channel not in ("grid", "city_mgmt", "sensor") and rng.random() < CONTACT:
            self.later(case, self.working(now, 0.1, 3, rng), self.contact)
        self.plan_work(case, now)

    def plan_work(self, case: _Case, now: dt.datetime) -> None:
        rng = case.rng
        s = self.state(case)
        deadline, node = s["deadline"], self.cat.nodes[s["category_id"]]
        if deadline is None:
            self.later(case, self.working(now, 1, 8, rng), self.resolve)
            return
        available = self.cal.working_hours_between(now, deadline)
        days_limit = node.deadline is not None and node.deadline.unit == "days"
        if days_limit and not case.extended and rng.random() < EXTENSION:
            self.later(case, self.cal.add_working_hours(now, available * 0.6).at, self.extend)
            return
        if rng.random() < OVERDUE:
            over = max(available, dt.timedelta(hours=2)) * rng.uniform(0.1, 1.3)
            at = self.cal.add_working_hours(deadline, over).at
        else:
            share = min(0.95, 0.03 + rng.betavariate(1.2, 3.0))  # most finish early
            at = self.cal.add_working_hours(now, available * share).at
        self.later(case, at, self.resolve)

    def give_back(self, case: _Case) -> None:
        reason = case.rng.choices(("territory", "ownership", "overlap"), (0.4, 0.3, 0.3))[0]
        handler = self.handler(case)
        self.act(handler, case, "return", reason=reason, note=RETURN_NOTES[reason])
        case.returned = True
        at = self.working(self.now, 0.3, 3, case.rng)
        self.later(case, at, self.redispatch)

    def redispatch(self, case: _Case) -> None:
        """After 退单 the centre sends it on along the leaf's route; with nobody else on the
        route it rules the return unfounded and sends it back (审定)."""
        s = self.state(case)
        returned_by = s["department__code"]
        parts = s["region_path"].split(".")
        places = dict(zip(("city", "district", "street", "community", "grid"), parts, strict=False))
        node = self.cat.nodes[s["category_id"]]
        others = [
            d
            for lv, sector in node.route
            if (d := routing.department_at(lv, sector, places)) and d != returned_by
        ]
        target = others[0] if others else returned_by
        note = "退单审核：改派责任单位" if others else "退单理由不成立，维持原派遣"
        self.act(self.dispatcher(case), case, "dispatch", department=target, note=note)
        self.next_after_dispatch_or_triage(case, self.now)

    def contact(self, case: _Case) -> None:
        if self.state(case)["status"] in workflow.RUNNING:
            self.act(self.handler(case), case, "contact", note="已电话联系诉求人，了解具体情况")

    def extend(self, case: _Case) -> None:
        limit = case.rng.choice(("2d", "3d", "5d"))
        note = "需协调产权人和相关单位，申请延期"
        self.act(self.handler(case), case, "request_extension", limit=limit, note=note)
        case.extended = True
        self.report.extended += 1
        self.later(case, self.working(self.now, 0.5, 4, case.rng), self.grant)

    def grant(self, case: _Case) -> None:
        granted = case.rng.random() < EXTENSION_GRANTED
        self.act(self.dispatcher(case), case, "grant_extension", granted=granted)
        self.plan_work(case, self.now)

    def resolve(self, case: _Case) -> None:
        leaf = self.cat.nodes[self.state(case)["category_id"]]
        note = f"已按“{leaf.name}”处置要求办理完毕，现场已恢复正常。"
        self.act(self.handler(case), case, "resolve", note=note)
        self.later(case, self.working(self.now, 0.3, 6, case.rng), self.verify)

    def verify(self, case: _Case) -> None:
        rng = case.rng
        if rng.random() < 0.6:
            who = self.staff.grid_worker(case.plan.grid[:12])
        else:
            who = self.dispatcher(case)
        now = self.now
        if not case.reworked and rng.random() < VERIFY_FAILS:
            case.reworked = True
            self.act(who, case, "verify", passed=False, note="现场核查问题仍未彻底解决")
            self.later(case, self.working(now, 1, 8, rng), self.resolve)
            return
        self.act(who, case, "verify", note="现场核查，问题已解决")
        self.later(case, self.working(now, 0.1, 2, rng), self.close)

    def close(self, case: _Case) -> None:
        self.act(self.dispatcher(case), case, "close", note="处置完毕，予以结案")
        rng = case.rng
        if case.plan.channel in RATED_CHANNELS and rng.random() < RATED:
            self.later(case, self.now + dt.timedelta(hours=rng.uniform(2, 30)), self.rate)

    def rate(self, case: _Case) -> None:
        rng = case.rng
        kinds, weights = zip(*RATINGS, strict=True)
        rating = rng.choices(kinds, weights)[0]
        if rating == "unsatisfied" and case.rated_unsatisfied:
            rating = "basic"  # the 重办 fixed it, well enough
        who = case.reporter or self.staff.operator()
        note = {"unsatisfied": "问题没有解决", "basic": "", "satisfied": "处理及时"}[rating]
        self.act(who, case, "rate", rating=rating, note=note)
        if rating == "unsatisfied":  # the hub reopens and re-dispatches by itself
            case.rated_unsatisfied = True
            self.next_after_dispatch_or_triage(case, self.now)


def _grids() -> tuple[list[tuple[str, float, float]], dict[str, str]]:
    from civicgrid.geo.models import Level, Region

    grids = [
        (c, lon, lat)
        for c, lon, lat in Region.objects.filter(level=Level.GRID, lon__isnull=False)
        .order_by("code")
        .values_list("code", "lon", "lat")
    ]
    names = dict(Region.objects.filter(level=Level.COMMUNITY).values_list("code", "name"))
    return grids, names


def simulate_history(
    days: int,
    *,
    seed: int = 0,
    scale: float | None = None,
    end: dt.datetime | None = None,
    rate: int | None = None,
    progress=None,
) -> HistoryReport:
    """Replay the ``days`` local dates up to ``end`` (default now) through the event hub.

    ``scale`` sets the volume (``events_per_day``); ``None`` takes the registry's scale;
    ``rate`` (events a workday) overrides both.
    ``progress(label, done, total)`` is told after every simulated day.
    """
    started = time.monotonic()
    report = HistoryReport(days=days)
    if days <= 0:
        return report
    end = end or timezone.now()
    if rate is None:
        rate = events_per_day(registry_scale() if scale is None else scale)
    grids, names = _grids()
    if not grids:
        raise ServiceError("没有网格数据：请先运行 civicgrid init 载入区域")
    leaves = _Leaves()
    replay = _Replay(seed, end, report)
    last = timezone.localtime(end).date()
    dates = [last - dt.timedelta(days=days - 1 - i) for i in range(days)]
    tz = timezone.get_current_timezone()
    label = "模拟历史事件（天）"
    for i, day in enumerate(dates):
        with transaction.atomic():
            for plan in _plan_day(day, seed, rate, leaves, grids, names):
                if plan.at > end:
                    continue
                report.planned += 1
                case = _Case(plan, random.Random(f"civicgrid-case:{seed}:{plan.ref}"))
                replay.later(case, plan.at, replay.intake)
            start = dt.datetime.combine(day, dt.time(0), tz)
            for hour in range(1, 25):
                t = min(start + dt.timedelta(hours=hour), end)
                replay.run_until(t)
                replay.sweep(t)
                if t >= end:
                    break
        if progress:
            progress(label, i + 1, days)
    _tally(report, replay.ids)
    report.seconds = time.monotonic() - started
    return report


def _tally(report: HistoryReport, ids: list[int]) -> None:
    """The outcome of this run's events, read back from the hub."""
    from django.db.models import Count, Q

    totals: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        qs = Event.objects.filter(pk__in=ids[i : i + 500])
        counts = qs.aggregate(
            created=Count("pk"),
            closed=Count("pk", filter=Q(status=workflow.Status.CLOSED)),
            on_spot=Count("pk", filter=Q(on_spot=True)),
            answered=Count("pk", filter=~Q(answer="")),
            merged=Count("pk", filter=Q(status=workflow.Status.MERGED)),
            rejected=Count("pk", filter=Q(status=workflow.Status.REJECTED)),
            returned=Count("pk", filter=Q(returned_count__gt=0)),
            reopened=Count("pk", filter=Q(reopened_count__gt=0)),
            open=Count("pk", filter=Q(status__in=list(workflow.OPEN))),
        )
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    for key, value in totals.items():
        setattr(report, key, value)
