from django.contrib import admin

from civicgrid.events import calendar_services
from civicgrid.events.models import WorkDay


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
