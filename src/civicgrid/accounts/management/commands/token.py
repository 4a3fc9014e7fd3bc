"""``civicgrid token NAME``: issue an API token for a user (shown once); list or revoke."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts import services
from civicgrid.accounts.models import ApiToken
from civicgrid.core.errors import ServiceError


class Command(BaseCommand):
    help = "为用户签发 API 令牌（只显示一次）；--list 列出，--revoke 前缀 吊销"

    def add_arguments(self, parser):
        parser.add_argument("name", help="用户登录名")
        parser.add_argument("--purpose", default="", help="用途说明")
        parser.add_argument("--days", type=int, help="有效天数（默认不过期）")
        parser.add_argument("--list", action="store_true", help="列出该用户的令牌")
        parser.add_argument("--revoke", metavar="PREFIX", help="吊销指定前缀的令牌")

    def handle(self, *args, name: str, **o):
        try:
            user = services.get_user(name)
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        if o["list"]:
            for t in user.api_tokens.order_by("created_at"):
                state = "已吊销" if t.revoked_at else "有效"
                self.stdout.write(f"{t.prefix}\t{state}\t{t.created_at:%Y-%m-%d %H:%M}\t{t.name}")
            return
        if o["revoke"]:
            tokens = list(ApiToken.objects.filter(user=user, prefix=o["revoke"]))
            if not tokens:
                raise CommandError(f"用户 {name} 没有前缀为 {o['revoke']} 的令牌")
            for t in tokens:
                services.revoke_token("cli", t)
            self.stdout.write(f"已吊销 {len(tokens)} 个令牌")
            return
        _, clear = services.issue_token("cli", user, o["purpose"], o["days"])
        self.stdout.write(clear)
