"""The access policy of DESIGN.md §5, reached by core through `settings.ACCESS_POLICY`.

One table, `RULES`, says for each model (by its label, so later apps are named without being
imported) how its rows reach an institution or an alliance, which roles read them and which
write them, and how far each role reaches:

- `ALLIANCE`: every row of the alliances the user's role belongs to. For alliance-level roles
  (bureau, alliance_admin, committee, finance, insurance_feed) that is their alliance, history
  included (every institution that ever belonged to it). For institution-level roles it is the
  alliance their institution belongs to today.
- `OWN`: rows of the user's own institution only.
- `SENT`: rows the user itself sent (the rule's `sender` path): the insurance feed reads back
  its own encounter records and nothing else of the alliance's patients.

django-guardian grants are the exceptions: `view_institution` on an institution lets the user
read that institution's rows as its own staff would; `change_institution` lets them write them as
its administrator would. They are ORed in here, never checked as a second path.

Rows outside a user's reach are simply absent from their querysets (404); a role that may read
but not write gets 403 from the API's permission class.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from guardian.models import GroupObjectPermission, UserObjectPermission

from alliance.models import Institution, Placement
from alliance.querysets import today
from core.access import AGGREGATE, READ, Reach

from .choices import MembershipRole as Role

ALLIANCE, OWN, SENT = "alliance", "own", "sent"
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


@dataclass(frozen=True)
class Rule:
    """How one model's rows are reached. `institution`: ORM path(s) from the row to its
    institution(s) (a row of either end counts); `alliance`: path to its alliance, for rows
    that belong to an alliance rather than an institution; `sender`: path to the user who sent
    the row, for the `SENT` extent. `aggregate`: roles that may count rows they may not read
    (every reader may aggregate too)."""

    read: dict
    write: dict = field(default_factory=dict)
    aggregate: dict = field(default_factory=dict)
    institution: tuple = ()
    alliance: str = ""
    sender: str = ""


RULES = {
    # The hierarchy: every role of an alliance sees its institutions (departments: DEPARTMENT_READERS).
    "alliance.alliance": Rule(alliance="pk", read=EVERY_ROLE, write={Role.BUREAU: ALLIANCE}),
    "alliance.alliancepopulation": Rule(alliance="alliance", read=EVERY_ROLE, write={Role.BUREAU: ALLIANCE}),
    "alliance.institution": Rule(
        institution=("pk",), read=EVERY_ROLE, write={Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE}
    ),
    # The alliance path too: joining or moving into an alliance needs write reach over that alliance.
    "alliance.placement": Rule(
        institution=("institution",),
        alliance="alliance",
        read=EVERY_ROLE,
        write={Role.BUREAU: ALLIANCE, Role.ALLIANCE_ADMIN: ALLIANCE},
    ),
    "alliance.department": Rule(
        institution=("institution",),
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
    # People: the bureau and the alliance office see all; an institution sees its own.
    "members.staffmember": Rule(institution=("institution",), read=INSTITUTION_READERS, write=STAFF_WRITERS),
    "members.staffposting": Rule(institution=("institution",), read=INSTITUTION_READERS, write=STAFF_WRITERS),
    "members.secondment": Rule(
        institution=("from_institution", "to_institution"), read=INSTITUTION_READERS, write=STAFF_WRITERS
    ),
    "members.familydoctorteam": Rule(
        institution=("institution",), read=INSTITUTION_READERS, write=STAFF_WRITERS
    ),
    "members.teammembership": Rule(
        institution=("team__institution",), read=INSTITUTION_READERS, write=STAFF_WRITERS
    ),
    "members.signedresident": Rule(
        institution=("institution",), read=INSTITUTION_READERS, write=STAFF_WRITERS
    ),
    # Encounters carry their alliance (insurance rows have no institution) and their sender.
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
    # Referrals: a row of either end counts.
    "referrals.referral": Rule(
        institution=("from_institution", "to_institution"),
        read=REFERRAL_READERS,
        write=REFERRAL_WRITERS,
        aggregate=COMMITTEE_AGGREGATES,
    ),
    "referrals.referralevent": Rule(
        institution=("referral__from_institution", "referral__to_institution"),
        read=REFERRAL_READERS,
        write=REFERRAL_WRITERS,
    ),
    "referrals.slot": Rule(
        institution=("institution",), read=POOL_READERS, write=POOL_WRITERS, aggregate=COMMITTEE_AGGREGATES
    ),
    "referrals.bed": Rule(
        institution=("institution",), read=POOL_READERS, write=POOL_WRITERS, aggregate=COMMITTEE_AGGREGATES
    ),
    # The weekly template slots and beds are published from, and the weeks published: as pools.
    "referrals.pooltemplateentry": Rule(institution=("institution",), read=POOL_READERS, write=POOL_WRITERS),
    "referrals.poolpublication": Rule(institution=("institution",), read=POOL_READERS, write=POOL_WRITERS),
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
        return queryset.filter(self._condition(rule, reach)) if reach else queryset.none()

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
            return model._default_manager.filter(pk=obj.pk).filter(self._condition(rule, reach)).exists()
        return self._reaches_unsaved(rule, reach, obj)

    def institution_queryset(self):
        return Institution.objects.all()

    def institutions(self, user, model, action=READ, *, on=None, interactive=False):
        """The institutions whose `model` rows `user` reaches: its own (and granted) ones, and
        those of its alliances (placed there on `on`, or ever)."""
        queryset = Institution.objects.all()
        if user.is_superuser:
            return queryset
        reach = self.reach(user, model, action, interactive=interactive)
        if not reach:
            return queryset.none()
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
            elif extent == OWN:
                institutions.add(membership.institution_id)
            else:
                alliances.update(_current_alliances(user, membership.institution_id))
        if rule.institution:
            institutions.update(_guardian_institutions(user, "write" if action == "write" else "read"))
        return Reach(
            alliances=frozenset(alliances),
            institutions=frozenset(institutions),
            sender=user.pk if sent else None,
            sent_alliances=frozenset(sent - {None}),
        )

    def _condition(self, rule, reach):
        condition = Q(pk__in=[])
        if rule.sender and reach.sender:
            condition |= Q(**{rule.sender: reach.sender})
        if rule.alliance and reach.alliances:
            condition |= Q(**{f"{rule.alliance}__in": reach.alliances})
        for path in rule.institution:
            if reach.alliances:
                condition |= Q(**{f"{path}__in": _institutions_of(reach.alliances)})
            if reach.institutions:
                condition |= Q(**{f"{path}__in": reach.institutions})
        return condition

    def _reaches_unsaved(self, rule, reach, obj):
        """For a row about to be created: does it fall inside the reach? (paths may cross FKs)"""
        if rule.sender and reach.sender and getattr(obj, f"{rule.sender}_id") == reach.sender:
            return True
        if rule.alliance and rule.alliance != "pk":
            return getattr(obj, f"{rule.alliance}_id") in reach.alliances
        if rule.alliance == "pk":
            # A new alliance is registered by a system administrator, who then gives the county
            # bureau its membership: nobody can hold a role in an alliance that does not exist.
            return False
        if rule.institution == ("pk",):
            return bool(reach.alliances)  # registering an institution; placing it is checked apart
        allowed = set(reach.institutions)
        if reach.alliances:  # no query to build for institution-level reach alone
            allowed |= set(_institutions_of(reach.alliances).values_list("institution", flat=True))
        ids = [_path_id(obj, path) for path in rule.institution]
        return any(pk in allowed for pk in ids if pk is not None)


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
