"""Related fields whose choices come from the caller's scope (STYLE.md "Institution scoping"):
a row the caller may not see is answered like a row that does not exist, so a 400 never reveals
a hidden row. Codes in, ids out (DESIGN §8): `ScopedCodeField` for things an HIS has its own
code for, `ScopedIdField` for things this system creates."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers


class _ScopedMixin:
    def __init__(self, *, model, **kwargs):
        self.model = model
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", model.objects.none())  # the real one comes per request
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return self.model.objects.none()
        return self.model.objects.for_user(request.user)


class ScopedCodeField(_ScopedMixin, serializers.SlugRelatedField):
    """A row named by its `code` among the rows the caller may see; answered with its id.

    Codes in, ids out (DESIGN §8): `{"institution": "H001"}` in a payload, `"institution": 12`
    in the row, beside a read-only `institution_code`.
    """

    default_error_messages = {
        "does_not_exist": _("No record with code {value} is registered."),
        "invalid": _("Send the code as text."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip() if isinstance(data, str) else data)

    def to_representation(self, value):
        return value.pk


class ScopedIdField(_ScopedMixin, serializers.PrimaryKeyRelatedField):
    """A row named by its id among the rows the caller may see."""

    default_error_messages = {
        "does_not_exist": _("No record with id {pk_value} exists."),
        "incorrect_type": _("Send the id as a number."),
    }


class ScopedCodeFieldSchema(OpenApiSerializerFieldExtension):
    """The schema says what the field is: a code (string) in requests, an id (integer) in responses."""

    target_class = ScopedCodeField

    def map_serializer_field(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.STR if direction == "request" else OpenApiTypes.INT)
