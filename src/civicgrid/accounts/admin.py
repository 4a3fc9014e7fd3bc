"""Admin for users, departments and tokens. Saves go through the services, so they are
validated and audited like any other change."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from civicgrid.accounts import services
from civicgrid.accounts.backends import forget_permissions
from civicgrid.accounts.forms import ThrottledAdminLoginForm
from civicgrid.accounts.models import ApiToken, Department, User
from civicgrid.accounts.scoping import scope_by_path, scope_by_region
from civicgrid.accounts.selectors import departments_for
from civicgrid.audit import services as audit
from civicgrid.core.errors import ServiceError
from civicgrid.geo.models import Region

admin.site.login_form = ThrottledAdminLoginForm


NEW_FIELDS = ("code", "name", "kind", "sector", "region", "parent", "phone", "active")


class DepartmentForm(forms.ModelForm):
    """The service's rules on the form itself, so a refused parent, code or region is shown on
    its field rather than as a server error after the form was accepted. ``actor`` is set per
    request by DepartmentAdmin.get_form."""

    actor = None

    class Meta:
        model = Department
        fields = NEW_FIELDS

    def clean(self):
        cleaned = super().clean()
        try:
            if self.instance.pk is None:
                if {"code", "name", "kind", "region"} <= set(cleaned):  # else already refused
                    services.check_new_department(
                        self.actor, **{f: cleaned.get(f) for f in NEW_FIELDS}
                    )
            else:  # the instance still holds the stored values until _post_clean
                services.check_department_changes(
                    self.actor,
                    self.instance,
                    **{
                        f: cleaned[f]
                        for f in self.changed_data
                        if f in services.DEPARTMENT_EDITABLE and f in cleaned
                    },
                )
        except ServiceError as exc:
            if not exc.errors:
                raise forms.ValidationError(exc.detail) from None
            for e in exc.errors:
                self.add_error(e.field if e.field in self.fields else None, e.message)
        return cleaned


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentForm
    list_display = ("code", "name", "kind", "sector", "region", "active")
    list_filter = ("kind", "sector", "active")
    search_fields = ("code", "name")
    raw_id_fields = ("region", "parent")

    def get_readonly_fields(self, request, obj=None):
        # code, kind and region are what the department is; they are set once, on add
        return ("code", "kind", "region") if obj is not None else ()

    def get_queryset(self, request):
        return scope_by_region(super().get_queryset(request), request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # a class made for this request (modelform_factory)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # an id typed into a raw-id box must name something the user may choose: a region of
        # their jurisdiction; a department in it or at a node above (where the parent of
        # their top centre sits). The service checks again, with the tree rule.
        if db_field.name == "region":
            kwargs["queryset"] = scope_by_path(
                Region.light.exclude(level="grid"), request.user, "path"
            )
        elif db_field.name == "parent":
            kwargs["queryset"] = departments_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # the form has run the same checks (DepartmentForm.clean)
        if change:
            services.update_department(
                request.user,
                Department.objects.get(pk=obj.pk),
                **{
                    f: form.cleaned_data[f]
                    for f in form.changed_data
                    if f in services.DEPARTMENT_EDITABLE
                },
            )
        else:
            created = services.create_department(
                request.user, **{f: form.cleaned_data.get(f) for f in NEW_FIELDS}
            )
            obj.pk = created.pk
            obj._state.adding = False

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
