"""``civicgrid init``: migrate and load Shenzhen's governance tree, departments and roles."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from civicgrid.core.progress import progress_bar
from civicgrid.core.setup import initialise
from civicgrid.geo.layout import DEFAULT_GRIDS_PER_COMMUNITY


class Command(BaseCommand):
    help = (
        "初始化：建库迁移，载入深圳区域树（区/街道/社区/网格）、职能部门、综治中心和角色；"
        "可重复运行"
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0, help="生成示意边界与合成城市的随机种子")
        parser.add_argument(
            "--scale",
            type=float,
            default=0.0,
            help="合成城市规模（深圳的倍数，如 0.01；0 表示不生成）",
        )
        parser.add_argument(
            "--grids-per-community",
            type=int,
            default=DEFAULT_GRIDS_PER_COMMUNITY,
            help=f"每个社区生成的基础网格数（默认 {DEFAULT_GRIDS_PER_COMMUNITY}）",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=0,
            help="模拟最近 N 天的事件办理历史（经事件中心各项服务办理；0 表示不模拟）",
        )
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **o):
        with progress_bar(not o["no_progress"]) as progress:
            report = initialise(
                seed=o["seed"],
                grids_per_community=o["grids_per_community"],
                scale=o["scale"],
                progress=progress,
                history_days=o["history_days"],
            )
        from civicgrid.geo.models import Region

        counts = {
            lv: Region.objects.filter(level=lv).count()
            for lv in ("district", "street", "community", "grid")
        }
        added = sum(report.regions.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"初始化完成：区 {counts['district']}，街道 {counts['street']}，"
                f"社区 {counts['community']}，网格 {counts['grid']}"
                f"（本次新增区域 {added}，机构 {report.departments}）"
            )
        )
        for r in report.imports:
            self.stdout.write(f"合成数据 {r.kind}：写入 {r.written} 行，拒绝 {r.rejected} 行")
        if report.history is not None:
            self.stdout.write(report.history.summary())
