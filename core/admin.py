"""Admin for core's rows: jobs (read-only, to follow long work) and idempotency keys."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .models import IdempotencyKey, Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["purge_idempotency_keys"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Purge expired idempotency keys now"))
    def purge_idempotency_keys(self, request, queryset):
        job = services.start_idempotency_key_purge(acting_user=request.user)
        self.message_user(request, _("Started job #%(id)s.") % {"id": job.pk}, messages.SUCCESS)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "endpoint", "response_status", "created_at"]
    search_fields = ["key", "endpoint"]
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request):
        return False
