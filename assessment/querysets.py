"""Reads of the indicator definitions."""

from django.db import models
from django.db.models import Exists, OuterRef, Q

from alliance.querysets import today


class IndicatorDefinitionQuerySet(models.QuerySet):
    def effective(self, on=None):
        """Versions whose period [effective_from, effective_to) holds `on` (default today)."""
        on = on or today()
        return self.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=on), effective_from__lte=on)

    def current(self, on=None):
        """Per code, the version effective on `on` (default today in Asia/Shanghai); should two
        be effective, the latest version."""
        effective = self.effective(on)
        later = (
            type(self)(self.model, using=self._db)
            .effective(on)
            .filter(code=OuterRef("code"), version__gt=OuterRef("version"))
        )
        return effective.exclude(Exists(later))

    def latest_versions(self):
        """Per code, its highest version (the one a revision starts from)."""
        later = type(self)(self.model, using=self._db).filter(
            code=OuterRef("code"), version__gt=OuterRef("version")
        )
        return self.exclude(Exists(later))
