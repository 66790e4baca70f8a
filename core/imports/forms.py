"""The upload forms of every import: the file (type and size checked here, its content by the
engine) and, in row mode, the target (e.g. the alliance) to import into."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..excel import MAX_UPLOAD_BYTES


class ImportFileForm(forms.Form):
    """A file to import; `allow_csv` adds .csv to .xlsx."""

    allow_csv = False
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        help_text=gettext_lazy("At most 5 MB and 5,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.allow_csv:
            self.fields["file"].label = gettext_lazy("File (.xlsx or .csv)")
            self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv") if self.allow_csv else (".xlsx",)):
            if self.allow_csv:
                message = _(
                    'Only .xlsx and .csv files can be imported. In Excel use "Save as" → "Excel Workbook (*.xlsx)".'
                )
            else:
                message = _(
                    'Only .xlsx files can be imported. In Excel use "Save as" → "Excel Workbook (*.xlsx)".'
                )
            raise ValidationError(message)
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)d MB; split it into several files.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class UploadForm(ImportFileForm):
    """Row mode: the target (e.g. the alliance) to import into, then the file."""

    target = forms.ModelChoiceField(queryset=None, empty_label=None)
    field_order = ["target", "file"]

    def __init__(self, *args, targets, target_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets
        self.fields["target"].label = target_label
