"""``civicgrid serve``: the web server (gunicorn), for the embedded and production modes."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动 Web 服务（gunicorn）"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="进程数；SQLite 内嵌模式默认 1，PostgreSQL 默认 CPU 核数×2",
        )
        parser.add_argument("--threads", type=int, default=8, help="每个进程的线程数")
        parser.add_argument("--no-access-log", action="store_true", help="不输出访问日志")

    def handle(self, *args, **o):
        serve(o["host"], o["port"], o["workers"], o["threads"], not o["no_access_log"])


def _start_scheduler(worker) -> None:
    from civicgrid.core import scheduler

    scheduler.start()


# The path without its query string, and no referrer: ID numbers and phones travel in the
# query of exact lookups (``/persons?id_number=``, the caller lookup), and a log keeps them.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


def serve(
    host: str, port: int, workers: int | None = None, threads: int = 8, access_log: bool = True
) -> None:
    from gunicorn.app.base import BaseApplication

    from civicgrid.wsgi import application

    embedded = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if workers is None:
        workers = 1 if embedded else (os.cpu_count() or 1) * 2

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            if access_log:
                self.cfg.set("accesslog", "-")
                self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("timeout", 120)
            self.cfg.set("keepalive", 5)
            self.cfg.set("post_worker_init", _start_scheduler)

        def load(self):
            return application

    print(f"civicgrid 服务已启动：http://{host}:{port}/ （Ctrl+C 停止）", flush=True)
    _App().run()
