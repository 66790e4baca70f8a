"""Detail pages: one way to show a record the user may see, with its history (NetBox's
ObjectView and ObjectChangeLogView on one page).

The row is fetched through the access door (`core.access.scope`, DESIGN §5): a row outside the
user's reach is a 404, never a 403, so a page never confirms that a hidden row exists. The edit
forms fetch their row through the same door (`get_scoped_or_404`) before asking whether the
user may change it (403).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView

from . import access
from .history import history_of


def get_scoped_or_404(queryset, user, pk, action=access.READ):
    """The row `pk` of `queryset` (or of a model's default manager) if `user` may `action` it,
    else Http404 (Zulip's `access_*_by_id`)."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return get_object_or_404(access.scope(queryset, user, action), pk=pk)


class ScopedDetailView(LoginRequiredMixin, DetailView):
    """A record the user may `action` (404 otherwise; anonymous users go to the login page),
    with `related` select_related paths and its history under `history_context_name`.

    `get_history()` is the record's audit trail (`core.history.history_of`); a page with a
    history of its own (a referral's timeline of events) overrides it.
    """

    action = access.READ
    related = ()  # select_related paths
    history_context_name = "history"

    def get_queryset(self):
        queryset = access.scope(super().get_queryset(), self.request.user, self.action)
        return queryset.select_related(*self.related) if self.related else queryset

    def get_history(self):
        return history_of(self.object)

    def may_change(self):
        """Whether the user may change this record (the page shows its write links only then)."""
        return access.can_write(self.request.user, type(self.object), self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context[self.history_context_name] = self.get_history()
        return context
