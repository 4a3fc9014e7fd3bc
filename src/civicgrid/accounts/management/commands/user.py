"""``civicgrid user NAME --role ROLE --region CODE [--department CODE] [--password P]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from civicgrid.accounts import services
from civicgrid.accounts.roles import ROLES
from civicgrid.core.errors import ServiceError


class Command(BaseCommand):
    help = "创建或更新用户（角色、辖区、所属机构）；未给密码时生成并显示一次"

    def add_arguments(self, parser):
        parser.add_argument("name", help="登录名")
        roles = "、".join(f"{r.code}={r.label}" for r in ROLES.values())
        parser.add_argument("--role", required=True, choices=sorted(ROLES), help="角色：" + roles)
        parser.add_argument("--region", help="辖区区域代码，如 440306（宝安区）")
        parser.add_argument("--department", help="所属机构代码，如 440306-ZJ")
        parser.add_argument("--password", help="密码（至少 10 位）；省略则自动生成")
        parser.add_argument("--full-name", default="", help="姓名")
        parser.add_argument("--superuser", action="store_true", help="同时设为超级管理员")

    def handle(self, *args, **o):
        try:
            result = services.save_user(
                "cli",
                o["name"],
                role=o["role"],
                region_code=o["region"],
                department_code=o["department"],
                password=o["password"],
                full_name=o["full_name"],
            )
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        if o["superuser"]:
            services.make_superuser("cli", result.user)
        u = result.user
        where = u.jurisdiction.name if u.jurisdiction_id else "—"
        self.stdout.write(
            f"{'已创建' if result.created else '已更新'}用户 {u.username}"
            f"（{ROLES[o['role']].label}，辖区 {where}）"
        )
        if result.password:
            self.stdout.write(f"初始密码：{result.password}")
