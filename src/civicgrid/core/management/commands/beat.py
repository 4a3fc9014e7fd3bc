"""``civicgrid beat``: the one Celery beat process for periodic jobs in production mode."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "启动定时任务调度（Celery beat，全局只运行一个）；需设置 CIVICGRID_BROKER_URL"

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, **o):
        if not settings.BROKER_URL:
            raise CommandError("未设置 CIVICGRID_BROKER_URL：内嵌模式下定时任务在服务进程内执行")
        from civicgrid.celery import app

        schedule = settings.DATA_DIR / "celerybeat-schedule"
        app.Beat(loglevel=o["loglevel"], schedule=str(schedule)).run()
