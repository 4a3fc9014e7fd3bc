from django.contrib import admin, messages

from civicgrid.open311 import services
from civicgrid.open311.models import ApiKey, ServiceAttribute, ServiceRequest


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued with ``civicgrid apikey NAME`` or here (shown once), never edited."""

    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    search_fields = ("name", "prefix")
    fields = ("name",)
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        key, clear = services.issue_key(request.user, obj.name)
        obj.pk = key.pk
        messages.warning(request, f"新的 api_key（只显示这一次，请妥善转交）：{clear}")

    @admin.action(description="吊销所选 api_key")
    def revoke(self, request, queryset):
        for key in queryset:
            services.revoke_key(request.user, key)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    """Questions a service asks through Open311 (its service definition)."""

    list_display = ("category", "order", "code", "datatype", "required", "variable")
    list_filter = ("datatype", "required")
    search_fields = ("category__code", "category__name", "code", "description")
    raw_id_fields = ("category",)


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ("event", "client", "created_at", "media_url")
    list_filter = ("client",)
    search_fields = ("event__number", "token")
    exclude = ("email_enc",)
    readonly_fields = [
        "event",
        "client",
        "token",
        "account_id",
        "device_id",
        "attributes",
        "media_url",
        "email",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
