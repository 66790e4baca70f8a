"""Reading the marks writes leave through `core.measures.mark_changed` (issue 14 point 5)."""

from core.models import MeasureChange


def marks(cause=None):
    """The MeasureChange rows as sorted `(alliance_id, month, cause label, cause id)`; only those
    of `cause` (a model instance) when given."""
    rows = MeasureChange.objects.all()
    if cause is not None:
        rows = rows.filter(cause_type=cause._meta.label_lower, cause_id=cause.pk)
    return sorted(rows.values_list("alliance_id", "month", "cause_type", "cause_id"))


def months_marked(alliance, cause=None):
    """The months marked for `alliance` (by `cause` when given), sorted, as first days."""
    alliance_id = getattr(alliance, "pk", alliance)
    return sorted({month for marked, month, _label, _id in marks(cause) if marked == alliance_id})
