"""Admin of referrals: an alliance's referral settings are edited here (a single row, no side
effects); referrals, slots and beds are read-only, since they change only through the services;
weekly template lines are written through them (`ServiceModelAdmin`)."""

from django.contrib import admin

from core.admin import ServiceModelAdmin

from . import services
from .models import Bed, PoolPublication, PoolTemplateEntry, Referral, ReferralEvent, ReferralSettings, Slot


@admin.register(ReferralSettings)
class ReferralSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "alliance", "slot_cutoff_hours", "routine_limit_hours", "urgent_limit_hours", "emergency_limit_hours",
    ]  # fmt: skip


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    extra = 0
    fields = ["at", "from_state", "to_state", "acting_user", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["pk", "direction", "state", "from_institution", "to_institution", "urgency", "priority"]
    list_filter = ["direction", "state", "urgency", "priority"]
    list_select_related = ["from_institution", "to_institution"]
    exclude = ["patient_name_encrypted", "patient_id_encrypted", "patient_key"]
    inlines = [ReferralEventInline]


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdmin):
    list_display = [
        "pk", "institution", "department", "date", "period", "doctor", "number", "expected_at", "reserved",
        "returned_at",
    ]  # fmt: skip
    list_filter = ["period", "reserved"]
    list_select_related = ["institution", "department"]


@admin.register(Bed)
class BedAdmin(ReadOnlyAdmin):
    list_display = ["pk", "institution", "department", "date"]
    list_select_related = ["institution", "department"]


@admin.register(PoolTemplateEntry)
class PoolTemplateEntryAdmin(ServiceModelAdmin):
    """Template lines through create/update/delete_template_entry: their rules and messages."""

    list_display = [
        "institution",
        "weekday",
        "kind",
        "department",
        "period",
        "doctor",
        "count",
        "reserved_for_primary",
        "interval_minutes",
    ]
    list_filter = ["kind", "weekday", "period"]
    list_select_related = ["institution", "department"]
    fields = [
        "institution",
        "weekday",
        "kind",
        "department",
        "period",
        "doctor",
        "count",
        "reserved_for_primary",
        "interval_minutes",
    ]
    deletable = True

    def get_readonly_fields(self, request, obj=None):
        return ["institution"] if obj is not None else []

    def create(self, request, data):
        institution = data.pop("institution")
        return services.create_template_entry(institution, acting_user=request.user, **data)

    def update(self, request, obj, data):
        return services.update_template_entry(obj, acting_user=request.user, **data)

    def delete(self, request, obj):
        services.delete_template_entry(obj, acting_user=request.user)


@admin.register(PoolPublication)
class PoolPublicationAdmin(ReadOnlyAdmin):
    list_display = ["institution", "week_start", "slots", "beds", "published_at", "published_by"]
    list_select_related = ["institution", "published_by"]
    date_hierarchy = "week_start"
