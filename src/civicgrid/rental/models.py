"""Rental houses (出租屋) and their grading (DESIGN §7).

The profile carries the indicators as plain columns (named as in ``grading.INDICATORS``), so
the rule set compiles to one SQL statement for a bulk regrade. ``house_code``, ``grid_code``
and ``district_code`` are copied from the house (a house code is frozen when issued) for
scoping and for linking events, which carry the house code.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RuleSetVersion(models.Model):
    """One version of the grading rules; the newest active one is in force."""

    version = models.PositiveIntegerField("版本", unique=True)
    name = models.CharField("名称", max_length=100)
    scheme = models.CharField("等级方案", max_length=40)
    config = models.JSONField("配置")
    active = models.BooleanField("生效", default=True)
    created_at = models.DateTimeField("加载时间", auto_now_add=True)
    created_by = models.CharField("加载人", max_length=150)

    class Meta:
        verbose_name = "分级规则版本"
        verbose_name_plural = "分级规则版本"

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"


class RentalProfile(models.Model):
    house = models.OneToOneField(
        "registry.House", on_delete=models.CASCADE, primary_key=True, related_name="rental"
    )
    house_code = models.CharField("房屋编码", max_length=25, unique=True)
    district_code = models.CharField("所属区", max_length=6)
    grid_code = models.CharField("网格", max_length=14)
    landlord_person = models.ForeignKey(
        "registry.Person",
        verbose_name="出租人（个人）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    landlord_org = models.ForeignKey(
        "registry.Organisation",
        verbose_name="出租人（单位）",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    manager_name = models.CharField("管理人", max_length=64, blank=True)
    manager_phone = models.CharField("管理人电话（脱敏）", max_length=20, blank=True)
    manager_phone_enc = models.CharField("管理人电话（加密）", max_length=120, blank=True)
    rooms = models.PositiveSmallIntegerField("间数", default=1)
    capacity = models.PositiveSmallIntegerField("核定人数", null=True, blank=True)
    # indicators (grading.INDICATORS)
    registered = models.IntegerField("登记居住人数", default=0)
    observed = models.IntegerField("实住人数", null=True, blank=True)
    safety_letter = models.BooleanField("已签安全责任书", default=False)
    fire_facilities_ok = models.BooleanField("消防设施完好", default=True)
    escape_route_blocked = models.BooleanField("逃生通道堵塞", default=False)
    ebike_indoor_charging = models.BooleanField("电动车入户充电", default=False)
    illegal_use = models.BooleanField("违规用途", default=False)
    area_per_person = models.FloatField("人均面积", null=True, blank=True)
    open_hazards = models.IntegerField("未整改隐患", default=0)
    incidents_12m = models.IntegerField("近12个月案事件", default=0)
    complaints_12m = models.IntegerField("近12个月投诉", default=0)
    refused_inspections = models.IntegerField("近12个月拒绝检查", default=0)
    # grade
    grade = models.CharField("等级", max_length=16)
    rules_version = models.PositiveIntegerField("规则版本", default=0)
    clean_streak = models.PositiveSmallIntegerField("连续合格检查", default=0)
    graded_at = models.DateTimeField("定级时间", null=True, blank=True)
    last_inspected = models.DateField("上次检查", null=True, blank=True)
    next_due = models.DateField("下次检查", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "出租屋"
        verbose_name_plural = "出租屋"
        indexes = [
            models.Index(fields=["district_code", "grid_code"], name="rental_place_idx"),
            models.Index(fields=["next_due"], name="rental_next_due_idx"),
        ]

    def __str__(self) -> str:
        return self.house_code

    @property
    def audit_region_path(self) -> str:
        from civicgrid.geo.models import Region

        path = Region.objects.filter(code=self.grid_code).values_list("path", flat=True).first()
        return path or ""


class GradeChange(models.Model):
    """Every change of a house's grade, with its reasons, actor and time."""

    profile = models.ForeignKey(RentalProfile, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField("时间")
    from_grade = models.CharField("原等级", max_length=16, blank=True)
    to_grade = models.CharField("新等级", max_length=16)
    reasons = models.TextField("原因", help_text="每行一条")
    actor = models.CharField("操作人", max_length=150)
    rules_version = models.PositiveIntegerField("规则版本", default=0)
    inspection = models.ForeignKey(
        "Inspection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "等级变更"
        verbose_name_plural = "等级变更"
        indexes = [models.Index(fields=["profile", "at"], name="grade_change_profile_at")]

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.from_grade}→{self.to_grade}"

    @property
    def reason_list(self) -> list[str]:
        return [r for r in self.reasons.split("\n") if r]


class Inspection(models.Model):
    profile = models.ForeignKey(RentalProfile, on_delete=models.CASCADE, related_name="inspections")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    inspector_name = models.CharField("检查人", max_length=150)
    at = models.DateTimeField("检查时间")
    findings = models.JSONField("检查结果", default=dict)
    photos = models.JSONField("照片", default=list)
    note = models.CharField("备注", max_length=1000, blank=True)
    grade_before = models.CharField("检查前等级", max_length=16)
    grade_after = models.CharField("检查后等级", max_length=16)
    reasons = models.TextField("评定原因", blank=True)
    events = models.JSONField("生成的事件", default=list)

    class Meta:
        verbose_name = "出租屋检查"
        verbose_name_plural = "出租屋检查"
        indexes = [models.Index(fields=["profile", "at"], name="inspection_profile_at")]

    def __str__(self) -> str:
        return f"{self.profile_id}@{self.at:%Y-%m-%d}"


class InspectionTask(models.Model):
    """An inspection due for a house, for the grid's worker; overdue once past ``due``."""

    profile = models.ForeignKey(RentalProfile, on_delete=models.CASCADE, related_name="tasks")
    district_code = models.CharField(max_length=6)
    grid_code = models.CharField(max_length=14)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due = models.DateField("应检日期")
    open = models.BooleanField("待检查", default=True)
    overdue = models.BooleanField("已逾期", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    inspection = models.ForeignKey(
        Inspection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "检查任务"
        verbose_name_plural = "检查任务"
        constraints = [
            models.UniqueConstraint(
                fields=["profile"], condition=models.Q(open=True), name="rental_task_one_open"
            )
        ]
        indexes = [models.Index(fields=["district_code", "grid_code", "open"], name="task_place")]

    def __str__(self) -> str:
        return f"{self.profile_id} due {self.due}"


class SelfRegistration(models.Model):
    """A tenant's declaration by QR scan: the pending residence it made and where it came
    from (the client as a keyed hash, never the address in clear)."""

    profile = models.ForeignKey(RentalProfile, on_delete=models.CASCADE, related_name="+")
    residence = models.ForeignKey(
        "registry.Residence", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    name_masked = models.CharField(max_length=64)
    phone_masked = models.CharField(max_length=20, blank=True)
    phone_enc = models.CharField(max_length=120, blank=True)
    client = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.profile_id} {self.name_masked}"


class PlateSheet(models.Model):
    """A print job of door plates for a building or a community, made in the background."""

    scope = models.CharField("范围", max_length=19)  # building code or community code
    kind = models.CharField(max_length=12)  # building / community
    status = models.CharField(max_length=12, default="pending")  # pending running done failed
    plates = models.IntegerField(default=0)
    pages = models.IntegerField(default=0)
    file = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.scope}"
