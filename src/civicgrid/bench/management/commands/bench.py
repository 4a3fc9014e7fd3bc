"""``civicgrid bench NAME [--scale F] [--json]``."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from civicgrid.bench.registry import BENCHMARKS


class Command(BaseCommand):
    help = "基准测试：测量吞吐量与同机物理极限之比；--json 时最后一行为 JSON 结果"

    def add_arguments(self, parser):
        parser.add_argument(
            "name",
            choices=sorted(BENCHMARKS),
            help="; ".join(f"{k}: {v[0]}" for k, v in BENCHMARKS.items()),
        )
        parser.add_argument("--scale", type=float, default=1.0, help="规模系数（默认 1.0）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, name: str, scale: float, **o):
        result = BENCHMARKS[name][1](scale)
        result.setdefault("scale", scale)
        if o["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
