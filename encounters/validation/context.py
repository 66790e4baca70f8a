"""What one batch is checked against, loaded once (issue 5 point 2: no query per record)."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from alliance.models import Alliance, Department, Institution
from core import access, references

from ..models import OutpatientVisit

KINDS = ("visits", "admissions")


@dataclass(frozen=True)
class Place:
    """An institution's placement over [valid_from, valid_to)."""

    valid_from: datetime.date
    valid_to: datetime.date | None
    alliance_id: int
    role: str
    parent_id: int | None

    def covers(self, day):
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass
class Facts:
    """A registered institution as a batch needs it: id, region and every placement it had."""

    id: int
    code: str
    region_code: str
    places: list = field(default_factory=list)

    def place_on(self, day):
        for place in self.places:
            if place.covers(day):
                return place
        return None


@dataclass
class IngestContext:
    """Everything one batch is checked against, loaded once (issue 5 point 2: no query per record).

    `own`: institutions the client writes as its own (an HIS's or an institution admin's, and
    django-guardian `change_institution` grants); their village clinics follow on the record's
    date. `admin_alliances`: alliances whose every institution it writes. `insurance_regions`:
    county code → alliance, for the insurance feed. `any_institution`: a superuser.
    """

    kind: str
    today: datetime.date
    institutions: dict  # code → Facts
    departments: dict  # (institution id, code) → department id
    alliances: dict  # id → (region_code, kind)
    own: frozenset = frozenset()
    admin_alliances: frozenset = frozenset()
    insurance_regions: dict = field(default_factory=dict)
    any_institution: bool = False
    referrals: dict = field(default_factory=dict)  # referral id → alliance id, of those named

    @classmethod
    def load(cls, kind, records, *, client, today=None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        codes = _codes_named(records)
        institutions = _load_institutions(codes)
        own, admin_alliances, insurance_alliances = _writer_scope(client)
        alliance_ids = {p.alliance_id for f in institutions.values() for p in f.places}
        alliances = {
            pk: (region, kind_)
            for pk, region, kind_ in Alliance.objects.filter(
                pk__in=alliance_ids | set(insurance_alliances)
            ).values_list("pk", "region_code", "kind")
        }
        regions = {}
        for pk in sorted(insurance_alliances):
            regions.setdefault(alliances[pk][0], pk)
        departments = {
            (inst, code): pk
            for pk, inst, code in Department.objects.filter(
                institution__in=[f.id for f in institutions.values()]
            ).values_list("pk", "institution_id", "code")
        }
        named = {r.get("referral") for r in records if isinstance(r, dict) and type(r.get("referral")) is int}
        return cls(
            kind=kind,
            referrals=references.alliances_of("referral", named, alliances.keys()),
            today=today or timezone.localdate(),
            institutions=institutions,
            departments=departments,
            alliances=alliances,
            own=frozenset(own),
            admin_alliances=frozenset(admin_alliances),
            insurance_regions=regions,
            any_institution=client.is_superuser,
        )


def _codes_named(records):
    """Every institution code a batch names, as an institution or as an outside facility (an
    outside facility may not be a registered institution)."""
    codes = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        code = record.get("institution")
        facility = record.get("outside_facility")
        if isinstance(facility, dict):
            code = facility.get("code") if code is None else code
        if isinstance(code, str):
            codes.add(code.strip())
    return codes


def _load_institutions(codes):
    """code → Facts with every placement, in one query (LEFT JOIN: unplaced ones too)."""
    institutions = {}
    rows = Institution.objects.filter(code__in=codes).values_list(
        "pk",
        "code",
        "region_code",
        "placements__valid_from",
        "placements__valid_to",
        "placements__alliance_id",
        "placements__role",
        "placements__parent_id",
    )
    for pk, code, region, valid_from, valid_to, alliance, role, parent in rows:
        facts = institutions.setdefault(code, Facts(pk, code, region))
        if valid_from is not None:
            facts.places.append(Place(valid_from, valid_to, alliance, role, parent))
    return institutions


def _writer_scope(client):
    """(own institutions, alliances administered, insurance-feed alliances): whose encounters
    the client may write, by the access door (the insurance feed: the rows it sends itself)."""
    reach = access.reach(client, OutpatientVisit, access.WRITE)
    return reach.institutions, reach.alliances, reach.sent_alliances
