"""Admin for core's rows (jobs, read-only, to follow long work; idempotency keys) and the shared
mixins with which every app's admin writes through its services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils.translation import gettext_lazy as _

from . import access, services
from .exceptions import Conflict
from .forms import attach_errors
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


# --- Admin pages that write through the services ------------------------------------------------
def service_data(form, names):
    """The cleaned values of `names` as a service takes them: an untouched file is left out,
    a cleared one becomes an empty name."""
    data = {}
    for name in names:
        value = form.cleaned_data.get(name)
        if isinstance(form.fields[name], forms.FileField):
            if value is None and name not in form.changed_data:
                continue
            value = value or ""
        data[name] = value
    return data


class ServiceAdminMixin:
    """An admin that writes only through the app's services (STYLE.md: the web page, the admin,
    the API and the Excel import call the same service), with `acting_user=request.user`.

    The service runs while the form validates, inside the transaction Django's changeform_view
    opens: its ValidationError lands on the form in the clerk's language, the form's instance
    becomes the service's result and `save_model` writes nothing. Subclasses implement
    `create(request, data)` and `update(request, obj, data)` (`data`: cleaned values; on a change
    only the changed ones). Rows are deleted only through `delete(request, obj)` of an admin that
    sets `deletable`: without a service, history is never rewritten here. Inlines are shown on
    change pages only, where their parent exists. Staff users who are not superusers see the rows
    the access policy gives them (DESIGN §5) and change what it lets them write.
    """

    error_fields = {}  # a service's error key → the form field that shows it
    deletable = False

    def create(self, request, data):
        raise NotImplementedError

    def update(self, request, obj, data):
        raise NotImplementedError

    def delete(self, request, obj):
        raise NotImplementedError

    def get_error_fields(self, change):
        return self.error_fields

    # --- the write -----------------------------------------------------------------------------
    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):  # instead of the model's own validation: the service validates
                model_admin.write_through_service(request, self, change)

        return ServiceForm

    def write_through_service(self, request, form, change):
        if form._errors:  # a field is wrong already; the service would only repeat it
            return
        data = service_data(form, form.changed_data if change else list(form.fields))
        if change and not data:
            return
        try:
            with transaction.atomic():
                result = self.update(request, form.instance, data) if change else self.create(request, data)
        except (ValidationError, Conflict) as error:
            attach_errors(form, error, self.get_error_fields(change))
        else:
            form.instance = result if result is not None else form.instance

    def _changeform_view(self, request, object_id, form_url, extra_context):
        response = super()._changeform_view(request, object_id, form_url, extra_context)
        if request.method == "POST" and "adminform" in (getattr(response, "context_data", None) or {}):
            # The form came back with errors, perhaps found after a service wrote (an inline row
            # failed): undo the request's writes. Django's changeform_view opened this transaction.
            transaction.set_rollback(True, using=router.db_for_write(self.model))
        return response

    def save_form(self, request, form, change):
        form.save_m2m = lambda: None
        return form.instance

    def save_model(self, request, obj, form, change):
        """Nothing to save: the service wrote the row while the form validated."""

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change):
        """Service inlines wrote their rows while validating; read-only inlines have none."""
        for name in ("new_objects", "changed_objects", "deleted_objects"):
            if not hasattr(formset, name):
                setattr(formset, name, [])

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if obj is not None else []

    # --- deleting ------------------------------------------------------------------------------
    def has_delete_permission(self, request, obj=None):
        return self.deletable and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        self.delete(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self.delete(request, obj)

    # --- scope ---------------------------------------------------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.for_user(request.user) if hasattr(queryset, "for_user") else queryset.none()

    def has_add_permission(self, request):
        return super().has_add_permission(request) and access.can_write(request.user, self.model)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or access.can_write(request.user, self.model, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        queryset = getattr(field, "queryset", None)
        if not request.user.is_superuser and hasattr(queryset, "for_user"):
            field.queryset = queryset.for_user(request.user)  # a hidden row is no valid choice
        return field


class ServiceModelAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """A ModelAdmin writing through services (see ServiceAdminMixin)."""


class ServiceInlineForm(forms.ModelForm):
    """A new row of a service inline: the service validates it, not the model."""

    def _post_clean(self):
        pass


class ServiceInlineMixin:
    """An inline whose new rows are written by `add_row(request, parent, data)` and whose rows
    marked for deletion go through `delete_row(request, row)`, both while the formset validates,
    so a service's message lands on its row. Saved rows are read-only: no service edits them in
    place."""

    form = ServiceInlineForm
    extra = 0

    def add_row(self, request, parent, data):
        raise NotImplementedError

    def delete_row(self, request, row):
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)
        inline = self

        class ServiceFormSet(formset_class):
            def validate_unique(self):
                """The services check uniqueness row by row (a year entered again corrects it)."""

            def clean(self):
                super().clean()
                inline.write_rows(request, self)

        return ServiceFormSet

    def write_rows(self, request, formset):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        new_forms = [f for f in formset.extra_forms if f.has_changed() and not formset._should_delete_form(f)]
        if any(form.errors for form in new_forms):
            return
        problems = []
        for form in formset.initial_forms:
            if formset._should_delete_form(form):
                problems += self._delete(request, formset, form)
        for form in new_forms:
            self._add(request, formset, form)
        if problems:
            raise ValidationError(problems)

    def _delete(self, request, formset, form):
        try:
            with transaction.atomic():
                self.delete_row(request, form.instance)
        except (ValidationError, Conflict) as error:
            return [error.message] if isinstance(error, Conflict) else error.messages
        formset.deleted_objects.append(form.instance)
        return []

    def _add(self, request, formset, form):
        skip = {formset.fk.name, formset.model._meta.pk.name, "DELETE"}
        data = service_data(form, [name for name in form.fields if name not in skip])
        try:
            with transaction.atomic():
                formset.new_objects.append(self.add_row(request, formset.instance, data))
        except (ValidationError, Conflict) as error:
            attach_errors(form, error)
