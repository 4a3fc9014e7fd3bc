"""``civicgrid audit verify``: check the whole hash chain; exit 1 naming the first bad record."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "审计链操作：verify 校验整条审计链是否完整、未被篡改"

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify"])

    def handle(self, *args, operation: str, **opts):
        from civicgrid.audit.selectors import verify_trail

        verdict = verify_trail()
        if not verdict.ok:
            raise CommandError(
                f"审计链校验失败：{verdict.problem}（首个问题记录 #{verdict.bad_seq}，"
                f"此前 {verdict.checked} 条完好）"
            )
        self.stdout.write(self.style.SUCCESS(f"审计链完好：共 {verdict.checked} 条记录"))
