from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gongzhi.org.models import OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "kind", "parent", "has_boundary", "is_active"]
    list_filter = ["level", "kind", "department_type", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    ordering = ["path"]
    list_per_page = 100

    @admin.display(boolean=True, description=_("有边界"))
    def has_boundary(self, obj: OrgUnit) -> bool:
        return obj.boundary is not None

    def get_readonly_fields(self, request, obj=None):
        # Boundaries change only through import_grids/set_grid_boundary, which check geometry and overlaps.
        fields = ["path", "depth", "boundary", "centroid_lat", "centroid_lng"]
        if obj is not None:
            # A unit's descendants store its code in their paths, so code, parent and level stay fixed.
            fields += ["code", "parent", "level"]
        return fields
