"""``civicgrid rental regrade [--region CODE] [--dry-run]`` · ``rental profiles`` ·
``rental schedule`` · ``rental rules load FILE`` · ``rental plates --building|--community``."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "出租屋分类分级：regrade 重新定级；profiles 建档；schedule 排检查；rules 规则；plates 门牌"
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        regrade = sub.add_parser("regrade", help="按生效规则批量重新定级（集合运算）")
        regrade.add_argument("--region", default=None, help="区、街道、社区或网格编码")
        regrade.add_argument("--dry-run", action="store_true", help="只统计，不修改")
        profiles = sub.add_parser("profiles", help="为用途为“出租”且未建档的房屋建档并定级")
        profiles.add_argument("--region", default=None)
        profiles.add_argument(
            "--synthetic", action="store_true", help="合成城市：按房屋编号生成演示用指标"
        )
        sched = sub.add_parser("schedule", help="生成到期检查任务、标记逾期（周期任务亦会执行）")
        sched.add_argument("--horizon", type=int, default=7, help="提前几天生成任务（默认 7）")
        rules = sub.add_parser("rules", help="规则：show 查看；load FILE 加载新版本")
        rules.add_argument("action", choices=["show", "load"])
        rules.add_argument("file", nargs="?", type=Path)
        plates = sub.add_parser("plates", help="生成门牌打印页（A4 SVG，zip）")
        g = plates.add_mutually_exclusive_group(required=True)
        g.add_argument("--building")
        g.add_argument("--community")
        plates.add_argument("--actor", default="admin", help="以哪个用户的辖区生成（默认 admin）")

    def handle(self, *args, op: str, **o):
        from civicgrid.core.errors import ServiceError
        from civicgrid.rental import selectors, services

        try:
            if op == "regrade":
                result = services.regrade("cli", region=o["region"], dry_run=o["dry_run"])
                self._print(result)
                verb = "将变更" if result["dry_run"] else "已变更"
                self.stdout.write(
                    f"评定 {result['evaluated']} 户，{verb}等级 {result['changed']} 户"
                )
            elif op == "profiles":
                n = services.create_profiles("cli", region=o["region"], synthetic=o["synthetic"])
                result = services.regrade("cli", region=o["region"])
                self.stdout.write(f"新建出租屋档案 {n} 户；定级变更 {result['changed']} 户")
            elif op == "schedule":
                self._print(services.schedule(horizon_days=o["horizon"]))
            elif op == "rules":
                if o["action"] == "show":
                    r = selectors.active_rules()
                    self.stdout.write(f"v{r.version} {r.name}（{r.scheme}）")
                    for g in r.grades:
                        self.stdout.write(f"  {g.code} {g.label} 每 {g.interval_days} 天检查")
                else:
                    if o["file"] is None or not o["file"].is_file():
                        raise CommandError(f"规则文件不存在：{o['file']}")
                    row = services.load_rules("cli", o["file"].read_text(encoding="utf-8"))
                    self.stdout.write(f"已加载规则 v{row.version}：{row.name}")
            elif op == "plates":
                from civicgrid.accounts.models import User
                from civicgrid.rental import plates

                actor = User.objects.filter(username=o["actor"]).first()
                if actor is None:
                    raise CommandError(f"用户 {o['actor']} 不存在")
                sheet = plates.request_sheet(
                    actor, building=o["building"], community=o["community"]
                )
                sheet = plates.make_sheet(sheet.pk)
                self.stdout.write(f"{sheet.plates} 块门牌，{sheet.pages} 页：{sheet.file}")
        except ServiceError as exc:
            raise CommandError(str(exc)) from None

    def _print(self, result: dict) -> None:
        self.stdout.write(json.dumps(result, ensure_ascii=False, default=str))
