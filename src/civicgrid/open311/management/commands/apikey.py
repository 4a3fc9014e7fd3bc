"""``civicgrid apikey NAME``: print a new Open311 api_key for a client application (shown
once); ``--list`` lists the application's keys, ``--revoke PREFIX`` revokes one."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.core.errors import ServiceError
from civicgrid.open311 import services
from civicgrid.open311.models import ApiKey


class Command(BaseCommand):
    help = "为 Open311 客户端应用签发 api_key（只显示一次）；--list 列出，--revoke 前缀 吊销"

    def add_arguments(self, parser):
        parser.add_argument("name", help="客户端应用名称")
        parser.add_argument("--list", action="store_true", help="列出该应用的 api_key")
        parser.add_argument("--revoke", metavar="PREFIX", help="吊销指定前缀的 api_key")

    def handle(self, *args, name: str, **o):
        if o["list"]:
            for k in ApiKey.objects.filter(name=name).order_by("created_at"):
                state = "已吊销" if k.revoked_at else "有效"
                self.stdout.write(f"{k.prefix}\t{state}\t{k.created_at:%Y-%m-%d %H:%M}")
            return
        if o["revoke"]:
            keys = list(ApiKey.objects.filter(name=name, prefix=o["revoke"]))
            if not keys:
                raise CommandError(f"应用 {name} 没有前缀为 {o['revoke']} 的 api_key")
            for k in keys:
                services.revoke_key("cli", k)
            self.stdout.write(f"已吊销 {len(keys)} 个 api_key")
            return
        try:
            _, clear = services.issue_key("cli", name)
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(clear)
