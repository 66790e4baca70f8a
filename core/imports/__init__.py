"""Imports from a clerk's file: one engine, two modes (issue 12 point 4), split by concern:

- `engine`: row mode (`Importer`: institutions, staff) and batch mode (`BatchImporter`:
  encounters, next the drug catalogue and ledger entries); upload → preview as a Job with
  progress → locked confirm;
- `forms`: the upload forms (the file checked once for every import);
- `views`: the pages of a row-mode import, and what a batch-mode import's own pages share.

A new import is a declaration of columns and a service call: subclass `Importer` or
`BatchImporter` and wire the views (or call `start_preview` / `confirm_import` from yours).
"""

from .engine import (
    CREATE,
    PREVIEW_LIFETIME,
    UNCHANGED,
    UPDATE,
    BatchImporter,
    ImportAborted,
    Importer,
    RowPlan,
    RowRejected,
    confirm_import,
    expire_previews,
    preview_import,
    rejected_rows,
    run_preview,
    start_preview,
)

__all__ = [
    "CREATE", "PREVIEW_LIFETIME", "UNCHANGED", "UPDATE", "BatchImporter", "ImportAborted", "Importer",
    "RowPlan", "RowRejected", "confirm_import", "expire_previews", "preview_import", "rejected_rows",
    "run_preview", "start_preview",
]  # fmt: skip
