"""The append-only audit trail (DESIGN §12)."""

from __future__ import annotations

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit record through the ORM."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("审计记录只能追加，不能修改")

    def delete(self):
        raise AppendOnlyError("审计记录只能追加，不能删除")


class AuditRecord(models.Model):
    """One business action: who did what to which object, when, under which request.

    ``hash`` covers the record and ``prev_hash`` (the previous record's hash), so the trail is
    a chain: ``civicgrid audit verify`` finds the first record altered or removed. Database
    triggers (see the migration) refuse UPDATE and DELETE as a second line of defence.
    """

    seq = models.BigIntegerField("序号", unique=True)
    time = models.DateTimeField("时间", db_index=True)
    actor = models.CharField("操作人", max_length=150)
    actor_id = models.BigIntegerField("操作人 ID", null=True, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象", max_length=64, blank=True, db_index=True)
    region_path = models.CharField("所属区域路径", max_length=100, blank=True, db_index=True)
    summary = models.JSONField("变更摘要", default=dict, blank=True)
    request_id = models.CharField("请求 ID", max_length=64, blank=True)
    prev_hash = models.CharField("前序哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("审计记录只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("审计记录只能追加，不能删除")

    def as_chain_dict(self) -> dict:
        from civicgrid.audit.chain import HASHED_FIELDS

        d = {name: getattr(self, name) for name in HASHED_FIELDS}
        d["hash"] = self.hash
        return d


class AuditHead(models.Model):
    """The writer's own note of the trail's end (a single row), locked while appending.

    Locking it serialises writers so sequence numbers and the chain stay gap-free; comparing it
    with the last record reveals records cut from the end.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = "审计链头"

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
