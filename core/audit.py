"""Audit hook-up: one line registers a model with django-auditlog (who changed what, when).

Sensitive fields are masked in the log (`mask_fields`) or left out of it (`exclude_fields`), so
the audit trail never becomes a second copy of personal data.
"""

from auditlog.registry import auditlog


def register(model=None, *, mask_fields=(), exclude_fields=()):
    """Register `model` for auditing; usable as `register(Model, ...)` or as a class decorator."""

    def apply(cls):
        auditlog.register(cls, mask_fields=list(mask_fields), exclude_fields=list(exclude_fields))
        return cls

    return apply(model) if model is not None else apply
