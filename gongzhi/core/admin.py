from django.contrib import admin

from gongzhi.core.models import CalendarDay, PiiAccessLog


@admin.register(PiiAccessLog)
class PiiAccessLogAdmin(admin.ModelAdmin):
    """The unmasking record is evidence: nobody adds, edits or deletes rows by hand."""

    list_display = ["at", "actor", "subject_type", "subject_id", "field", "reason"]
    list_filter = ["field", "subject_type"]
    search_fields = ["actor__username", "actor__real_name", "reason"]
    date_hierarchy = "at"
    list_select_related = ["actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]
