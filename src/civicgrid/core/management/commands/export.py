"""``civicgrid export KIND FILE [--user NAME] [--unmasked]``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

# what the file leaves out (records the import would refuse), said so nothing is lost silently
LEFT_OUT_NOTE = {
    "persons": "另有 {} 人只有身份证号、没有姓名，未写入（导入需要姓名）",
    "organisations": (
        "另有 {} 个单位只有统一社会信用代码、没有名称和类型，未写入（导入需要名称和类型；"
        "它们随房屋文件的业主信用代码回来）"
    ),
}


class Command(BaseCommand):
    help = (
        "导出：buildings、houses、persons、organisations、places（与导入相同的列；"
        "文件名以 .xlsx 结尾时写 XLSX，否则写 CSV）；"
        "events（KPI 原始行，DESIGN §10）。"
        "默认脱敏；--user 按该用户辖区导出；--unmasked 仅限服务器运维人员，且记入审计"
    )

    def add_arguments(self, parser):
        from civicgrid.registry.exporters import EXPORTS

        parser.add_argument("kind", choices=sorted([*EXPORTS, "events"]))
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", help="按该用户的辖区导出（脱敏）")
        parser.add_argument(
            "--unmasked",
            action="store_true",
            help="导出未脱敏的个人信息（记入审计；不能与 --user 同用）",
        )

    def handle(self, *args, kind: str, file: Path, **o):
        from civicgrid.accounts.services import get_user
        from civicgrid.core.errors import ServiceError
        from civicgrid.registry.exporters import NOT_WRITTEN, ExportError, export_file, left_out

        if o["unmasked"] and o["user"]:
            raise CommandError("--unmasked 只能由服务器运维人员使用，不能与 --user 同用")
        user = None
        if o["user"]:
            try:
                user = get_user(o["user"])
            except ServiceError as exc:
                raise CommandError(str(exc)) from None
        if kind == "events":  # the raw rows of the KPIs (DESIGN §10); no personal data
            from civicgrid.analytics.exporting import export_events

            if file.suffix.lower() in (".xlsx", *NOT_WRITTEN):
                raise CommandError("events 只能导出为 CSV：请用 .csv 结尾的文件名")
            if not file.parent.is_dir():
                raise CommandError(f"目录不存在：{file.parent}（请先创建该目录）")
            count = export_events(file, user=user, actor="cli")
        else:
            try:
                count = export_file(kind, file, user=user, unmasked=o["unmasked"], actor="cli")
            except ExportError as exc:
                raise CommandError(str(exc)) from None
        note = "（未脱敏，已记入审计）" if o["unmasked"] else "（已脱敏）"
        self.stdout.write(f"已导出 {count} 行到 {file}{note}")
        if kind != "events" and (skipped := left_out(kind, user=user)):
            self.stdout.write(LEFT_OUT_NOTE[kind].format(skipped))
