"""Audit hook-up: one line registers a model with django-auditlog (who changed what, when).

Sensitive fields are masked in the log (`mask_fields`) or left out of it (`exclude_fields`), so
the audit trail never becomes a second copy of personal data.
"""

from auditlog.cid import get_cid
from auditlog.context import auditlog_value
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.conf import settings
from django.contrib.contenttypes.models import ContentType


def register(model=None, *, mask_fields=(), exclude_fields=()):
    """Register `model` for auditing; usable as `register(Model, ...)` or as a class decorator."""

    def apply(cls):
        auditlog.register(cls, mask_fields=list(mask_fields), exclude_fields=list(exclude_fields))
        return cls

    return apply(model) if model is not None else apply


def log_created(instances):
    """Audit rows written by `bulk_create`, which sends no signals: one "create" entry per row, as
    auditlog writes for a single save (the same diff, masks and actor), in one bulk insert."""
    instances = list(instances)
    if not instances:
        return []
    content_type = ContentType.objects.get_for_model(instances[0])
    context = auditlog_value.get({})
    actor = context.get("actor")
    entries = [
        LogEntry(
            content_type=content_type,
            object_pk=str(instance.pk),
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=str(instance),
            action=LogEntry.Action.CREATE,
            changes=model_instance_diff(
                None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
            ),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_email=getattr(actor, "email", None) if getattr(actor, "pk", None) else None,
            remote_addr=context.get("remote_addr"),
            cid=get_cid(),
        )
        for instance in instances
    ]
    return LogEntry.objects.bulk_create(entries)
