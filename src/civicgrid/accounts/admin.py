"""Admin for users, departments and tokens. Saves go through the services, so they are
validated and audited like any other change."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from civicgrid.accounts import services
from civicgrid.accounts.backends import forget_permissions
from civicgrid.accounts.forms import ThrottledAdminLoginForm
from civicgrid.accounts.models import ApiToken, Department, User
from civicgrid.accounts.scoping import scope_by_region
from civicgrid.audit import services as audit

admin.site.login_form = ThrottledAdminLoginForm


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "sector", "region", "active")
    list_filter = ("kind", "sector", "active")
    search_fields = ("code", "name")
    raw_id_fields = ("region", "parent")
    readonly_fields = ("code", "kind", "region")

    def get_queryset(self, request):
        return scope_by_region(super().get_queryset(request), request.user)

    def save_model(self, request, obj, form, change):
        if change:
            services.update_department(
                request.user,
                Department.objects.get(pk=obj.pk),
                **{
                    f: form.cleaned_data[f]
                    for f in form.changed_data
                    if f in {"name", "phone", "active", "parent", "sector"}
                },
            )
        else:
            super().save_model(request, obj, form, change)
            audit.record(
                "accounts.department.create",
                actor=request.user,
                obj=obj,
                after={"code": obj.code, "name": obj.name},
            )

    def has_delete_permission(self, request, obj=None):
        return False  # departments are deactivated, never deleted: events refer to them


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "jurisdiction", "department", "is_active")
    list_filter = ("groups", "is_active")
    search_fields = ("username", "full_name")
    raw_id_fields = ("jurisdiction", "department")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("辖区与机构", {"fields": ("full_name", "jurisdiction", "department")}),
    )

    def get_queryset(self, request):
        return scope_by_region(super().get_queryset(request), request.user, "jurisdiction")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            "accounts.user.admin_save",
            actor=request.user,
            obj=obj,
            extra={"changed": sorted(form.changed_data)},
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        forget_permissions(form.instance.pk)  # groups are saved here, after save_model


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "digest", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are issued with `civicgrid token`, which shows the clear text once

    @admin.action(description="吊销所选令牌")
    def revoke(self, request, queryset):
        for token in queryset:
            services.revoke_token(request.user, token)
