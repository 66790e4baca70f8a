"""Admin of the indicator definitions (issue 14 point 3): the bureau adds an indicator through
`create_definition`, and an edit saves the next version through `revise_definition`; the row
on screen is never changed in place. The page editor and the API come with points 7 and later."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceModelAdmin

from . import services
from .models import IndicatorDefinition

DETAILS = [
    "name_zh", "name_en", "definition", "data_source", "numerator", "denominator", "unit", "decimals",
    "target", "target_comparison", "target_tolerance", "direction", "for_alliance", "for_township",
    "for_institution", "effective_from", "effective_to",
]  # fmt: skip


class CurrentFilter(admin.SimpleListFilter):
    """The versions effective today, or all of them."""

    title = _("version")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("effective today"))]

    def queryset(self, request, queryset):
        return queryset.current() if self.value() == "yes" else queryset


@admin.register(IndicatorDefinition)
class IndicatorDefinitionAdmin(ServiceModelAdmin):
    list_display = [
        "code",
        "version",
        "name_zh",
        "unit",
        "target_comparison",
        "target",
        "effective_from",
        "effective_to",
    ]
    list_filter = [CurrentFilter, "unit", "direction"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["created_by"]

    def get_fields(self, request, obj=None):
        heads = ["code", "version", "created_by", "created_at"] if obj else ["code"]
        return [*heads, *DETAILS]

    def get_readonly_fields(self, request, obj=None):
        return ["code", "version", "created_by", "created_at"] if obj else []

    def create(self, request, data):
        return services.create_definition(**data, acting_user=request.user)

    def update(self, request, obj, data):
        return services.revise_definition(obj, **data, acting_user=request.user)
