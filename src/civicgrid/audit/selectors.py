"""Reading the audit trail: scoped to the reader's jurisdiction, and verifying it whole."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.audit.chain import Verdict, verify
from civicgrid.audit.models import AuditHead, AuditRecord


def records_for(user, *, action: str | None = None, object_id: str | None = None) -> QuerySet:
    """Records about objects inside the user's jurisdiction (city-level users see all)."""
    from civicgrid.accounts.scoping import scope_by_path

    qs = scope_by_path(AuditRecord.objects.all(), user, "region_path")
    if action:
        qs = qs.filter(action=action)
    if object_id:
        qs = qs.filter(object_id=object_id)
    return qs.order_by("-seq")


def verify_trail() -> Verdict:
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    rows = (r.as_chain_dict() for r in AuditRecord.objects.order_by("seq").iterator(2000))
    return verify(rows, head)
