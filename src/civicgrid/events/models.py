"""The event hub's tables. So far the work calendar (DESIGN §6)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkDay(models.Model):
    """One date of the work calendar: a workday or not, and on whose word.

    ``official`` rows come from the State Council's arrangement (through chinese-calendar or an
    imported file); ``estimated`` rows fill years nobody has published yet (weekends and
    statutory holidays, no make-up days); ``manual`` rows were set by a person in the admin.
    """

    SOURCES = [("official", "官方安排"), ("estimated", "估算"), ("manual", "人工设置")]

    date = models.DateField("日期", primary_key=True)
    workday = models.BooleanField("工作日")
    name = models.CharField("名称", max_length=32, blank=True, help_text="节假日或“调休上班”")
    source = models.CharField("来源", max_length=16, choices=SOURCES)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "工作日历"
        verbose_name_plural = "工作日历"

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.workday else '休'} {self.name}".strip()

    @property
    def audit_region_path(self) -> str:
        return ""


# --- catalogue (事项目录) ----------------------------------------------------------------------


class IntakeType(models.TextChoices):
    CONSULT = "咨询", _("咨询")
    HELP = "求助", _("求助")
    COMPLAINT = "投诉", _("投诉")
    REPORT = "举报", _("举报")
    SUGGESTION = "意见建议", _("意见建议")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    EMERGENCY = "emergency", _("特急")


class Category(models.Model):
    """One node of the event catalogue: 大类 → 小类 (→ item). Leaves carry the rules an event of
    that kind is handled by: deadline, urgency, on-the-spot closure, supervision lines,
    duplicate radius and the responsible sector per level."""

    code = models.CharField("编码", max_length=16, primary_key=True)
    name = models.CharField("名称", max_length=64)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField("层级")
    leaf = models.BooleanField("末级", default=True)
    intake_type = models.CharField("诉求类型", max_length=8, choices=IntakeType.choices, blank=True)
    deadline = models.CharField("办理时限", max_length=8, blank=True, help_text="如 4h、3d")
    urgency = models.CharField(
        "紧急程度", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    on_spot = models.BooleanField("网格员可即巡即办", default=False)
    yellow = models.CharField("黄牌线", max_length=8, blank=True)
    red = models.CharField("红牌线", max_length=8, blank=True)
    radius_m = models.PositiveIntegerField("查重半径（米）", default=250)
    route = models.CharField(
        "责任层级", max_length=120, blank=True, help_text="如 community:GZZ;street:JD;district:CG"
    )
    assist = models.CharField("协办条线", max_length=60, blank=True)
    keywords = models.CharField("关键词", max_length=200, blank=True)
    source = models.CharField("来源", max_length=32, blank=True)
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "事项目录"
        verbose_name_plural = "事项目录"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def audit_region_path(self) -> str:
        return ""


class RoutingRule(models.Model):
    """A city's own routing decision: events of this category (and its children) in this
    region (and below; none = citywide) go to this department. Most specific wins."""

    category = models.ForeignKey(Category, verbose_name="事项", on_delete=models.CASCADE)
    region = models.ForeignKey(
        "geo.Region",
        verbose_name="区域",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("依据", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "派遣规则"
        verbose_name_plural = "派遣规则"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "region"], name="routing_one_rule_per_place"
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(region=None),
                name="routing_one_citywide_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}@{self.region_id or '全市'} → {self.department_id}"

    @property
    def audit_region_path(self) -> str:
        return ""


# --- events --------------------------------------------------------------------------------


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("12345热线")
    CITY_MGMT = "city_mgmt", _("数字城管")
    GRID = "grid", _("网格巡查")
    HALL = "hall", _("窗口来访")
    MINIPROGRAM = "miniprogram", _("小程序")
    WEB = "web", _("网站")
    OPEN311 = "open311", "Open311"
    SENSOR = "sensor", _("物联感知")
    UPPER = "upper", _("上级交办")


STATUS_CHOICES = [
    ("reported", _("待受理")),
    ("accepted", _("已立案")),
    ("rejected", _("不予受理")),
    ("merged", _("已合并")),
    ("dispatched", _("已派遣")),
    ("in_progress", _("处置中")),
    ("returned", _("已退单")),
    ("resolved", _("处置完成")),
    ("verified", _("已核查")),
    ("closed", _("已结案")),
]


class Event(models.Model):
    """One citizen appeal or patrol finding, from any channel (多网合一)."""

    number = models.CharField("编号", max_length=20, null=True)
    channel = models.CharField("渠道", max_length=12, choices=Channel.choices)
    source_ref = models.CharField("来源编号", max_length=64, blank=True)
    title = models.CharField("标题", max_length=200, blank=True)
    description = models.TextField("描述")
    category = models.ForeignKey(
        Category,
        verbose_name="事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,  # every event index costs intake time; (district, status) serves
    )
    suggested_category = models.ForeignKey(
        Category,
        verbose_name="建议事项",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    suggestion_score = models.FloatField("建议置信度", null=True, blank=True)
    # the classifier's top three, its source and the auto-dispatch line it used (triage queue)
    suggestions = models.JSONField("分类建议", default=dict, blank=True)
    intake_type = models.CharField("诉求类型", max_length=8, blank=True)
    urgency = models.CharField("紧急程度", max_length=10, default="normal")
    status = models.CharField("状态", max_length=12, choices=STATUS_CHOICES)
    # where: WGS84, the grid and its ancestors (scoping by path; partitions by district)
    lon = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    grid_code = models.CharField("网格", max_length=14, blank=True)
    district_code = models.CharField("区", max_length=6)
    region_path = models.CharField("区域路径", max_length=80)
    house_code = models.CharField("房屋编码", max_length=25, blank=True)
    building_code = models.CharField("楼栋编码", max_length=19, blank=True)
    # who reported (personal data: masked copies for display, the phone encrypted)
    reporter = models.ForeignKey(
        "accounts.User",
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reporter_name = models.CharField("诉求人（脱敏）", max_length=32, blank=True)
    reporter_phone = models.CharField("电话（脱敏）", max_length=20, blank=True)
    reporter_phone_enc = models.TextField("电话（密文）", blank=True)
    reporter_name_enc = models.TextField("姓名（密文）", blank=True)
    # who handles
    centre = models.ForeignKey(
        "accounts.Department",
        verbose_name="责任中心",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # department queues read tasks, not events
    )
    # deadlines (frozen at dispatch) and supervision
    deadline = models.DateTimeField("办理时限", null=True, blank=True)
    deadline_estimated = models.BooleanField("时限基于估算日历", default=False)
    remind_at = models.DateTimeField("催办时间", null=True, blank=True)
    yellow_at = models.DateTimeField("黄牌线", null=True, blank=True)
    red_at = models.DateTimeField("红牌线", null=True, blank=True)
    supervision = models.CharField(
        "督办",
        max_length=8,
        blank=True,
        choices=[
            ("", _("无")),
            ("reminded", _("已催办")),
            ("yellow", _("黄牌")),
            ("red", _("红牌")),
        ],
    )
    problem = models.BooleanField("问题工单", default=False)
    returned_count = models.PositiveIntegerField("退单次数", default=0)
    reopened_count = models.PositiveIntegerField("重办次数", default=0)
    rework_count = models.PositiveIntegerField("核查返工次数", default=0)
    departments_count = models.PositiveIntegerField("经手部门数", default=0)
    supporters = models.PositiveIntegerField("附议人数", default=0)
    master = models.ForeignKey(
        "self",
        verbose_name="合并至",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_events",
        db_index=False,
    )
    on_spot = models.BooleanField("自行处置", default=False)
    evidence = models.JSONField("照片证据", default=list, blank=True)
    similar = models.JSONField("疑似重复", default=list, blank=True)
    answer = models.TextField("答复", blank=True)
    rating = models.CharField(
        "评价",
        max_length=12,
        blank=True,
        choices=[("satisfied", _("满意")), ("basic", _("基本满意")), ("unsatisfied", _("不满意"))],
    )
    # when
    created_at = models.DateTimeField("登记时间", db_index=True)
    accepted_at = models.DateTimeField("立案时间", null=True, blank=True)
    dispatched_at = models.DateTimeField("派遣时间", null=True, blank=True)
    contacted_at = models.DateTimeField("联系时间", null=True, blank=True)
    resolved_at = models.DateTimeField("处置完成时间", null=True, blank=True)
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    rated_at = models.DateTimeField("评价时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "事件"
        verbose_name_plural = "事件"
        # the reporter's clear name and phone, for the staff who call back (DESIGN §6: the
        # handler contacts the citizen within 24 hours); each reveal is logged with its reason
        permissions = [("reveal_reporter", "查看诉求人完整联系方式（需说明理由并留痕）")]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="event_number_unique"),
            # also serves the retry lookup: Django binds values client-side, so the planner
            # sees the literal source_ref and knows it is not ''
            models.UniqueConstraint(
                fields=["channel", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="event_one_per_source_ref",
            ),
        ]
        indexes = [
            models.Index(fields=["district_code", "status"], name="event_district_status"),
            # the supervision sweep: running events by their supervision state
            models.Index(fields=["status", "supervision"], name="event_status_supervision"),
            # a house's events (rental indicators, the house page); most events name no house
            models.Index(
                fields=["house_code"], condition=~models.Q(house_code=""), name="event_house"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def save(self, *args, update_fields=None, **kwargs) -> None:
        """Every write moves ``updated_at``, a partial one too: Open311 clients sync by a
        request's ``updated_datetime`` and would otherwise miss a new class or centre."""
        if update_fields is not None:  # empty: Django saves nothing, and nor does this
            update_fields = list(update_fields)
            if update_fields and "updated_at" not in update_fields:
                update_fields.append("updated_at")
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def rated_this_closure(self) -> bool:
        """The citizen has rated the current closure. A rating stays on the event through a
        重办 (an unsatisfied verdict counts in 满意率) and is replaced by the next one."""
        return bool(
            self.rating and self.rated_at and self.closed_at and self.rated_at >= self.closed_at
        )

    @property
    def audit_region_path(self) -> str:
        return self.region_path


class Task(models.Model):
    """A dispatch of an event to one department (派单): the lead (主办) or an assistant (协办)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tasks")
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name="处置单位",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # (department, status) serves
    )
    lead = models.BooleanField("主办", default=True)
    status = models.CharField(
        "状态",
        max_length=12,
        db_index=True,
        choices=[
            ("pending", _("待签收")),
            ("signed", _("处置中")),
            ("returned", _("已退回")),
            ("resolved", _("已办结")),
            ("cancelled", _("已撤销")),
        ],
    )
    dispatched_at = models.DateTimeField("派遣时间")
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    deadline = models.DateTimeField("办理时限", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=16, blank=True)
    extension_status = models.CharField(
        "延期",
        max_length=10,
        blank=True,
        choices=[
            ("", _("无")),
            ("requested", _("申请中")),
            ("granted", _("已批准")),
            ("refused", _("未批准")),
        ],
    )
    extension_limit = models.CharField("延期时长", max_length=8, blank=True)
    extension_reason = models.CharField("延期理由", max_length=200, blank=True)

    class Meta:
        ordering = ["dispatched_at", "pk"]
        verbose_name = "派遣任务"
        verbose_name_plural = "派遣任务"
        indexes = [models.Index(fields=["department", "status"], name="task_department_status")]

    def __str__(self) -> str:
        return f"{self.event_id}→{self.department_id}"

    @property
    def audit_region_path(self) -> str:
        return self.event.region_path


class Command(models.Model):
    """发令: a centre orders departments to the scene by a time (社区发令、部门执行)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="commands")
    centre = models.ForeignKey(
        "accounts.Department", verbose_name="发令中心", on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name="发令人"
    )
    issued_at = models.DateTimeField("发令时间")
    on_scene_by = models.DateTimeField("到场时限")
    instruction = models.TextField("指令")

    class Meta:
        ordering = ["issued_at", "pk"]
        verbose_name = "发令"
        verbose_name_plural = "发令"

    def __str__(self) -> str:
        return f"发令 {self.pk}"


class CommandTarget(models.Model):
    command = models.ForeignKey(Command, on_delete=models.CASCADE, related_name="targets")
    department = models.ForeignKey(
        "accounts.Department", verbose_name="执行单位", on_delete=models.PROTECT, related_name="+"
    )
    arrived_at = models.DateTimeField("到场时间", null=True, blank=True)
    result = models.TextField("处置结果", blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["command", "department"], name="command_target_once")
        ]

    def __str__(self) -> str:
        return f"{self.command_id}→{self.department_id}"


class TimelineEntry(models.Model):
    """One step of an event's history: who did what, when, from which status to which. The
    timeline is the event's audit trail (DESIGN §6); rows are never changed."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField("时间")
    actor = models.CharField("操作人", max_length=150)
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField("操作", max_length=24)
    from_status = models.CharField("原状态", max_length=12, blank=True)
    to_status = models.CharField("新状态", max_length=12)
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    note = models.TextField("说明", blank=True)
    public = models.BooleanField("对诉求人公开", default=False)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"

    def __str__(self) -> str:
        return f"{self.event_id} {self.action}"


class Outbox(models.Model):
    """Post-intake work still to do for an event (duplicates, routing, notifications), written
    in the intake transaction so nothing is lost between the database and the broker."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=24)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["event", "kind"], name="outbox_once")]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(done_at=None), name="outbox_undone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"
