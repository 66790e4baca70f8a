"""django-filter helpers: filter choices come from scoped querysets, so a 400 never reveals a
hidden row (STYLE.md "Institution scoping")."""

import django_filters


def scoped_queryset(model):
    """A callable django-filter evaluates per request: the rows of `model` the user may see."""

    def for_request(request):
        if request is None:
            return model.objects.none()
        return model.objects.for_user(request.user)

    return for_request


class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """Filter by id among the rows the user may see (`?institution=12`)."""

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, queryset=scoped_queryset(model), **kwargs)
