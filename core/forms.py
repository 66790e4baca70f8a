"""Pages that write through the services: one way to show a service's ValidationError (or
Conflict) on a form, in the clerk's language, instead of a server error."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.views.generic import FormView

from . import access
from .exceptions import Conflict


def attach_errors(form, error, renames=None):
    """Put a service's error on `form`: on the field it names when the form has that field
    (after `renames`, e.g. the service's `on` → the form's `valid_from`), otherwise above it."""
    if isinstance(error, Conflict):
        form.add_error(None, error.message)
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        name = (renames or {}).get(name, name)
        form.add_error(name if name in form.fields else None, errors)


class ServiceFormView(FormView):
    """A create or edit page: the form checks shape, `perform(form)` calls one service (with
    `acting_user`), and a service error comes back on the form with nothing written.

    `model` and `get_object()` (None on create) let the page ask the access policy first: a
    role that may not write this gets 403, before any form is shown.
    """

    model = None
    error_renames = {}

    def get_object(self):
        return None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        self.object = self.get_object()
        if not access.can_write(request.user, self.model, self.object):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            with transaction.atomic():
                self.object = self.perform(form)
        except (ValidationError, Conflict) as error:
            attach_errors(form, error, self.error_renames)
            return self.form_invalid(form)
        return HttpResponseRedirect(self.get_success_url())

    def perform(self, form):
        raise NotImplementedError

    def get_success_url(self):
        return self.object.get_absolute_url()

    def get_context_data(self, **kwargs):
        return super().get_context_data(object=self.object, **kwargs)
