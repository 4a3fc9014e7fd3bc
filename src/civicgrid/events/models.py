"""The event hub's tables. So far the work calendar (DESIGN §6)."""

from __future__ import annotations

from django.db import models


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
