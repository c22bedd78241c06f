from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import Case, CaseLog, Category, TimeLimit, number_q


class TimeLimitInline(admin.TabularInline):
    model = TimeLimit
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent", "kind", "is_public", "handler_type", "is_active", "version"]
    list_filter = ["kind", "is_public", "is_active"]
    search_fields = ["name", "code"]
    readonly_fields = ["version"]
    inlines = [TimeLimitInline]


class CaseLogInline(admin.TabularInline):
    """The log is append-only: shown, never edited here."""

    model = CaseLog
    extra = 0
    can_delete = False
    fields = readonly_fields = ("seq", "action", "from_status", "to_status", "actor", "note", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: a case changes only through its workflow (cases.services.transition)."""

    list_display = ["number", "category", "status", "holder", "grid", "created_at", "handle_due"]
    list_filter = ["status", "source", "category__kind"]
    search_fields = ["description"]
    search_help_text = _("按编号或内容查找")
    inlines = [CaseLogInline]

    def get_search_results(self, request, queryset, search_term):
        by_number = number_q(search_term)
        if by_number is not None:
            return queryset.filter(by_number), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
