"""``civicgrid demo``: initialise when needed, (re)create one demo user per role, serve."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from civicgrid.core.management.commands.serve import serve
from civicgrid.core.progress import progress_bar
from civicgrid.core.setup import DEMO_SCALE, demo_users, initialise

# Days of event history a fresh demo database gets (~25 s on SQLite at the demo scale).
DEMO_HISTORY_DAYS = 30


def _no_events_yet() -> bool:
    """A database that has never held an event (or has no tables yet) gets history."""
    from django.db import connection

    if "events_event" not in connection.introspection.table_names():
        return True
    from civicgrid.events.models import Event

    return not Event.objects.exists()


class Command(BaseCommand):
    help = "演示：初始化（如需要），创建各角色演示账号并打印登录信息，然后启动服务"

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="只准备数据和账号，不启动服务")
        parser.add_argument(
            "--scale", type=float, default=DEMO_SCALE, help=f"合成城市规模（默认 {DEMO_SCALE}）"
        )

    def handle(self, *args, **o):
        history_days = DEMO_HISTORY_DAYS if _no_events_yet() else 0
        with progress_bar() as progress:
            report = initialise(scale=o["scale"], progress=progress, history_days=history_days)
        if report.history is not None:
            Console().print(report.history.summary())
        table = Table(title="演示账号（每次运行 demo 重新生成密码）")
        for col in ("用户名", "角色", "辖区", "密码"):
            table.add_column(col)
        for row in demo_users():
            table.add_row(*row)
        Console().print(table)
        if not o["no_serve"]:
            serve(o["host"], o["port"])
