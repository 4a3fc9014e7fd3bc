from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from civicgrid.events import calendar_services, catalogue_services
from civicgrid.events.catalogue import CatalogueError
from civicgrid.events.models import Category, Event, RoutingRule, TimelineEntry, WorkDay


@admin.register(WorkDay)
class WorkDayAdmin(admin.ModelAdmin):
    """Correct a date by hand; the change is marked ``manual`` and audited."""

    list_display = ("date", "workday", "name", "source")
    list_filter = ("source", "workday")
    date_hierarchy = "date"
    fields = ("date", "workday", "name", "source")
    readonly_fields = ("source",)

    def save_model(self, request, obj, form, change):
        calendar_services.set_day(request.user, obj.date, workday=obj.workday, name=obj.name)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The catalogue (事项目录): edited here or loaded with ``civicgrid import catalogue``."""

    list_display = (
        "code",
        "name",
        "parent",
        "leaf",
        "intake_type",
        "deadline",
        "urgency",
        "on_spot",
        "route",
        "active",
    )
    list_filter = ("level", "leaf", "urgency", "on_spot", "intake_type", "source", "active")
    search_fields = ("code", "name", "keywords")
    readonly_fields = ("level", "leaf", "updated_at")
    ordering = ("code",)

    def save_model(self, request, obj, form, change):
        try:
            catalogue_services.save_category(request.user, obj)
        except CatalogueError as exc:
            for p in exc.problems:
                messages.error(request, f"{p.column}“{p.value}”：{p.reason}")
            raise ValidationError(str(exc)) from None

    def has_delete_permission(self, request, obj=None):
        return False  # events refer to nodes: retire them with “启用” instead


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """A city's own routing decisions; the most specific rule wins."""

    list_display = ("category", "region", "department", "note", "updated_at")
    search_fields = ("category__code", "category__name", "department__code", "department__name")
    autocomplete_fields = ("category",)
    raw_id_fields = ("region", "department")

    def save_model(self, request, obj, form, change):
        catalogue_services.save_rule(request.user, obj)


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    fields = ("at", "actor", "action", "from_status", "to_status", "department", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are read here; they change only through the workflow (API and workbench)."""

    list_display = (
        "number",
        "channel",
        "category",
        "status",
        "district_code",
        "deadline",
        "supervision",
        "problem",
        "created_at",
    )
    list_filter = ("status", "channel", "supervision", "problem", "district_code")
    search_fields = ("=number", "=source_ref", "title")
    date_hierarchy = "created_at"
    inlines = [TimelineInline]
    exclude = ("reporter_name_enc", "reporter_phone_enc")
    list_select_related = ("category",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
