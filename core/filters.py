"""django-filter helpers: filter choices come from scoped querysets, so a 400 never reveals a
hidden row (STYLE.md "Institution scoping"). Filters take ids (`?institution=12`) and codes under
`_code` (`?institution_code=H001`) (DESIGN §8)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


def scoped_queryset(model):
    """A callable django-filter evaluates per request: the rows of `model` the user may see."""

    def for_request(request):
        if request is None:
            return model.objects.none()
        return model.objects.for_user(request.user)

    return for_request


@extend_schema_field(OpenApiTypes.INT)
class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """Filter by id among the rows the user may see (`?institution=12`)."""

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, queryset=scoped_queryset(model), **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class ScopedCodeChoiceFilter(ScopedModelChoiceFilter):
    """Filter by code among the rows the user may see (`?institution_code=H001`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="code", **kwargs)
