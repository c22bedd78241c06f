"""Back-office admin for households and residents. ID and phone numbers are shown masked and are not
editable here: a form field would write the masked text back. Searching by a full ID or phone number
matches its keyed hash, so the plaintext is never compared in the database."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import normalize_id_number, normalize_phone
from gongzhi.registry.models import Household, KeyPersonCategory, Resident, SpecialGroup, VisitFrequency


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ["name", "relation", "gender", "birth_date", "masked_id_number", "masked_phone", "residence_type"]
    readonly_fields = ["masked_id_number", "masked_phone"]
    show_change_link = True
    extra = 0

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return str(obj.id_number or "")

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return str(obj.phone or "")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["number", "address", "village", "grid"]
    list_select_related = ["village", "grid"]
    search_fields = ["number", "address"]
    raw_id_fields = ["village", "grid"]
    inlines = [ResidentInline]
    # A city holds hundreds of thousands of households: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ["name", "masked_id_number", "masked_phone", "gender", "birth_date", "relation",
                    "residence_type", "household"]
    list_select_related = ["household"]
    list_filter = ["residence_type", "status", "relation", "gender"]
    search_fields = ["name", "household__number"]
    exclude = ["id_number", "phone"]
    readonly_fields = ["masked_id_number", "masked_phone"]
    raw_id_fields = ["grid", "household", "standard_address", "user"]
    show_full_result_count = False

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return str(obj.id_number or "")

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return str(obj.phone or "")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        for normalize, field in ((normalize_id_number, "id_number_hash"), (normalize_phone, "phone_hash")):
            try:
                value = normalize(term)
            except DomainError:
                continue
            return queryset.filter(**{field: keyed_hash(value)}), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(SpecialGroup, KeyPersonCategory)
class ListEntryAdmin(admin.ModelAdmin):
    """The lists a county keeps: special groups and key-person categories. An entry in use is switched off
    (启用), not deleted, so past records keep their label."""

    list_display = ["name", "code", "order", "is_active"]
    list_editable = ["order", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VisitFrequency)
class VisitFrequencyAdmin(admin.ModelAdmin):
    list_display = ["risk_level", "interval_days"]
    list_editable = ["interval_days"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
