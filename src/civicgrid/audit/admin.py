from django.contrib import admin

from civicgrid.accounts.scoping import scope_by_path
from civicgrid.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only, so the admin may only look."""

    list_display = ("seq", "time", "actor", "action", "object_type", "object_id", "request_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor", "request_id")
    readonly_fields = [f.name for f in AuditRecord._meta.fields]

    def get_queryset(self, request):
        """The same jurisdiction as the API: a district's auditor reads the district's trail."""
        return scope_by_path(super().get_queryset(request), request.user, "region_path")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
