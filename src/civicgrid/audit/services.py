"""Writing the audit trail. Every service that changes state calls ``record`` inside its
transaction, so the business change and its audit record commit or roll back together."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from civicgrid.audit.chain import GENESIS, record_hash
from civicgrid.audit.models import AuditHead, AuditRecord
from civicgrid.core.context import current_request_id

SYSTEM = "system"


def _actor_fields(actor: Any) -> tuple[str, int | None]:
    if actor is None:
        return SYSTEM, None
    if isinstance(actor, str):
        return actor, None
    return actor.get_username(), actor.pk


def record(
    action: str,
    *,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    region_path: str = "",
    before: dict | None = None,
    after: dict | None = None,
    extra: dict | None = None,
) -> AuditRecord:
    """Append one record. ``obj`` (a model instance) fills type, id and region when given."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        region_path = region_path or getattr(obj, "audit_region_path", "") or ""
    summary: dict[str, Any] = {}
    if before is not None:
        summary["before"] = before
    if after is not None:
        summary["after"] = after
    if extra:
        summary.update(extra)
    actor_name, actor_id = _actor_fields(actor)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS}
        )
        rec = AuditRecord(
            seq=head.seq + 1,
            time=timezone.now(),
            actor=actor_name,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id)[:64],
            region_path=region_path,
            summary=summary,
            request_id=current_request_id(),
            prev_hash=head.hash,
        )
        rec.hash = record_hash(rec.as_chain_dict())
        rec.save()
        head.seq, head.hash = rec.seq, rec.hash
        head.save(update_fields=["seq", "hash"])
    return rec
