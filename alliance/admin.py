"""Admin of the hierarchy and its governance. Every write goes through `alliance.services`
(core.admin.ServiceModelAdmin); an institution's place in an alliance is effective-dated, so its
history is shown read-only and changed only by joining, moving or leaving."""

from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from core.admin import ServiceAdminMixin, ServiceInlineMixin, ServiceModelAdmin

from . import services, webhooks
from .choices import PlacementRole
from .models import (
    Alliance,
    AlliancePopulation,
    CommitteeMember,
    Department,
    GovernanceDocument,
    Institution,
    InstitutionWebhook,
    Meeting,
    Placement,
    WebhookDelivery,
)
from .querysets import today


def _user(request):
    return {"acting_user": request.user}


# --- Alliances ----------------------------------------------------------------------------------
class PopulationInline(ServiceInlineMixin, admin.TabularInline):
    """Resident population per year, recorded by `set_population`; entering a year again
    corrects its figure."""

    model = AlliancePopulation
    fields = ["year", "resident_population"]
    can_delete = False

    def add_row(self, request, parent, data):
        return services.set_population(parent, **data, **_user(request))


@admin.register(Alliance)
class AllianceAdmin(ServiceModelAdmin):
    """Alliances: registered by `create_alliance`, edited by `update_alliance`."""

    list_display = ["name", "kind", "region_code", "charter_date"]
    list_filter = ["kind"]
    search_fields = ["name", "region_code"]
    fields = ["name", "kind", "region_code", "charter_date"]
    inlines = [PopulationInline]

    def create(self, request, data):
        return services.create_alliance(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_alliance(obj, **data, **_user(request))


# --- Institutions and their placements ------------------------------------------------------------
class CurrentAllianceFilter(admin.SimpleListFilter):
    """Institutions by the alliance they belong to today."""

    title = _("alliance (today)")
    parameter_name = "alliance"

    def lookups(self, request, model_admin):
        return [(alliance.pk, str(alliance)) for alliance in Alliance.objects.for_user(request.user)]

    def queryset(self, request, queryset):
        return queryset.placed_on(today(), alliance=self.value()) if self.value() else queryset


class CurrentRoleFilter(admin.SimpleListFilter):
    """Institutions by their role in an alliance today."""

    title = _("role (today)")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return PlacementRole.choices

    def queryset(self, request, queryset):
        return queryset.placed_on(today(), role=self.value()) if self.value() else queryset


class PlacementHistoryInline(admin.TabularInline):
    """An institution's periods in alliances, oldest first: read-only, since history is never
    rewritten; a period is opened or closed on the placement pages."""

    model = Placement
    fk_name = "institution"
    fields = ["alliance", "role", "parent", "valid_from", "valid_to"]
    readonly_fields = fields
    ordering = ["valid_from"]
    show_change_link = True
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("alliance", "parent")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Institution)
class InstitutionAdmin(ServiceAdminMixin, GuardedModelAdmin):
    """Member institutions: `register_institution`, `update_institution`. The list shows each
    one's place today; the change page its placement history and, through django-guardian, the
    per-institution grants of `view_institution` / `change_institution` (DESIGN §5, audited)."""

    list_display = ["code", "name", "level", "current_alliance", "current_role", "region_code", "open_beds"]
    list_filter = ["level", CurrentAllianceFilter, CurrentRoleFilter]
    search_fields = ["code", "name", "credit_code"]
    fields = ["code", "name", "level", "credit_code", "region_code", "licensed_beds", "open_beds"]
    inlines = [PlacementHistoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_placement_on(today())

    @admin.display(description=_("alliance (today)"))
    def current_alliance(self, obj):
        placement = obj.placement_on(today())
        return placement.alliance if placement else "—"

    @admin.display(description=_("role (today)"))
    def current_role(self, obj):
        placement = obj.placement_on(today())
        return placement.get_role_display() if placement else "—"

    def create(self, request, data):
        return services.register_institution(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_institution(obj, **data, **_user(request))


class OpenPeriodFilter(admin.SimpleListFilter):
    """Periods still running (no end date) or closed."""

    title = _("period")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("running")), ("no", _("ended"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(valid_to__isnull=self.value() == "yes")
        return queryset


@admin.register(Placement)
class PlacementAdmin(ServiceModelAdmin):
    """An institution's place in an alliance over [valid_from, valid_to). Adding joins the
    alliance (`join_alliance`) when no period covers `valid_from`, otherwise moves the institution
    on that day (`move_institution`: the covering period closes the same day). On a running
    period only `valid_to` can be set, which ends it (`leave_alliance`). Never deleted."""

    list_display = ["institution", "alliance", "role", "parent", "valid_from", "valid_to"]
    list_filter = ["alliance__kind", "role", OpenPeriodFilter, "alliance"]
    list_select_related = ["institution", "alliance", "parent"]
    search_fields = ["institution__code", "institution__name", "alliance__name", "parent__name"]
    autocomplete_fields = ["institution", "alliance", "parent"]
    date_hierarchy = "valid_from"
    fields = ["institution", "alliance", "role", "parent", "valid_from", "valid_to"]

    def get_fields(self, request, obj=None):
        return self.fields if obj else self.fields[:-1]

    def get_readonly_fields(self, request, obj=None):
        return self.fields[:-1] if obj else []

    def has_change_permission(self, request, obj=None):
        running = obj is None or obj.valid_to is None
        return running and super().has_change_permission(request, obj)

    def get_error_fields(self, change):
        return {"on": "valid_to" if change else "valid_from"}

    def create(self, request, data):
        institution, on = data.pop("institution"), data.pop("valid_from")
        if institution.placement_on(on) is None:
            return services.join_alliance(institution, valid_from=on, **data, **_user(request))
        return services.move_institution(institution, on=on, **data, **_user(request))

    def update(self, request, obj, data):
        return services.leave_alliance(obj.institution, on=data["valid_to"], **_user(request))


@admin.register(Department)
class DepartmentAdmin(ServiceModelAdmin):
    """Clinical departments (诊疗科目): `create_department`, `update_department`."""

    list_display = ["code", "name", "institution", "active"]
    list_filter = ["active", "institution__level"]
    list_select_related = ["institution"]
    search_fields = ["code", "name", "institution__code", "institution__name"]
    autocomplete_fields = ["institution"]
    fields = ["institution", "code", "name", "active"]

    def create(self, request, data):
        return services.create_department(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_department(obj, **data, **_user(request))


# --- Governance ----------------------------------------------------------------------------------
@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ServiceModelAdmin):
    """Management committee (医管委) members: `add_committee_member`, `update_committee_member`."""

    list_display = ["name", "position", "organisation", "alliance", "valid_from", "valid_to"]
    list_filter = ["position", "alliance__kind", "alliance"]
    list_select_related = ["alliance"]
    search_fields = ["name", "organisation", "alliance__name"]
    autocomplete_fields = ["alliance"]
    date_hierarchy = "valid_from"
    fields = ["alliance", "name", "position", "organisation", "valid_from", "valid_to"]

    def create(self, request, data):
        return services.add_committee_member(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_committee_member(obj, **data, **_user(request))


@admin.register(Meeting)
class MeetingAdmin(ServiceModelAdmin):
    """Governance meetings: `record_meeting`, `update_meeting`."""

    list_display = ["held_on", "title", "kind", "alliance"]
    list_filter = ["kind", "alliance__kind", "alliance"]
    list_select_related = ["alliance"]
    search_fields = ["title", "attendees", "decisions", "alliance__name"]
    autocomplete_fields = ["alliance"]
    date_hierarchy = "held_on"
    fields = ["alliance", "kind", "held_on", "title", "attendees", "decisions", "minutes"]

    def create(self, request, data):
        return services.record_meeting(**data, **_user(request))

    def update(self, request, obj, data):
        return services.update_meeting(obj, **data, **_user(request))


@admin.register(GovernanceDocument)
class GovernanceDocumentAdmin(ServiceModelAdmin):
    """Charter and responsibility-list versions: `publish_document` numbers each new version;
    a published version is never edited (its page is read-only)."""

    list_display = ["alliance", "kind", "version", "title", "effective_on"]
    list_filter = ["kind", "alliance__kind", "alliance"]
    list_select_related = ["alliance"]
    search_fields = ["title", "notes", "alliance__name"]
    autocomplete_fields = ["alliance"]
    date_hierarchy = "effective_on"
    fields = ["alliance", "kind", "version", "title", "effective_on", "file", "notes"]
    readonly_fields = ["version"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def create(self, request, data):
        return services.publish_document(**data, **_user(request))


# --- Webhooks to an institution's HIS (issue 6.5) -------------------------------------------------
class SuperuserOnlyAdminMixin:
    """A webhook's URL and secret are an integration setting: only superusers see or change them."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InstitutionWebhook)
class InstitutionWebhookAdmin(SuperuserOnlyAdminMixin, ServiceModelAdmin):
    """Webhooks: configured by `configure_webhook`, which generates the secret; it is shown once,
    in the message after saving (and again only when rotated), never on the form."""

    list_display = ["institution", "url", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["institution__code", "institution__name", "url"]
    list_select_related = ["institution"]
    actions = ["rotate_secret"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fields(self, request, obj=None):
        return ["url", "active"] if obj is not None else ["institution", "url", "active"]

    def create(self, request, data):
        webhook = webhooks.configure_webhook(data.pop("institution"), **data, **_user(request))
        self._show_secret(request, webhook, webhook.secret)
        return webhook

    def update(self, request, obj, data):
        return webhooks.update_webhook(obj, **data, **_user(request))

    @admin.action(description=_("Generate a new secret"))
    def rotate_secret(self, request, queryset):
        for webhook in queryset.select_related("institution"):
            self._show_secret(request, webhook, webhooks.rotate_webhook_secret(webhook, **_user(request)))

    def _show_secret(self, request, webhook, secret):
        message = _(
            "Secret of the webhook of %(institution)s (copy it now, it is not shown again): %(secret)s"
        )
        self.message_user(
            request, message % {"institution": webhook.institution, "secret": secret}, messages.WARNING
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SuperuserOnlyAdminMixin, admin.ModelAdmin):
    """Deliveries, read-only: what was sent to which HIS, how often, and how it ended."""

    list_display = [
        "id",
        "webhook",
        "event",
        "state",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["state", "event"]
    search_fields = ["webhook__institution__code", "event"]
    list_select_related = ["webhook__institution"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
