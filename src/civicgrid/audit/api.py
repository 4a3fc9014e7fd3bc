"""Audit trail API, for auditors within their jurisdiction."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema
from ninja.pagination import paginate

from civicgrid.accounts.auth import staff_auth
from civicgrid.audit import selectors
from civicgrid.core.paging import Paged

router = Router(tags=["audit"], auth=staff_auth)


class AuditOut(Schema):
    seq: int
    time: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: dict[str, Any]
    request_id: str
    hash: str


@router.get("", response=list[AuditOut], summary="审计记录（本辖区）")
@paginate(Paged)
def list_records(request, action: str | None = None, object_id: str | None = None):
    if not request.auth.has_perm("audit.view_auditrecord"):
        raise PermissionDenied("只有审计员可以查看审计记录")
    return selectors.records_for(request.auth, action=action, object_id=object_id)
