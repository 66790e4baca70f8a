"""Two-way referral in the demo county (issue 6 point 8): slot and bed pools for the week of the
anchor (context.DemoDates, the demo's "today") and the weeks after, a year of referrals up and
back down, and a few open referrals of the anchor day.

- Pools (through `referrals.services`): the lead and collaborating hospitals keep a weekly
  template (am/pm outpatient sessions Monday to Friday and a Saturday morning per clinical
  department, at least 2/5 reserved for primary care at the lead hospital and at least 1/3 at
  the others; beds per ward every day, at least 1/4 of their open beds) and publish four weeks
  from it, the anchor's and the three after, week by week (`publish_week`), on the Friday
  before the first.
- History (bulk-inserted, like the activity): `scale.referrals` referrals over the year of
  activity with their events and consistent timestamps, all before the anchor day (a timeline
  that would end later is moved back by whole days). Up: village clinics to their branch (the
  branch of that day: the clinic that moves on the move day changes) or to a
  hospital, branches to hospitals; down: refer-backs of completed up-referrals to their sender
  and hospitals' or branches' own down-referrals. Mostly completed, some rejected, cancelled,
  expired or no-show. Patients are signed residents (their encrypted ID copied, the name
  encrypted with core.identity like the service does) or synthetic residents with valid IDs.
  Where a signed resident has an admission at a county hospital, a completed up-referral from
  their institution matches it (department, diagnosis, admission and discharge days) and the
  admission row gets its `referral_id`.
- Live: `scale.open_referrals` referrals submitted on the anchor day through the services,
  booking a reserved slot or bed still to come (a slot of a later day, a bed from the
  anchor day on), about half of them accepted, plus two refer-backs of completed referrals.
"""

import datetime

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance.choices import PlacementRole
from core.codes import normalize_icd10
from core.identity import decrypt, encrypt, mask_name, mask_resident_id, patient_key
from encounters.models import Admission
from members.models import SignedResident
from referrals import services as referral_services
from referrals.choices import Direction, PoolKind, ReferralState, SlotPeriod, Urgency
from referrals.models import (
    Bed,
    PoolPublication,
    PoolTemplateEntry,
    Referral,
    ReferralEvent,
    ReferralSettings,
    Slot,
)

from .activity_rows import spread
from .county import HOSPITAL_CODES, REGION_CODE
from .identifiers import birth_date, resident_id

S = ReferralState
POOL_WEEKS = 4  # published from the templates: the anchor's week and the three after
POOL_DAYS = 7 * POOL_WEEKS
PUBLISHED_BEFORE = datetime.timedelta(days=3, hours=-8)  # the Friday before the first week, 08:00
# A refer-back (submitted within hours of the completion, answered in at most two days, a stay
# of a day) ends within REFER_BACK_DAYS: later completions are not referred back in the history.
REFER_BACK_DAYS = 7
# Departments without outpatient sessions of their own, and those without a ward.
NO_SESSIONS = {"01", "20", "26", "28", "30", "31", "32"}
WARDS = {
    "03", "03.01", "03.02", "03.03", "03.04", "03.06", "03.07", "04", "04.01", "04.02", "04.03",
    "04.04", "04.05", "05.01", "05.02", "07", "15", "16", "19", "21", "27", "28", "50", "52",
}  # fmt: skip
RESERVED_SLOTS = {PlacementRole.LEAD: 0.4, PlacementRole.COLLABORATING: 0.34}
RESERVED_BEDS = 0.27  # of the open beds, every day
# Where up-referrals go (percent): a village clinic's own branch, else a county hospital.
TO_BRANCH_FROM_VILLAGE = 0.25
HOSPITAL_WEIGHTS = {"H0001": 70, "H0002": 18, "H0003": 12}
UP_SHARE = 0.66
REFER_BACK_SHARE = 0.6  # of the down-referrals: refer-backs of completed up-referrals
MATCHED_SHARE = 0.3  # of the up-referrals at most: matched to a signed resident's admission
SIGNED_SHARE = 0.5  # of the other referrals: the patient is a signed resident
# Final states of the history (percent); the closing ones release nothing (no pools then).
STATE_WEIGHTS = {S.COMPLETED: 80, S.REJECTED: 6, S.CANCELLED: 5, S.EXPIRED: 4, S.NO_SHOW: 5}
URGENCY_WEIGHTS = {Urgency.ROUTINE: 82, Urgency.URGENT: 15, Urgency.EMERGENCY: 3}
UP_DIAGNOSES = (
    ("I63.9", "脑梗死，需进一步影像评估及溶栓/取栓评估"),
    ("I21.9", "急性心肌梗死可能，需上级医院介入治疗"),
    ("J18.9", "社区获得性肺炎，基层治疗效果不佳"),
    ("K80.2", "胆囊结石伴胆囊炎，需手术治疗"),
    ("S72.0", "股骨颈骨折，需手术治疗"),
    ("N20.0", "肾结石，需碎石或手术"),
    ("C34.9", "肺部占位待查，需进一步检查"),
    ("E11.9", "2型糖尿病血糖控制不佳，需调整方案"),
    ("I10", "高血压控制不佳，需评估靶器官损害"),
    ("O80", "待产，高危妊娠需上级医院分娩"),
    ("J44.1", "慢阻肺急性加重"),
    ("M54.5", "腰痛，需中医综合治疗"),
)
DOWN_DIAGNOSES = (
    ("I69.3", "脑梗死后遗症，转基层康复治疗"),
    ("S72.0", "股骨颈骨折术后，转基层康复"),
    ("E11.9", "2型糖尿病病情稳定，转基层随访管理"),
    ("I10", "高血压病情稳定，转家庭医生随访"),
    ("J44.1", "慢阻肺急性加重缓解，转基层继续治疗"),
    ("C34.9", "肺癌化疗间歇期，转基层支持治疗"),
)
CLOSING_REASONS = {
    S.REJECTED: (
        "本科室床位已满，建议转中医院",
        "病情可在基层处理，建议基层继续治疗",
        "资料不全，请补充检查结果",
    ),
    S.CANCELLED: ("患者要求自行前往", "病情好转，暂不转诊", "患者选择县外医院"),
}
SUMMARY = "诊疗结束，病情稳定，建议基层继续随访。"


def recorded(alliance):
    return Referral.objects.filter(alliance=alliance).exists()


# --- Steps -----------------------------------------------------------------------------------------
def publish_pools(ctx):
    """The weekly templates of the lead and collaborating hospitals, and the anchor's week and
    the three after published from them (before the first began: the publishing service refuses
    a week begun); a template or a week already there is kept as it is."""
    first = ctx.dates.pool_start
    published_on = timezone.make_aware(datetime.datetime.combine(first, datetime.time())) - PUBLISHED_BEFORE
    for code, (institution, role) in _hospitals(ctx).items():
        if not PoolTemplateEntry.objects.filter(institution=institution).exists():
            _write_template(ctx, code, institution, role)
        done = set(
            PoolPublication.objects.filter(institution=institution).values_list("week_start", flat=True)
        )
        for week in range(POOL_WEEKS):
            monday = first + datetime.timedelta(weeks=week)
            if monday not in done:
                referral_services.publish_week(
                    institution, week_start=monday, acting_user=ctx.acting_user, now=published_on
                )


def _write_template(ctx, code, institution, role):
    """One hospital's week: 6 to 16 slots a session (a doctor each), the reserved share of its
    role rounded up; the beds of a day spread over its wards."""
    rng, fake = ctx.rng(f"referral-pools:{code}"), ctx.faker(f"referral-pools:{code}")
    departments = _departments(ctx, code)
    share = RESERVED_SLOTS[role]
    for subject, department in departments.items():
        if subject in NO_SESSIONS:
            continue
        doctors = [fake.name() for _n in range(3)]
        for weekday in range(6):  # Monday to Saturday; Saturday mornings only
            for period in (SlotPeriod.AM, SlotPeriod.PM) if weekday < 5 else (SlotPeriod.AM,):
                count = rng.randint(6, 16)
                referral_services.create_template_entry(
                    institution,
                    weekday=weekday,
                    kind=PoolKind.SLOT,
                    department=department,
                    period=period,
                    count=count,
                    reserved_for_primary=-(-round(count * share * 100) // 100),
                    doctor=rng.choice(doctors),
                    acting_user=ctx.acting_user,
                )
    wards = [department for subject, department in departments.items() if subject in WARDS]
    per_day = -(-round(institution.open_beds * RESERVED_BEDS * 100) // 100)
    for weekday in range(7):
        for department, count in zip(wards, spread(per_day, [1] * len(wards)), strict=True):
            if count:
                referral_services.create_template_entry(
                    institution,
                    weekday=weekday,
                    kind=PoolKind.BED,
                    department=department,
                    count=count,
                    acting_user=ctx.acting_user,
                )


def record_referrals(ctx):
    """`scale.referrals` referrals over the year of activity, inserted in bulk with their events."""
    if recorded(ctx.alliance):
        return
    history = History(ctx)
    history.build()
    history.save()


def open_referrals(ctx):
    """Referrals of the anchor day through the services: submitted from 09:00 (or, when the demo
    is loaded earlier that day, in the hours before loading), booking a reserved slot of a day
    after the anchor or a bed from the anchor day on; about half accepted; two refer-backs of
    completed ones."""
    now = timezone.make_aware(datetime.datetime.combine(ctx.dates.anchor, datetime.time(9)))
    span = datetime.timedelta(minutes=7 * ctx.scale.open_referrals)
    if now + span > timezone.now() > now - datetime.timedelta(days=1):
        # Loaded early on the anchor day itself: submitted in the hours before loading, never ahead.
        now = (timezone.now() - span).replace(second=0, microsecond=0)
    if Referral.objects.filter(alliance=ctx.alliance, submitted_at__gte=now).exists():
        return
    rng = ctx.rng("referral-open")
    people = People(ctx, "referral-open")
    hospitals = _hospitals(ctx)
    primary = _primary(ctx)
    for index in range(ctx.scale.open_referrals):
        at = now + datetime.timedelta(minutes=7 * index)
        code = _weighted(rng, HOSPITAL_WEIGHTS)
        institution = hospitals[code][0]
        sender = rng.choice(primary)
        by_bed = index % 3 == 2
        # A bed from the anchor day on; a slot of a later day, so a demo loaded in the evening
        # shows no open referral whose appointment has already passed.
        pool = (
            Bed.objects.free().filter(date__gte=ctx.dates.anchor)
            if by_bed
            else Slot.objects.bookable(at).filter(date__gt=ctx.dates.anchor)
        )
        booked = pool.filter(institution=institution).order_by("date", "pk")[rng.randrange(40)]
        patient = people.service_patient(rng, sender.code)
        diagnosis, reason = rng.choice(UP_DIAGNOSES)
        referral = referral_services.create_referral(
            acting_user=ctx.acting_user,
            from_institution=ctx.institutions[sender.code],
            to_institution=institution,
            to_department=booked.department,
            patient=patient,
            diagnosis=diagnosis,
            reason=reason,
            urgency=Urgency.ROUTINE,
            slot=None if by_bed else booked,
            bed=booked if by_bed else None,
            now=at,
        )
        if index % 2:
            referral_services.accept_referral(
                referral, acting_user=ctx.acting_user, now=at + datetime.timedelta(hours=2)
            )
    completed = Referral.objects.filter(
        alliance=ctx.alliance, direction=Direction.UP, state=S.COMPLETED, returns__isnull=True
    ).order_by("-completed_at", "pk")
    for index, referral in enumerate(completed[:2]):
        referral_services.refer_back(
            referral,
            acting_user=ctx.acting_user,
            summary=SUMMARY,
            now=now + datetime.timedelta(hours=1, minutes=index),
        )


# --- The county as the referral steps see it ------------------------------------------------------
class Site:
    """A primary-care institution: its code, role and its branch before and from the move day."""

    def __init__(self, spec, institution, move_on):
        self.code, self.role, self.id = spec.code, spec.role, institution.pk
        self.parents = (spec.parent, spec.parent_now) if spec.role == PlacementRole.VILLAGE else (None, None)
        self.move_on = move_on

    def parent_on(self, day):
        return self.parents[day >= self.move_on]


def _hospitals(ctx):
    return {
        spec.code: (ctx.institutions[spec.code], spec.role)
        for spec in ctx.plan
        if spec.code in HOSPITAL_CODES
    }


def _primary(ctx):
    roles = (PlacementRole.BRANCH, PlacementRole.VILLAGE)
    return [
        Site(spec, ctx.institutions[spec.code], ctx.dates.move_on) for spec in ctx.plan if spec.role in roles
    ]


def _departments(ctx, code):
    return {
        subject: department
        for (owner, subject), department in sorted(ctx.departments.items())
        if owner == code
    }


def _weighted(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _at(day, rng, first=8, last=17):
    moment = datetime.time(rng.randrange(first, last), rng.randrange(60))
    return timezone.make_aware(datetime.datetime.combine(day, moment))


class People:
    """Patients of the referrals: signed residents by institution, else synthetic residents."""

    def __init__(self, ctx, step):
        self.fake, self.anchor = ctx.faker(step), ctx.dates.anchor
        self.signed = {}
        rows = SignedResident.objects.filter(institution__in=list(ctx.institutions.values())).order_by("pk")
        for row in rows.select_related("institution"):
            self.signed.setdefault(row.institution.code, []).append(row)
        self.by_key = {row.patient_key: row for rows in self.signed.values() for row in rows}
        self._names = {}

    def fields(self, rng, code):
        """The stored patient fields of a referral from or to the institution `code`, and the
        signed resident (or None)."""
        residents = self.signed.get(code)
        if residents and rng.random() < SIGNED_SHARE:
            return self.resident_fields(rng.choice(residents)), rng.choice(residents)
        name, number = self.person(rng)
        return _patient(self._encrypted(name), name, encrypt(number), number, patient_key(number)), None

    def resident_fields(self, row):
        return _patient(
            self._encrypted(row.name), row.name, row.id_number_encrypted, None, row.patient_key, row
        )

    def _encrypted(self, name):
        if name not in self._names:
            self._names[name] = encrypt(name)
        return self._names[name]

    def person(self, rng):
        born = birth_date(rng, age_from=18, age_to=90, on=self.anchor)
        return self.fake.name(), resident_id(REGION_CODE, born, rng.randrange(0, 1000))

    def service_patient(self, rng, code):
        """The patient as a referral form sends it (a raw ID the service encrypts)."""
        residents = self.signed.get(code)
        if residents and rng.random() < SIGNED_SHARE:
            row = rng.choice(residents)
            return {"name": row.name, "id_number": decrypt(row.id_number_encrypted), "signed_resident": True}
        name, number = self.person(rng)
        return {"name": name, "id_number": number}


def _patient(name_token, name, id_token, number, key, resident=None):
    return {
        "patient_name_encrypted": name_token,
        "patient_name_masked": mask_name(name),
        "patient_id_encrypted": id_token,
        "patient_id_masked": resident.id_number_masked if resident else mask_resident_id(number),
        "patient_key": key,
        "signed_resident": resident is not None,
        "team_id": resident.team_id if resident else None,
    }


# --- The year of referrals -------------------------------------------------------------------------
class History:
    """The referrals of the year (unsaved rows with their timelines), then saved in bulk."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = ctx.rng("referrals")
        self.people = People(ctx, "referrals")
        self.settings = ReferralSettings.of(ctx.alliance)
        self.hospitals = {code: institution.pk for code, (institution, _role) in _hospitals(ctx).items()}
        self.primary = _primary(ctx)
        self.sites = {site.code: site for site in self.primary}
        self.ids = {code: institution.pk for code, institution in ctx.institutions.items()}
        self.codes = {pk: code for code, pk in self.ids.items()}
        self.wards = {}
        for (code, subject), department in sorted(ctx.departments.items()):
            self.wards.setdefault(code, []).append((subject, department.pk))
        dates = ctx.dates
        start, end = dates.period_start, dates.period_end
        self.days = [start + datetime.timedelta(days=n) for n in range((end - start).days)]
        # Every timeline ends before the anchor day; refer-backs stay in the year.
        self.cutoff = timezone.make_aware(datetime.datetime.combine(dates.anchor, datetime.time()))
        self.last_return = min(
            end - datetime.timedelta(days=1), dates.anchor - datetime.timedelta(days=REFER_BACK_DAYS)
        )
        self.items = []  # (Referral, [(from state, to state, at, note)], admission pk or None)

    def build(self):
        total = self.ctx.scale.referrals
        ups = round(total * UP_SHARE)
        matched = self._matched(round(ups * MATCHED_SHARE))
        for row in matched:
            self._from_admission(*row)
        for _n in range(ups - len(matched)):
            self._up()
        downs = total - ups
        backs = [
            item[0]
            for item in self.items
            if item[0].state == S.COMPLETED
            and item[0].to_institution_id in self.hospitals.values()
            and timezone.localdate(item[0].completed_at) < self.last_return
        ]
        backs = self.rng.sample(backs, min(len(backs), round(downs * REFER_BACK_SHARE)))
        for referral in backs:
            self._refer_back(referral)
        for _n in range(downs - len(backs)):
            self._down()

    # Up-referrals ------------------------------------------------------------------------------
    def _matched(self, limit):
        """Admissions of signed residents of primary care at the county hospitals, in the period."""
        keys = {key: row for key, row in self.people.by_key.items() if row.institution.code in self.sites}
        if not keys or not limit:
            return []
        rows = (
            Admission.objects.filter(
                alliance=self.ctx.alliance,
                institution_id__in=list(self.hospitals.values()),
                patient_key__in=list(keys),
                department__isnull=False,
                admit_date__gte=self.days[0] + datetime.timedelta(days=3),
                admit_date__lt=self.ctx.dates.period_end,
                referral_id__isnull=True,
            )
            .order_by("pk")
            .values_list(
                "pk",
                "patient_key",
                "institution_id",
                "department_id",
                "diagnosis",
                "admit_date",
                "discharge_date",
            )
        )
        rows = list(rows[: limit * 3])
        picked = self.rng.sample(rows, min(limit, len(rows)))
        return [(keys[row[1]], *row) for row in sorted(picked)]

    def _from_admission(
        self, resident, pk, _key, institution_id, department_id, diagnosis, admitted, discharged
    ):
        rng = self.rng
        submitted = _at(admitted - datetime.timedelta(days=rng.randint(1, 3)), rng)
        accepted = submitted + datetime.timedelta(minutes=rng.randrange(20, 600))
        arrived = _at(admitted, rng, 8, 11)
        completed = max(arrived, _at(discharged, rng, 9, 17)) + datetime.timedelta(minutes=1)
        referral = self._referral(
            Direction.UP,
            self.ids[resident.institution.code],
            institution_id,
            department_id,
            self.people.resident_fields(resident),
            normalize_icd10(diagnosis) or "I10",
            dict(UP_DIAGNOSES).get(diagnosis, "病情需上级医院住院治疗"),
            Urgency.ROUTINE,
        )
        self._timeline(
            referral,
            submitted,
            [(S.ACCEPTED, accepted), (S.ARRIVED, arrived), (S.COMPLETED, completed)],
            admission=pk,
        )

    def _up(self):
        rng = self.rng
        site = rng.choice(self.primary)
        day = rng.choice(self.days)
        if site.role == PlacementRole.VILLAGE and rng.random() < TO_BRANCH_FROM_VILLAGE:
            to_code = site.parent_on(day)
        else:
            to_code = _weighted(rng, HOSPITAL_WEIGHTS)
        self._synthetic(Direction.UP, site.code, to_code, day, UP_DIAGNOSES)

    # Down-referrals ------------------------------------------------------------------------------
    def _refer_back(self, up):
        rng = self.rng
        submitted = up.completed_at + datetime.timedelta(minutes=rng.randrange(10, 240))
        referral = self._referral(
            Direction.DOWN,
            up.to_institution_id,
            up.from_institution_id,
            None,
            {},
            up.diagnosis,
            SUMMARY,
            up.urgency,
        )
        for name in referral_services.PATIENT_COPIED:
            setattr(referral, name, getattr(up, name))
        referral.signed_resident, referral.team_id, referral.summary = up.signed_resident, up.team_id, SUMMARY
        referral.return_of = up
        self._timeline(referral, submitted, self._outcome(submitted, referral.urgency, stay=(0, 1)))

    def _down(self):
        rng = self.rng
        day = rng.choice(self.days)
        if rng.random() < 0.8:
            from_code = _weighted(rng, HOSPITAL_WEIGHTS)
            site = rng.choice(self.primary)
            to_code = (
                site.code
                if site.role == PlacementRole.VILLAGE and rng.random() < 0.3
                else self._branch_of(site, day)
            )
        else:
            site = rng.choice([site for site in self.primary if site.role == PlacementRole.VILLAGE])
            from_code, to_code = site.parent_on(day), site.code
        self._synthetic(Direction.DOWN, from_code, to_code, day, DOWN_DIAGNOSES)

    def _branch_of(self, site, day):
        return site.code if site.role == PlacementRole.BRANCH else site.parent_on(day)

    # Rows and timelines ----------------------------------------------------------------------------
    def _synthetic(self, direction, from_code, to_code, day, diagnoses):
        rng = self.rng
        patient_side = from_code if direction == Direction.UP else to_code
        fields, _resident = self.people.fields(rng, patient_side)
        diagnosis, reason = rng.choice(diagnoses)
        urgency = _weighted(rng, URGENCY_WEIGHTS) if direction == Direction.UP else Urgency.ROUTINE
        wards = self.wards.get(to_code, [])
        department = rng.choice(wards)[1] if wards else None
        referral = self._referral(
            direction, self.ids[from_code], self.ids[to_code], department, fields, diagnosis, reason, urgency
        )
        submitted = _at(day, rng)
        self._timeline(
            referral, *self._before_anchor(submitted, self._outcome(submitted, urgency, stay=(0, 9)))
        )

    def _before_anchor(self, submitted, moves):
        """The timeline moved back by whole days (the same hours) if it would end on or after
        the anchor day: a referral of the last days of the year is closed by the anchor."""
        late = moves[-1][1] - self.cutoff
        if late < datetime.timedelta(0):
            return submitted, moves
        back = datetime.timedelta(days=late.days + 1)
        return submitted - back, [(state, at - back) for state, at in moves]

    def _outcome(self, submitted, urgency, *, stay):
        """The moves after submission for a final state drawn from STATE_WEIGHTS."""
        rng = self.rng
        limit = self.settings.answer_limit(urgency)
        state = _weighted(rng, STATE_WEIGHTS)
        answered = submitted + limit * rng.uniform(0.05, 0.8)
        if state == S.EXPIRED:
            return [(S.EXPIRED, submitted + limit + datetime.timedelta(minutes=rng.randrange(1, 15)))]
        if state == S.CANCELLED:
            return [(S.CANCELLED, answered)]
        if state == S.REJECTED:
            return [(S.REJECTED, answered)]
        arrived = answered + datetime.timedelta(hours=rng.randrange(2, 72))
        if state == S.NO_SHOW:
            return [(S.ACCEPTED, answered), (S.NO_SHOW, arrived + datetime.timedelta(hours=4))]
        completed = arrived + datetime.timedelta(days=rng.randint(*stay), hours=rng.randrange(1, 8))
        return [(S.ACCEPTED, answered), (S.ARRIVED, arrived), (S.COMPLETED, completed)]

    def _referral(self, direction, from_id, to_id, department_id, fields, diagnosis, reason, urgency):
        fields = dict(fields)
        signed, team_id = fields.pop("signed_resident", False), fields.pop("team_id", None)
        return Referral(
            alliance=self.ctx.alliance,
            direction=direction,
            from_institution_id=from_id,
            to_institution_id=to_id,
            to_department_id=department_id,
            signed_resident=signed,
            team_id=team_id,
            diagnosis=diagnosis,
            reason=reason,
            urgency=urgency,
            deductible_continuity=True,
            priority=signed and direction == Direction.UP,
            created_by=self.ctx.acting_user,
            **fields,
        )

    def _timeline(self, referral, submitted, moves, admission=None):
        referral.submitted_at = submitted
        referral.answer_due_at = submitted + self.settings.answer_limit(referral.urgency)
        events = [("", S.DRAFT, submitted, ""), (S.DRAFT, S.SUBMITTED, submitted, "")]
        state = S.SUBMITTED
        for to_state, at in moves:
            note = ""
            if to_state in CLOSING_REASONS:
                note = referral.closing_reason = self.rng.choice(CLOSING_REASONS[to_state])
            elif to_state == S.EXPIRED:
                note = "未在时限内答复。"
            elif to_state == S.COMPLETED:
                note = referral.summary = referral.summary or SUMMARY
            setattr(referral, referral_services.STAMPS[to_state], at)
            events.append((state, to_state, at, note))
            state = to_state
        referral.state = state
        self.items.append((referral, events, admission))

    def save(self):
        """Referrals first (their ids), refer-backs after the referral they return, then the
        events, the creation and change times of the timelines, and the admissions' links."""
        originals = [item for item in self.items if item[0].return_of is None]
        backs = [item for item in self.items if item[0].return_of is not None]
        for group in (originals, backs):
            for referral, _events, _admission in group:
                if referral.return_of is not None:
                    referral.return_of_id = referral.return_of.pk
            Referral.objects.bulk_create([item[0] for item in group], batch_size=2000)
        ReferralEvent.objects.bulk_create(
            [
                ReferralEvent(
                    referral_id=referral.pk,
                    from_state=old,
                    to_state=new,
                    acting_user=self.ctx.acting_user,
                    at=at,
                    note=note,
                )
                for referral, events, _admission in self.items
                for old, new, at, note in events
            ],
            batch_size=5000,
        )
        Referral.objects.filter(alliance=self.ctx.alliance).update(
            created_at=F("submitted_at"),
            updated_at=Coalesce("completed_at", "closed_at", "arrived_at", "accepted_at", "submitted_at"),
        )
        links = [
            Admission(pk=admission, referral_id=referral.pk)
            for referral, _events, admission in self.items
            if admission
        ]
        Admission.objects.bulk_update(links, ["referral_id"], batch_size=500)
