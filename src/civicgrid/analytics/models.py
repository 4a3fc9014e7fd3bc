"""Analytics tables: a day index of the work calendar (for set-based working time) and the
monthly reports generated in the background."""

from __future__ import annotations

from django.db import models


class CalendarDay(models.Model):
    """One local date as a day number since 1970-01-01 with the count of workdays before it.

    The working time of [a, b) is W(b) − W(a), where W(t) = cum × 86400 + (seconds since local
    midnight when t's date is a workday): two index lookups per event instead of a walk over
    days. Rebuilt from the work calendar (events.calendar_selectors) whenever it changes.
    """

    day = models.IntegerField(primary_key=True)
    date = models.DateField(unique=True)
    workday = models.BooleanField()
    cum = models.IntegerField("此前工作日数")

    class Meta:
        verbose_name = "工作日索引"
        verbose_name_plural = "工作日索引"

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.workday else '休'}"


class CalendarStamp(models.Model):
    """The work-calendar stamp the day index was built from (one row)."""

    stamp = models.CharField(max_length=200)
    built_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.stamp


class Report(models.Model):
    """A monthly report of a region as XLSX, generated in the background with progress."""

    STATES = [("pending", "排队中"), ("running", "生成中"), ("done", "已完成"), ("failed", "失败")]

    region = models.ForeignKey("geo.Region", on_delete=models.PROTECT, related_name="+")
    month = models.CharField("月份", max_length=7)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=8, choices=STATES, default="pending")
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    step = models.CharField("当前步骤", max_length=64, blank=True)
    file = models.CharField("文件", max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "月度报表"
        verbose_name_plural = "月度报表"

    def __str__(self) -> str:
        return f"{self.region_id} {self.month}"

    @property
    def audit_region_path(self) -> str:
        return self.region.path


class Rollup(models.Model):
    """Daily KPI contributions (see ``analytics.rollup``): per community (``dim`` 0) or per
    district × department / class / channel (``dim`` 1–3), per kind and local day(s)."""

    dim = models.SmallIntegerField()
    district = models.CharField(max_length=6)
    street = models.CharField(max_length=9)
    community = models.CharField(max_length=12)
    dkey = models.CharField(max_length=20)
    kind = models.SmallIntegerField()
    d1 = models.IntegerField(null=True)
    d2 = models.IntegerField(null=True)
    n = models.IntegerField()
    x1 = models.IntegerField()
    x2 = models.IntegerField()
    x3 = models.IntegerField()
    secs = models.FloatField()
    minwall = models.FloatField(null=True)

    class Meta:
        # a query reads one dimension's rows, which the rebuild writes together
        indexes = [models.Index(fields=["dim", "district"], name="rollup_dim_district")]
        verbose_name = "指标日汇总"
        verbose_name_plural = "指标日汇总"

    def __str__(self) -> str:
        return f"{self.dim}/{self.kind} {self.d1}"


class RollupState(models.Model):
    """When the rollup's snapshot of the events was taken (one row)."""

    snapshot = models.DateTimeField()
    rows = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.snapshot:%Y-%m-%d %H:%M:%S}"
