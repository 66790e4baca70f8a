"""A record's change history, read from the audit log (django-auditlog): who changed what, when,
with each field under its verbose (translated) name."""

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist


def history_of(obj, limit=100):
    """The latest audit entries of `obj`, newest first, with their actors, in one query. Each
    entry gets `readable_changes`: [(field label, old, new)]."""
    entries = list(
        LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp")[:limit]
    )
    for entry in entries:
        entry.readable_changes = [
            (_label(type(obj), name), *values[:2]) for name, values in (entry.changes_dict or {}).items()
        ]
    return entries


def _label(model, name):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    # On a create auditlog also lists reverse relations (e.g. a staff member's postings), which
    # have no verbose_name of their own.
    return getattr(field, "verbose_name", None) or field.related_model._meta.verbose_name_plural
