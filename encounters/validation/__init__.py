"""Validation of encounter records, shared by the bulk API and the Excel upload (issue 5 point 2).

Plain Python, not a DRF serializer per record: a batch of 5,000 records is checked in well under
a second. Everything a record is checked against (institutions and their placements, departments,
alliances, the institutions the client may write) is loaded once per batch into an
`IngestContext` (a handful of queries, none per record).

`validate_records(kind, records, *, client)` → `(rows, errors)`:

- `rows`: one dict per valid record, the model's column values (`alliance_id`, `month`,
  `institution_id`, `department_id`, `patient_key`, …, `visit_date` or `admit_date` and
  `discharge_date`) plus `index` (its position in `records`) and, for the insurance feed's
  records, `facility` (the outside facility as sent: `code`, `name`, `region_code`, `level`),
  whose id the service fills in when it saves the facility;
- `errors`: `[{"index", "field", "message"}]`, messages in the active language (Chinese by
  default). The resident ID number is turned into `patient_key` at once and never appears in a
  row or a message.
"""

from django.utils.translation import gettext as _

from .checks import Checker
from .context import KINDS, IngestContext
from .fields import Rejected

__all__ = ["KINDS", "MAX_RECORDS", "IngestContext", "Rejected", "validate_records"]

MAX_RECORDS = 5000  # per request of the bulk API


def validate_records(kind, records, *, client, context=None):
    """Check every record of a batch; return `(rows, errors)` (see the module docstring).

    `context` is the batch's IngestContext when the caller built it already (e.g. to reuse it);
    by default it is loaded here. Records whose external id came earlier in the same batch are
    rejected (the first is kept).
    """
    context = context or IngestContext.load(kind, records, client=client)
    check = Checker(context)
    rows, errors, seen = [], [], {}
    for index, record in enumerate(records):
        row, record_errors = check(record)
        external_id = row.get("external_id") if row is not None else None
        if external_id is not None and not record_errors:
            first = seen.setdefault(external_id, index)
            if first != index:
                record_errors = [("external_id", _duplicate_message(first))]
        if record_errors:
            errors.extend({"index": index, "field": f, "message": m} for f, m in record_errors)
        else:
            row["index"] = index
            rows.append(row)
    return rows, errors


def _duplicate_message(first):
    return _("This external id appears more than once in this batch (first at index %(first)d).") % {
        "first": first
    }
