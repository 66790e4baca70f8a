"""Forms of the indicator definition pages (issue 14 point 7). They check the shape of the input
only; the rules and their Chinese messages (an expression that cannot be read, a target without
its comparison, a version starting before the one it revises) are `assessment.services`', which
the views call, and come back on the field they name."""

from django import forms
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from alliance.querysets import today

from .models import IndicatorDefinition
from .services.definitions import REVISABLE

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EXPRESSIONS = ("numerator", "denominator")
TEXTS = ("definition", "data_source", *EXPRESSIONS)


class DefinitionForm(forms.Form):
    """The fields of a definition, labelled and sized by the model, without its validation."""

    field_names = ("code", *REVISABLE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(IndicatorDefinition, fields=self.field_names))
        for name, field in self.fields.items():
            if isinstance(field, forms.DateField):
                field.widget = DATE_INPUT
            elif name in TEXTS:
                field.widget.attrs.update(rows=3 if name in EXPRESSIONS else 4, cols=60)
        for name in EXPRESSIONS:
            self.fields[name].widget.attrs["spellcheck"] = "false"
        self.fields["effective_from"].initial = today

    def clean(self):
        cleaned = super().clean()
        for name in TEXTS:
            if isinstance(cleaned.get(name), str):
                # A textarea sends CRLF: the same text typed again is no change.
                cleaned[name] = cleaned[name].replace("\r\n", "\n")
        return cleaned


class ReviseForm(DefinitionForm):
    """The next version of `instance`: its values to start from, in force from today (or from
    the revised version's first day, when that is later)."""

    field_names = REVISABLE

    def __init__(self, *args, instance, **kwargs):
        initial = model_to_dict(instance, fields=REVISABLE)
        initial["effective_from"] = max(today(), instance.effective_from)
        super().__init__(*args, initial={**initial, **kwargs.pop("initial", {})}, **kwargs)
        self.instance = instance
        self.fields["effective_from"].help_text = _(
            "The day the new version takes effect; the version revised ends that day."
        )

    def changes(self):
        """The fields that differ from the version revised, with the new version's first day
        when any does (a new start alone writes no version)."""
        changed = {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "effective_from" and value != getattr(self.instance, name)
        }
        return {**changed, "effective_from": self.cleaned_data["effective_from"]} if changed else {}
