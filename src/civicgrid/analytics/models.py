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
    cnt = models.IntegerField("事件数", default=0)  # the row goes when its last event leaves

    class Meta:
        # a query reads a dimension's rows of some kinds over a range of days: on PostgreSQL
        # from this index alone (it holds every column the query reads), which is also how the
        # incremental upkeep finds a bucket; the other serves a district's questions
        indexes = [
            models.Index(fields=["dim", "district"], name="rollup_dim_district"),
            models.Index(
                fields=["dim", "kind", "d1", "district", "street", "community", "dkey", "d2"],
                include=["n", "x1", "x2", "x3", "secs", "minwall", "cnt"],
                name="rollup_day",
            ),
        ]
        verbose_name = "指标日汇总"
        verbose_name_plural = "指标日汇总"

    def __str__(self) -> str:
        return f"{self.dim}/{self.kind} {self.d1}"


class RollupState(models.Model):
    """When the rollup's snapshot of the events was taken (one row)."""

    snapshot = models.DateTimeField()
    rows = models.BigIntegerField(default=0)
    calendar = models.CharField("工作日历版本", max_length=200, default="")

    def __str__(self) -> str:
        return f"{self.snapshot:%Y-%m-%d %H:%M:%S}"


class RollupFact(models.Model):
    """Each event's contribution to the rollup as last counted, so an incremental refresh can
    take out exactly what a changed event added before (see ``analytics.rollup``)."""

    event_id = models.BigIntegerField(primary_key=True)
    district = models.CharField(max_length=6, null=True)
    street = models.CharField(max_length=9, null=True)
    community = models.CharField(max_length=12, null=True)
    cls = models.CharField(max_length=20)
    dept = models.CharField(max_length=20)
    channel = models.CharField(max_length=20)
    da = models.IntegerField(null=True)
    dd = models.IntegerField(null=True)
    dc = models.IntegerField(null=True)
    dh = models.IntegerField(null=True, db_index=True)  # the 最快 minimum is recomputed per day
    dp = models.IntegerField(null=True)
    accepted = models.BooleanField()
    on_spot = models.IntegerField()
    ontime = models.IntegerField()
    reo = models.IntegerField()
    rated = models.IntegerField()
    sat = models.IntegerField()
    contacted = models.IntegerField()
    tasks = models.IntegerField()
    returned_count = models.IntegerField()
    work = models.FloatField(null=True)
    wall = models.FloatField(null=True)

    def __str__(self) -> str:
        return str(self.event_id)


class RollupDirty(models.Model):
    """An event whose rollup contribution may have changed: written by database triggers on
    events and tasks (every write path, including ``QuerySet.update`` and ``save(update_fields=)``
    which leave ``updated_at`` alone), consumed by the incremental refresh."""

    event_id = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.event_id)
