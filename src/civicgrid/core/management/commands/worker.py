"""``civicgrid worker``: a Celery worker for production mode (needs CIVICGRID_BROKER_URL)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "启动后台任务进程（Celery worker）；需设置 CIVICGRID_BROKER_URL"

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument("--pool", default=None, help="prefork（默认）、threads 或 solo")

    def handle(self, *args, **o):
        if not settings.BROKER_URL:
            raise CommandError(
                "未设置 CIVICGRID_BROKER_URL：内嵌模式下后台任务在服务进程内执行，无需单独的 worker"
            )
        from civicgrid.celery import app

        argv = ["worker", f"--loglevel={o['loglevel']}"]
        if o["pool"]:
            argv.append(f"--pool={o['pool']}")
        if o["concurrency"]:
            argv.append(f"--concurrency={o['concurrency']}")
        app.worker_main(argv)
