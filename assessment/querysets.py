"""Reads of the indicator definitions."""

from django.db.models import Exists, OuterRef, Q

from alliance.querysets import today
from core.querysets import ScopedQuerySet


class IndicatorDefinitionQuerySet(ScopedQuerySet):
    """The catalogue is one for every alliance: `for_user` gives every version to each role that
    reads definitions (members.access, a `shared` rule), none to anyone else."""

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

    def current_or_latest(self, on=None):
        """Per code, the version effective on `on`, or its latest version when none is (an
        indicator not in force yet, or ended): what the lists and the API show by default."""
        every = type(self)(self.model, using=self._db)
        current = every.current(on)
        not_in_force = every.latest_versions().exclude(code__in=current.values("code"))
        return self.filter(Q(pk__in=current.values("pk")) | Q(pk__in=not_in_force.values("pk")))


class IndicatorValueQuerySet(ScopedQuerySet):
    """Indicator values, scoped by the access policy (`assessment.indicatorvalue`)."""

    def of(self, alliance, month):
        return self.filter(alliance=alliance, month=month)
