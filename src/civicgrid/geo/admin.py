"""Admin for the governance tree: browse and rename; polygons change only by import."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from civicgrid.accounts.scoping import scope_by_path
from civicgrid.geo import services
from civicgrid.geo.models import Region


class RegionForm(forms.ModelForm):
    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        problem = services.name_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        return name


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "synthetic", "area_km2")
    list_filter = ("level", "synthetic", "district_code")
    search_fields = ("code", "name", "official_name")
    fields = (
        "code",
        "name",
        "official_name",
        "level",
        "parent",
        "path",
        "district_code",
        "synthetic",
        "area_km2",
        "lon",
        "lat",
        "updated_at",
    )
    readonly_fields = (
        "code",
        "official_name",
        "level",
        "parent",
        "path",
        "district_code",
        "synthetic",
        "area_km2",
        "lon",
        "lat",
        "updated_at",
    )
    list_select_related = ("parent",)
    show_full_result_count = False

    form = RegionForm

    def get_queryset(self, request):
        return scope_by_path(super().get_queryset(request).defer("geometry"), request.user, "path")

    def has_add_permission(self, request):
        return False  # nodes come from the official code lists and `civicgrid import regions`

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "name" in form.changed_data:
            services.rename_region(request.user, Region.objects.get(pk=obj.pk), obj.name)
