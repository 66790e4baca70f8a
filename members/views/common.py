"""What the people pages share: a detail page of a scoped record with its change history, and a
form page that calls one service."""

from django.utils.translation import gettext_noop

from core.detail import ScopedDetailView
from core.forms import ServiceFormView
from core.history import history_of

# django-auditlog ships no Chinese: the action names of a change history ("create", …) are
# marked here so that our catalogue translates them.
AUDIT_ACTIONS = (
    gettext_noop("create"),
    gettext_noop("update"),
    gettext_noop("delete"),
    gettext_noop("access"),
)


def readable_history(obj, hidden=frozenset(), mask=None):
    """The record's change history over its own columns only: auditlog also lists reverse
    relations on a create ("postings: None → None"), which say nothing. `hidden` fields are left
    out and `mask(name, value)` may rewrite a value (a resident's name)."""
    model, entries = type(obj), history_of(obj)
    own = {field.name: field.verbose_name for field in model._meta.concrete_fields}
    mask = mask or (lambda name, value: value)
    for entry in entries:
        entry.readable_changes = [
            (own[name], mask(name, values[0]), mask(name, values[1]))
            for name, values in (entry.changes_dict or {}).items()
            if name in own and name not in hidden
        ]
    return entries


class RecordDetailView(ScopedDetailView):
    """A people record (404 outside the user's scope), its change history over its own columns
    and whether the user may change it (`can_edit`: write links are shown only then)."""

    def get_history(self):
        return readable_history(self.object)

    def get_context_data(self, **kwargs):
        return super().get_context_data(can_edit=self.may_change(), **kwargs)


class PeopleFormView(ServiceFormView):
    """A create or edit form of the people pages (template `members/record_form.html`)."""

    template_name = "members/record_form.html"
    title = ""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, cancel_url=self.get_cancel_url(), **kwargs)

    def get_cancel_url(self):
        return self.object.get_absolute_url() if self.object else ""
