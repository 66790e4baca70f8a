"""The access policy of DESIGN.md §5, reached by core through `settings.ACCESS_POLICY`.

One table, `RULES`, says for each model (by its label, so later apps are named without being
imported) how its rows reach an institution or an alliance, which roles read them and which
write them, and how far each role reaches:

- `ALLIANCE`: every row of the alliances the user's role belongs to. For alliance-level roles
  (bureau, alliance_admin, committee, finance, insurance_feed) that is their alliance, history
  included; for institution-level roles the alliance their institution belongs to today. Which
  rows are an alliance's is the rule's `alliance` and `date` (issue 13 point 5): an institution
  that moves to another alliance takes its new rows with it, and leaves its old ones behind.
- `OWN`: rows of the user's own institution only.
- `SENT`: rows the user itself sent (the rule's `sender` path): the insurance feed reads back
  its own encounter records and nothing else of the alliance's patients.

django-guardian grants are the exceptions: `view_institution` on an institution lets the user
read that institution's rows as its own staff would; `change_institution` lets them write them as
its administrator would. They are ORed in here, never checked as a second path.

Rows outside a user's reach are simply absent from their querysets (404); a role that may read
but not write gets 403 from the API's permission class.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, DateField, F, Q, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from alliance.models import Institution, Placement
from alliance.querysets import today
from core.access import AGGREGATE, READ, WRITE, Reach

from .choices import MembershipRole as Role

ALLIANCE, OWN, SENT = "alliance", "own", "sent"
# `Rule.date` values that are not paths: the hierarchy's rows reach every alliance their
# institution ever belonged to; a row describing the institution as it is now, the alliance it
# belongs to today.
EVER, TODAY = "<ever>", "<today>"
EVERY_ROLE = dict.fromkeys(Role.values, ALLIANCE)
# Machine roles: systems that call the API with a token. Pages are for people (`interactive`).
MACHINE_ROLES = frozenset({Role.API_CLIENT, Role.INSURANCE_FEED})
# DESIGN §5: the committee sees "aggregates, no patient-level rows": it may count and sum the
# alliance's encounters, referrals and pools (the dashboard's measures) but list none of them.
COMMITTEE_AGGREGATES = {Role.COMMITTEE: ALLIANCE}
INSTITUTION_READERS = {
    Role.BUREAU: ALLIANCE,
    Role.ALLIANCE_ADMIN: ALLIANCE,
    Role.INSTITUTION_ADMIN: OWN,
    Role.CLINICIAN: OWN,
    Role.API_CLIENT: OWN,
}
# DESIGN §5 names departments for the bureau and alliance office ("everything") and for the
# institution roles ("to refer"); committee, finance and insurance feed see institutions only.
DEPARTMENT_READERS = dict.fromkeys(
    (Role.BUREAU, Role.ALLIANCE_ADMIN, Role.INSTITUTION_ADMIN, Role.CLINICIAN, Role.API_CLIENT), ALLIANCE
)
GOVERNANCE_READERS = {Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE, Role.COMMITTEE: ALLIANCE}
STAFF_WRITERS = {Role.ALLIANCE_ADMIN: ALLIANCE, Role.INSTITUTION_ADMIN: OWN}
# Encounters (DESIGN §5): patient-level rows, so not the committee nor finance. Which institution
# a record may name (a branch's HIS: its village clinics too; the insurance feed: only outside
# facilities) is checked per record by encounters.validation, which reads these grants.
ENCOUNTER_READERS = {
    Role.BUREAU: ALLIANCE,
    Role.ALLIANCE_ADMIN: ALLIANCE,
    Role.INSTITUTION_ADMIN: OWN,
    Role.CLINICIAN: OWN,
    Role.API_CLIENT: OWN,
    Role.INSURANCE_FEED: SENT,
}
ENCOUNTER_WRITERS = {
    Role.ALLIANCE_ADMIN: ALLIANCE,
    Role.INSTITUTION_ADMIN: OWN,
    Role.API_CLIENT: OWN,
    Role.INSURANCE_FEED: SENT,
}
# Referrals (DESIGN §5): the sending or receiving institution's staff read and write them;
# the bureau and the alliance office read the alliance's; not the committee (patient-level rows).
# Which side may make which move is checked per verb by referrals.services.
REFERRAL_READERS = {
    Role.BUREAU: ALLIANCE,
    Role.ALLIANCE_ADMIN: ALLIANCE,
    Role.INSTITUTION_ADMIN: OWN,
    Role.CLINICIAN: OWN,
    Role.API_CLIENT: OWN,
}
REFERRAL_WRITERS = {Role.INSTITUTION_ADMIN: OWN, Role.CLINICIAN: OWN, Role.API_CLIENT: OWN}
# Slots and reserved beds: published by the alliance office and the institution's admin; every
# institution of the alliance sees them, to refer.
POOL_READERS = dict.fromkeys(
    (Role.BUREAU, Role.ALLIANCE_ADMIN, Role.INSTITUTION_ADMIN, Role.CLINICIAN, Role.API_CLIENT), ALLIANCE
)
POOL_WRITERS = {Role.ALLIANCE_ADMIN: ALLIANCE, Role.INSTITUTION_ADMIN: OWN}
# Indicator definitions (issue 14 point 3) are no patient data: every role reads them (the
# committee watches indicators, an HIS reads the catalogue: DESIGN §1); only the bureau writes.
# An institution's roles read them as their own (OWN): their reach of a shared rule then needs
# no look-up of their alliance, and the menu offers the definitions to the alliance-wide roles.
DEFINITION_READERS = {
    **dict.fromkeys(
        (Role.BUREAU, Role.ALLIANCE_ADMIN, Role.COMMITTEE, Role.FINANCE, Role.INSURANCE_FEED), ALLIANCE
    ),
    **dict.fromkeys((Role.INSTITUTION_ADMIN, Role.CLINICIAN, Role.API_CLIENT), OWN),
}

# Indicators (DESIGN §5: the committee sees indicators; the bureau computes them).
ALLIANCE_WATCHERS = dict.fromkeys((Role.BUREAU, Role.ALLIANCE_ADMIN, Role.COMMITTEE, Role.FINANCE), ALLIANCE)
INDICATOR_READERS = {**ALLIANCE_WATCHERS, Role.INSTITUTION_ADMIN: OWN, Role.CLINICIAN: OWN}


@dataclass(frozen=True)
class Rule:
    """How one model's rows are reached. `institution`: ORM path(s) from the row to its
    institution(s) (a row of either end counts); `alliance`: path to its alliance, for rows
    that belong to an alliance rather than an institution or name the one they count in;
    `sender`: path to the user who sent the row, for the `SENT` extent. `aggregate`: roles that
    may count rows they may not read (every reader may aggregate too).

    `date` says which alliances reach a row through its institution (issue 13 point 5): a path
    to the row's day (the start of its period when `until`, the path to the period's exclusive
    end, is given): the alliances its institution belonged to on that day (during that period);
    `TODAY`: the alliance it belongs to now; `EVER`: every alliance it ever belonged to; empty:
    none, the row's own `alliance` says it. A row that names its alliance is written through that
    alliance only (a former alliance keeps reading the hierarchy, never changes another's).

    `shared`: rows that belong to no institution or alliance, one set for the whole house (the
    indicator definitions): a role the rule names reaches every row, whatever its extent."""

    read: dict
    write: dict = field(default_factory=dict)
    aggregate: dict = field(default_factory=dict)
    institution: tuple = ()
    alliance: str = ""
    sender: str = ""
    date: str = ""
    until: str = ""
    shared: bool = False


# Which alliance sees a row of an institution that moved (issue 13 point 5, DESIGN §5 "including
# history"). History rows are their date's: a former alliance keeps what happened while the
# institution was its own and never sees what came after; rows with a period are seen by every
# alliance the institution belonged to during it (a contract signed before a move and still
# running is both alliances'). Rows describing the institution as it is now (its teams, its
# weekly template) are the alliance it belongs to today. The hierarchy itself (institutions,
# their places and departments) stays visible to every alliance it ever belonged to: a county
# tree as of any date needs it, and history rows name those departments.
RULES = {
    # The hierarchy: every role of an alliance sees its institutions (departments: DEPARTMENT_READERS).
    "alliance.alliance": Rule(alliance="pk", read=EVERY_ROLE, write={Role.BUREAU: ALLIANCE}),
    "alliance.alliancepopulation": Rule(alliance="alliance", read=EVERY_ROLE, write={Role.BUREAU: ALLIANCE}),
    "alliance.institution": Rule(
        institution=("pk",),
        date=EVER,
        read=EVERY_ROLE,
        write={Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE},
    ),
    # The alliance path too: joining or moving into an alliance needs write reach over that
    # alliance, and a placement is changed by its own alliance only (not by one the institution left).
    "alliance.placement": Rule(
        institution=("institution",),
        alliance="alliance",
        date=EVER,
        read=EVERY_ROLE,
        write={Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE},
    ),
    "alliance.department": Rule(
        institution=("institution",),
        date=EVER,
        read=DEPARTMENT_READERS,
        write={Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE},
    ),
    # Governance: the bureau writes; the alliance office and the committee read.
    "alliance.committeemember": Rule(
        alliance="alliance", read=GOVERNANCE_READERS, write={Role.BUREAU: ALLIANCE}
    ),
    "alliance.meeting": Rule(alliance="alliance", read=GOVERNANCE_READERS, write={Role.BUREAU: ALLIANCE}),
    "alliance.governancedocument": Rule(
        alliance="alliance", read=GOVERNANCE_READERS, write={Role.BUREAU: ALLIANCE}
    ),
    # People: the bureau and the alliance office see all; an institution sees its own. A staff
    # member is the alliance's that employs them (统一招聘), wherever its institution went since.
    "members.staffmember": Rule(
        institution=("institution",), alliance="alliance", read=INSTITUTION_READERS, write=STAFF_WRITERS
    ),
    "members.staffposting": Rule(
        institution=("institution",),
        date="valid_from",
        until="valid_to",
        read=INSTITUTION_READERS,
        write=STAFF_WRITERS,
    ),
    "members.secondment": Rule(
        institution=("from_institution", "to_institution"),
        date="start_date",
        until="end_date",
        read=INSTITUTION_READERS,
        write=STAFF_WRITERS,
    ),
    # A team is its institution's as it is now; a place in it is history, dated by its period.
    "members.familydoctorteam": Rule(
        institution=("institution",), date=TODAY, read=INSTITUTION_READERS, write=STAFF_WRITERS
    ),
    "members.teammembership": Rule(
        institution=("team__institution",),
        date="valid_from",
        until="valid_to",
        read=INSTITUTION_READERS,
        write=STAFF_WRITERS,
    ),
    "members.signedresident": Rule(
        institution=("institution",),
        date="signed_on",
        until="valid_to",
        read=INSTITUTION_READERS,
        write=STAFF_WRITERS,
    ),
    # Encounters carry their alliance, the one their institution belonged to that day (or the
    # insured's, for outside facilities), and their sender: no institution path for alliances.
    "encounters.outpatientvisit": Rule(
        institution=("institution",),
        alliance="alliance",
        sender="client",
        read=ENCOUNTER_READERS,
        write=ENCOUNTER_WRITERS,
        aggregate=COMMITTEE_AGGREGATES,
    ),
    "encounters.admission": Rule(
        institution=("institution",),
        alliance="alliance",
        sender="client",
        read=ENCOUNTER_READERS,
        write=ENCOUNTER_WRITERS,
        aggregate=COMMITTEE_AGGREGATES,
    ),
    # Referrals: a row of either end counts. `alliance` is the sender's that day (a referral
    # back, the original's), so a receiving end in another alliance (a referral in from another
    # county, or the way back) is that alliance's by the ends' places on the day it was made.
    "referrals.referral": Rule(
        institution=("from_institution", "to_institution"),
        alliance="alliance",
        date="created_at__date",
        read=REFERRAL_READERS,
        write=REFERRAL_WRITERS,
        aggregate=COMMITTEE_AGGREGATES,
    ),
    # An event goes wherever its referral does.
    "referrals.referralevent": Rule(
        institution=("referral__from_institution", "referral__to_institution"),
        alliance="referral__alliance",
        date="referral__created_at__date",
        read=REFERRAL_READERS,
        write=REFERRAL_WRITERS,
    ),
    "referrals.slot": Rule(
        institution=("institution",),
        date="date",
        read=POOL_READERS,
        write=POOL_WRITERS,
        aggregate=COMMITTEE_AGGREGATES,
    ),
    "referrals.bed": Rule(
        institution=("institution",),
        date="date",
        read=POOL_READERS,
        write=POOL_WRITERS,
        aggregate=COMMITTEE_AGGREGATES,
    ),
    # The weekly template slots and beds are published from (what the institution publishes
    # from now on), and the weeks published (the week's first day): as pools.
    "referrals.pooltemplateentry": Rule(
        institution=("institution",), date=TODAY, read=POOL_READERS, write=POOL_WRITERS
    ),
    "referrals.poolpublication": Rule(
        institution=("institution",), date="week_start", read=POOL_READERS, write=POOL_WRITERS
    ),
    # Indicators (issue 14): the alliance's figures for those who watch the alliance (the
    # committee included: aggregates), an institution's own figures for its staff; the bureau
    # computes and publishes months. Snapshots and restatements go with their alliance.
    "assessment.indicatorvalue": Rule(
        institution=("institution",), alliance="alliance", read=INDICATOR_READERS
    ),
    "assessment.indicatormonth": Rule(
        alliance="alliance", read=ALLIANCE_WATCHERS, write={Role.BUREAU: ALLIANCE}
    ),
    "assessment.restatement": Rule(alliance="alliance", read=ALLIANCE_WATCHERS),
    "assessment.measuresnapshot": Rule(alliance="alliance", read=ALLIANCE_WATCHERS),
    # Warnings (issue 15 point 1): read by those who watch the alliance; the bureau and the
    # alliance office acknowledge them (the committee reads, DESIGN §5).
    "assessment.indicatorwarning": Rule(
        alliance="alliance",
        read=ALLIANCE_WATCHERS,
        write={Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE},
    ),
    # The drug catalogue and the formularies (issue 16): one of each alliance, read by every role
    # of it (a clinician prescribing, an HIS mapping its codes), kept by the alliance office.
    "pharmacy.drugcatalogueentry": Rule(
        alliance="alliance", read=EVERY_ROLE, write={Role.ALLIANCE_ADMIN: ALLIANCE}
    ),
    "pharmacy.drugprice": Rule(
        alliance="entry__alliance", read=EVERY_ROLE, write={Role.ALLIANCE_ADMIN: ALLIANCE}
    ),
    "pharmacy.formulary": Rule(alliance="alliance", read=EVERY_ROLE, write={Role.ALLIANCE_ADMIN: ALLIANCE}),
    # The indicator catalogue: one for every alliance; the bureau corrects or adds a definition.
    "assessment.indicatordefinition": Rule(
        shared=True, read=DEFINITION_READERS, write={Role.BUREAU: ALLIANCE}
    ),
}


class AccessPolicy:
    """DESIGN §5 as code: what `core.access` asks (scope, can_read, can_write, institutions, reach)."""

    def scope(self, queryset, user, action=READ):
        if user.is_superuser:
            return queryset
        rule = RULES.get(queryset.model._meta.label_lower)
        if rule is None:
            return queryset.none()
        reach = self._reach(user, rule, action)
        condition = self._condition(queryset.model, rule, reach, action)
        return queryset.filter(condition) if reach else queryset.none()

    def can_read(self, user, model, action=READ):
        """Whether the user reaches any rows of `model` (for menus; no query beyond the cached
        memberships and guardian grants)."""
        if user.is_superuser:
            return True
        rule = RULES.get(model._meta.label_lower)
        return bool(rule and self._reach(user, rule, action))

    def can_write(self, user, model, obj=None):
        if user.is_superuser:
            return True
        rule = RULES.get(model._meta.label_lower)
        if rule is None:
            return False
        reach = self._reach(user, rule, "write")
        if not reach or obj is None:
            return bool(reach)
        if obj.pk is not None and not obj._state.adding:
            condition = self._condition(model, rule, reach, WRITE)
            return model._default_manager.filter(pk=obj.pk).filter(condition).exists()
        return self._reaches_unsaved(rule, reach, obj)

    def institution_queryset(self):
        return Institution.objects.all()

    def institutions(self, user, model, action=READ, *, on=None, interactive=False):
        """The institutions whose `model` rows `user` reaches: its own (and granted) ones, and
        those of its alliances (placed there on `on`, or ever; today for rows that describe the
        institution as it is now), as the rule's `date` reaches them."""
        queryset = Institution.objects.all()
        if user.is_superuser:
            return queryset
        rule = RULES.get(model._meta.label_lower)
        reach = self.reach(user, model, action, interactive=interactive)
        if not reach:
            return queryset.none()
        on = today() if rule.date == TODAY else on
        if on is None:
            placed = _institutions_of(reach.alliances)
        else:
            placed = Placement.objects.on(on).filter(alliance__in=reach.alliances).values("institution")
        return queryset.filter(Q(pk__in=reach.institutions) | Q(pk__in=placed))

    def reach(self, user, model, action=READ, *, interactive=False):
        rule = RULES.get(model._meta.label_lower)
        return self._reach(user, rule, action, interactive=interactive) if rule else Reach()

    # --- how far a user reaches -------------------------------------------------------------
    def _reach(self, user, rule, action, *, interactive=False):
        """Read from the memberships (cached on the request's user) and the guardian grants."""
        key = ("reach", id(rule), action, interactive)
        return _cached(user, key, lambda: self._compute_reach(user, rule, action, interactive))

    def _compute_reach(self, user, rule, action, interactive):
        grants = _grants(rule, action)
        alliances, institutions, sent = set(), set(), set()
        for membership in _memberships(user):
            extent = grants.get(membership.role)
            if extent is None or (interactive and membership.role in MACHINE_ROLES):
                continue
            if extent == SENT:
                sent.add(membership.alliance_id)
            elif membership.alliance_id:
                alliances.add(membership.alliance_id)
            else:
                # An institution's roles reach its own rows of any day (DESIGN §5: "its
                # institution's rows"), with ALLIANCE also those of its alliance of today.
                institutions.add(membership.institution_id)
                if extent == ALLIANCE:
                    alliances.update(_current_alliances(user, membership.institution_id))
        if rule.institution:
            institutions.update(_guardian_institutions(user, "write" if action == "write" else "read"))
        return Reach(
            alliances=frozenset(alliances),
            institutions=frozenset(institutions),
            sender=user.pk if sent else None,
            sent_alliances=frozenset(sent - {None}),
        )

    def _condition(self, model, rule, reach, action):
        if rule.shared:
            return Q()  # every row, for whoever reaches the rule at all
        condition = Q(pk__in=[])
        if rule.sender and reach.sender:
            condition |= Q(**{rule.sender: reach.sender})
        if rule.alliance and reach.alliances:
            condition |= Q(**{f"{rule.alliance}__in": reach.alliances})
        # A row that names its alliance is written through it only (see Rule).
        through = "" if action == WRITE and rule.alliance else rule.date
        for path in rule.institution:
            if reach.alliances and through:
                condition |= _placed(model, rule, through, path, reach.alliances)
            if reach.institutions:
                condition |= Q(**{f"{path}__in": reach.institutions})
        return condition

    def _reaches_unsaved(self, rule, reach, obj):
        """For a row about to be created: does it fall inside the reach? (paths may cross FKs)
        The row is dated as the rule dates saved rows; a row without its date yet is made today."""
        if rule.shared:
            return True
        if rule.sender and reach.sender and getattr(obj, f"{rule.sender}_id") == reach.sender:
            return True
        if rule.alliance == "pk":
            # A new alliance is registered by a system administrator, who then gives the county
            # bureau its membership: nobody can hold a role in an alliance that does not exist.
            return False
        if rule.institution == ("pk",):
            return bool(reach.alliances)  # registering an institution; placing it is checked apart
        named = _path_id(obj, rule.alliance) if rule.alliance else None
        if rule.alliance and (rule.date == EVER or not rule.institution):
            return named in reach.alliances  # a placement: the alliance it joins decides
        ids = [pk for pk in (_path_id(obj, path) for path in rule.institution) if pk is not None]
        if any(pk in reach.institutions for pk in ids):
            return True  # no query to build for institution-level reach alone
        # An alliance reaches the row through its institution's place on the row's day, and
        # only as the row's own alliance when it names one (a staff member hired in A for A).
        alliances = reach.alliances if named is None else reach.alliances & {named}
        return bool(ids and alliances) and _placed_unsaved(rule, obj, ids, alliances)


def _placed(model, rule, date, path, alliance_ids):
    """The rows whose institution at `path` reaches one of the alliances by `date` (see Rule):
    placed there ever, today, or on the row's day (during its period). A dated condition is an
    uncorrelated `pk IN (rows joined to the alliances' placements)`: the database walks the few
    placements and each one's rows by the (institution, date) indexes, and hashes the result,
    where a correlated EXISTS would probe Placement once for every row of the table."""
    if date == EVER:
        return Q(**{f"{path}__in": _institutions_of(alliance_ids)})
    if date == TODAY:
        placed = Placement.objects.on(today()).filter(alliance_id__in=alliance_ids)
        return Q(**{f"{path}__in": placed.values("institution")})
    place = f"{path}__placements"
    then = Q(**{f"{place}__valid_to__isnull": True}) | Q(**{f"{place}__valid_to__gt": F(date)})
    if rule.until:
        end = Coalesce(F(rule.until), Value(datetime.date.max), output_field=DateField())
        then &= Q(**{f"{place}__valid_from__lt": end})
    else:
        then &= Q(**{f"{place}__valid_from__lte": F(date)})
    # One filter() call, so that every condition is on the same placement row.
    rows = model._base_manager.filter(Q(**{f"{place}__alliance_id__in": alliance_ids}) & then)
    return Q(pk__in=rows.values("pk"))


def _placed_unsaved(rule, obj, institution_ids, alliance_ids):
    """`_placed` for a row about to be created (one query): its day, today when not set yet."""
    placements = Placement.objects.filter(institution_id__in=institution_ids, alliance_id__in=alliance_ids)
    if rule.date == EVER:
        return placements.exists()
    if rule.date in ("", TODAY):
        return placements.on(today()).exists()
    start = _path_value(obj, rule.date) or today()
    if rule.until:
        return placements.overlapping(start, _path_value(obj, rule.until)).exists()
    return placements.on(start).exists()


def _path_value(obj, path):
    """The value at the end of an ORM path on an unsaved row (None when a hop is missing); a
    `__date` path gives a datetime's local date (the day `created_at__date` filters on)."""
    as_date = path.endswith("__date")
    *hops, last = path.removesuffix("__date").split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    value = getattr(obj, last, None)
    return timezone.localdate(value) if as_date and value is not None else value


def _path_id(obj, path):
    """The id at the end of an ORM path on an unsaved row: `team__institution` → obj.team.institution_id
    (a new team membership lands in its team's institution)."""
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def _cached(user, key, compute):
    """Access facts are read once per request: the user object lives as long as the request."""
    cache = user.__dict__.setdefault("_access_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _grants(rule, action):
    """The roles and extents of `action`: aggregating is open to every reader and to the
    rule's extra aggregators (a reader's own extent wins)."""
    if action == "write":
        return rule.write
    if action == AGGREGATE:
        return {**rule.aggregate, **rule.read}
    return rule.read


def _memberships(user):
    return _cached(user, "memberships", lambda: list(user.memberships.all()))


def _current_alliances(user, institution_id):
    return _cached(
        user,
        ("alliances", institution_id),
        lambda: set(
            Placement.objects.on(today())
            .filter(institution_id=institution_id)
            .values_list("alliance_id", flat=True)
        ),
    )


def _institutions_of(alliance_ids):
    """Every institution that has ever belonged to one of the alliances (history included)."""
    return Placement.objects.filter(alliance_id__in=alliance_ids).values("institution")


def _guardian_institutions(user, mode):
    """Institutions granted to this user one by one in the admin (django-guardian):
    `change_institution` for reading and writing, `view_institution` for reading."""
    grants = _cached(user, "guardian", lambda: _institution_grants(user))
    return grants["read"] if mode == "read" else grants["write"]


def _institution_grants(user):
    """`{"read": ids, "write": ids}` in one query over the user's own grants and their groups'
    on existing institutions: what guardian's get_objects_for_user(…, any_perm=True,
    with_superuser=False, accept_global_perms=False) finds, for both modes at once."""
    existing = Institution.objects.annotate(text_pk=Cast("pk", CharField())).values("text_pk")
    on = {
        "permission__content_type": ContentType.objects.get_for_model(Institution),  # cached
        "permission__codename__in": ["change_institution", "view_institution"],
        "object_pk__in": existing,
    }
    fields = ("object_pk", "permission__codename")
    own = UserObjectPermission.objects.filter(user=user, **on).values_list(*fields)
    groups = GroupObjectPermission.objects.filter(group__user=user, **on).values_list(*fields)
    grants = {"read": set(), "write": set()}
    for pk, codename in own.union(groups, all=True):
        grants["read"].add(int(pk))
        if codename == "change_institution":
            grants["write"].add(int(pk))
    return grants


policy = AccessPolicy()
