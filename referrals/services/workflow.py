"""The referral workflow (issue 6 points 2–3): create, then one service per verb.

Every verb checks the TRANSITIONS table and who may do it (DESIGN §5: the sending institution's
staff submit and cancel, the receiving institution's staff accept, reject, record arrival,
completion and no-show; expiry is the system's), locks the referral, records a ReferralEvent and
publishes the move on commit (`events.publish_move`: the inbox and the HIS webhooks). Times that rules compare come from Python
(`timezone.now()`), never from the database.

A move whose time the referral measures count (submitted, accepted, completed: `measures.EVENTS`)
marks that month of the referral's alliance changed, the referral as the cause (issue 14 point 5);
the other moves (arrival, the closing ones) change no count: a referral once submitted stays
counted as submitted.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.choices import PlacementRole
from alliance.models import Alliance
from core.codes import normalize_icd10
from core.exceptions import Conflict
from core.identity import encrypt, mask_name, mask_resident_id, patient_key, validate_resident_id
from core.measures import mark_changed
from members.models import SignedResident

from ..choices import Direction, ReferralState
from ..measures import EVENTS
from ..models import Referral, ReferralEvent, ReferralSettings
from ..querysets import route
from .booking import book_new, book_or_swap, holds_nothing, release
from .common import ensure_acts_for, placements_on
from .events import REFERRED_BACK, publish_move

S = ReferralState
# The timestamp each state sets; the closing states share `closed_at`.
STAMPS = {
    S.SUBMITTED: "submitted_at",
    S.ACCEPTED: "accepted_at",
    S.ARRIVED: "arrived_at",
    S.COMPLETED: "completed_at",
    S.REJECTED: "closed_at",
    S.CANCELLED: "closed_at",
    S.EXPIRED: "closed_at",
    S.NO_SHOW: "closed_at",
}
RELEASING = {S.REJECTED, S.CANCELLED, S.EXPIRED, S.NO_SHOW}
COUNTED = {stamp for _event, stamp, _alias in EVENTS}  # the stamps the referral measures count
# Left out of a new referral's field checks: the encrypted patient fields (machine-made) and the
# foreign keys, which point at rows the caller has just read from the database (the API through
# the user's scope): checking that they exist would only read them again.
ENCRYPTED = ["patient_name_encrypted", "patient_id_encrypted"]
LOADED = ["alliance", "from_institution", "to_institution", "to_department", "team", "created_by"]


def _locked(referral):
    """Re-read under a lock on the referral row only, with what the answer shows (its ends,
    department, slot and bed): the moves keep it up to date in memory, so no re-read follows."""
    return Referral.objects.for_list().select_for_update(of=("self",)).get(pk=referral.pk)


def _move(referral, to_state, *, acting_user, now, note="", published=None):
    """Check the TRANSITIONS table, change the state, stamp the time, record the event and
    publish the move (on commit). Releases the slot or bed on a closing move."""
    if not referral.can_move_to(to_state):
        raise Conflict(
            _("A referral in state “%(state)s” cannot become “%(to)s”.")
            % {"state": referral.get_state_display(), "to": S(to_state).label},
            code="illegal_transition",
        )
    from_state = referral.state
    referral.save(update_fields=_stamp(referral, to_state, now))
    if to_state in RELEASING:
        release(referral)
    _record(referral, from_state, to_state, acting_user=acting_user, now=now, note=note, published=published)
    _mark_counted(referral, to_state, now)
    return referral


def _mark_counted(referral, to_state, now):
    """Mark the month (in Asia/Shanghai, as the measures group) of a move the referral measures
    count; lateral referrals are counted nowhere."""
    if STAMPS.get(to_state) in COUNTED and referral.direction != Direction.LATERAL:
        mark_changed(referral.alliance_id, [timezone.localdate(now)], referral)


def _stamp(referral, to_state, now):
    """Set the state and the time it sets (on submit also the answer deadline, by the
    alliance's limit for the urgency); returns the fields changed."""
    referral.state = to_state
    stamp = STAMPS.get(to_state)
    fields = ["state", "updated_at"]
    if stamp:
        setattr(referral, stamp, now)
        fields.append(stamp)
    if to_state == S.SUBMITTED:
        referral.answer_due_at = now + _settings(referral.alliance).answer_limit(referral.urgency)
        fields.append("answer_due_at")
    return fields


def _settings(alliance):
    """`ReferralSettings.of(alliance)`, without a query when classify() read them already."""
    if not Alliance.referral_settings.is_cached(alliance):
        return ReferralSettings.of(alliance)
    return getattr(alliance, "referral_settings", None) or ReferralSettings(alliance=alliance)


def _record(referral, from_state, to_state, *, acting_user, now, note="", published=None):
    """Write the event row and publish the move on commit (`published`: the event name when it
    is not the state's, as for a referral back)."""
    ReferralEvent.objects.create(**_event(referral, from_state, to_state, acting_user, now, note))
    if to_state != S.DRAFT:  # a draft is the sender's own business
        publish_move(referral, published or to_state, now)


def _event(referral, from_state, to_state, acting_user, now, note=""):
    return {
        "referral": referral,
        "from_state": from_state,
        "to_state": to_state,
        "acting_user": acting_user,
        "at": now,
        "note": note,
    }


def classify(from_institution, to_institution, day):
    """`(direction, alliance, out_of_county)` by the hierarchy on `day` (`querysets.route`, the
    rule the refer page offers too): village → its own branch → lead/collaborating is up, the
    reverse down, the same rank lateral; an institution outside the sender's alliance (or a
    partner) is out of the county, and up. The alliance comes with its referral settings read
    (one query for it all)."""
    placements = placements_on(day, from_institution, to_institution)
    sender = placements.get(from_institution.pk)
    if sender is None or sender.role == PlacementRole.PARTNER:
        raise ValidationError(
            {"from_institution": _("The sending institution is not a member of an alliance on this day.")}
        )
    way = route(sender, placements.get(to_institution.pk))
    if way is None:
        raise ValidationError(
            {"to_institution": _("A village clinic refers up to its own township health centre only.")}
        )
    direction, out_of_county = way
    return direction, sender.alliance, out_of_county


def _patient_fields(patient):
    """Encrypted name and ID, their masks and the keyed hash; never the raw values."""
    name = (patient.get("name") or "").strip()
    if not name:
        raise ValidationError({"patient": _("Enter the patient's name.")})
    try:
        number = validate_resident_id(patient.get("id_number"))
    except ValidationError as error:
        raise ValidationError({"patient": error.messages}) from None
    return {
        "patient_name_encrypted": encrypt(name),
        "patient_name_masked": mask_name(name),
        "patient_id_encrypted": encrypt(number),
        "patient_id_masked": mask_resident_id(number),
        "patient_key": patient_key(number),
        "insurance_number": (patient.get("insurance_number") or "").strip(),
    }


def needs_reason_code(direction, out_of_county):
    """An up-referral out of the county needs its coded reason (DESIGN §3): the service refuses
    one without it, and the refer page asks for it exactly then."""
    return direction == Direction.UP and out_of_county


def _signed_team(key, signed, team, now):
    """The family-doctor team of a signed resident: the one given, which must hold the patient's
    contract on that day, or the contract found by the patient key; a team makes the patient a
    signed resident."""
    contracts = SignedResident.objects.filter(patient_key=key).under_contract_on(timezone.localdate(now))
    if team is not None:
        if not contracts.filter(team=team).exists():
            raise ValidationError(
                {"team": _("This patient has no family-doctor contract with this team on this day.")}
            )
        return True, team
    if signed:
        contract = contracts.select_related("team").first()
        team = contract.team if contract else None
    return bool(signed or team), team


def create_referral(
    *,
    acting_user,
    from_institution,
    to_institution,
    patient,
    diagnosis,
    reason,
    urgency,
    to_department=None,
    direction=None,
    reason_code="",
    team=None,
    slot=None,
    bed=None,
    submit=True,
    now=None,
):
    """Create a referral (submitted unless `submit` is False) and book its slot or bed.

    The direction follows the hierarchy that day (a `direction` sent must agree); an up-referral
    out of the county needs `reason_code`; referrals inside the alliance count the deductible
    continuously (起付线连续计算); a signed resident referred up gets the priority flag.
    Everything is checked before one transaction writes the referral (submitted at once, with
    both events: created as a draft, then submitted), books and publishes the move.
    """
    now = now or timezone.now()
    ensure_acts_for(acting_user, from_institution)
    computed, alliance, out_of_county = classify(from_institution, to_institution, timezone.localdate(now))
    if direction and direction != computed:
        raise ValidationError(
            {"direction": _("By the hierarchy today this is a %(d)s.") % {"d": Direction(computed).label}}
        )
    if needs_reason_code(computed, out_of_county) and not reason_code:
        raise ValidationError({"reason_code": _("An up-referral out of the county needs a coded reason.")})
    if to_department is not None and to_department.institution_id != to_institution.pk:
        raise ValidationError({"to_department": _("This department belongs to another institution.")})
    fields = _patient_fields(patient)
    signed, team = _signed_team(fields["patient_key"], patient.get("signed_resident"), team, now)
    referral = Referral(
        alliance=alliance,
        direction=computed,
        from_institution=from_institution,
        to_institution=to_institution,
        to_department=to_department,
        signed_resident=signed,
        team=team,
        diagnosis=normalize_icd10(diagnosis) or diagnosis,  # not a code: full_clean says so
        reason=reason,
        reason_code=reason_code or "",
        urgency=urgency,
        out_of_county=out_of_county,
        deductible_continuity=not out_of_county,
        priority=signed and computed == Direction.UP,
        created_by=acting_user,
        **fields,
    )
    _validate(referral)
    moves = [("", S.DRAFT)] + ([(S.DRAFT, S.SUBMITTED)] if submit else [])
    if submit:
        _stamp(referral, S.SUBMITTED, now)
    with transaction.atomic():
        referral.save()
        book_new(referral, slot=slot, bed=bed, now=now)
        ReferralEvent.objects.bulk_create(
            ReferralEvent(**_event(referral, *move, acting_user, now)) for move in moves
        )
        if submit:
            publish_move(referral, S.SUBMITTED, now)
            _mark_counted(referral, S.SUBMITTED, now)
    return referral


def _validate(referral):
    """`full_clean()` less the existence checks of the foreign keys in LOADED; the constraints
    (not to itself) are still checked. Errors are gathered as full_clean() gathers them."""
    errors = {}
    try:
        referral.full_clean(exclude=ENCRYPTED + LOADED, validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        referral.validate_constraints(exclude=ENCRYPTED + list(errors))
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def submit_referral(referral, *, acting_user, now=None):
    """Send a draft to the receiving institution; the answer is due within the alliance's limit."""
    ensure_acts_for(acting_user, referral.from_institution)
    return _move(_locked(referral), S.SUBMITTED, acting_user=acting_user, now=now or timezone.now())


@transaction.atomic
def accept_referral(referral, *, acting_user, slot=None, bed=None, now=None):
    """The receiver accepts, optionally booking (or swapping to) a slot or bed."""
    now = now or timezone.now()
    ensure_acts_for(acting_user, referral.to_institution)
    referral = _locked(referral)
    if referral.can_move_to(S.ACCEPTED):
        book_or_swap(referral, slot=slot, bed=bed, now=now)
    return _move(referral, S.ACCEPTED, acting_user=acting_user, now=now)


def _required(text, field="reason"):
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("Give a reason.")})
    return text


@transaction.atomic
def reject_referral(referral, *, acting_user, reason, now=None):
    """The receiver declines, with a reason; the slot or bed is released."""
    reason = _required(reason)
    ensure_acts_for(acting_user, referral.to_institution)
    referral = _locked(referral)
    referral.closing_reason = reason
    referral.save(update_fields=["closing_reason"])
    return _move(referral, S.REJECTED, acting_user=acting_user, now=now or timezone.now(), note=reason)


@transaction.atomic
def cancel_referral(referral, *, acting_user, reason, now=None):
    """The sender withdraws the referral, with a reason; the slot or bed is released."""
    reason = _required(reason)
    ensure_acts_for(acting_user, referral.from_institution)
    referral = _locked(referral)
    referral.closing_reason = reason
    referral.save(update_fields=["closing_reason"])
    return _move(referral, S.CANCELLED, acting_user=acting_user, now=now or timezone.now(), note=reason)


@transaction.atomic
def record_arrival(referral, *, acting_user, now=None):
    """The patient arrived at the receiving institution."""
    ensure_acts_for(acting_user, referral.to_institution)
    return _move(_locked(referral), S.ARRIVED, acting_user=acting_user, now=now or timezone.now())


@transaction.atomic
def record_no_show(referral, *, acting_user, now=None):
    """The patient did not come; the slot or bed is released."""
    ensure_acts_for(acting_user, referral.to_institution)
    return _move(_locked(referral), S.NO_SHOW, acting_user=acting_user, now=now or timezone.now())


@transaction.atomic
def complete_referral(referral, *, acting_user, summary="", now=None):
    """The receiver closes the episode with its discharge summary or feedback (回转信息)."""
    ensure_acts_for(acting_user, referral.to_institution)
    referral = _locked(referral)
    if referral.can_move_to(S.COMPLETED):
        referral.summary = (summary or "").strip()
        referral.save(update_fields=["summary"])
    return _move(referral, S.COMPLETED, acting_user=acting_user, now=now or timezone.now(), note=summary)


def expire_referrals(now):
    """Expire the submitted referrals nobody answered within the alliance's limit for their
    urgency, releasing their slots and beds. Each in its own transaction, re-checked under the
    lock so an answer racing the task wins. Unfiltered manager: this runs from Celery beat."""
    expired = 0
    for pk in Referral.objects.answer_overdue(now).values_list("pk", flat=True):
        with transaction.atomic():
            referral = Referral.objects.for_list().select_for_update(of=("self",)).filter(pk=pk).first()
            if referral is None or referral.state != S.SUBMITTED or referral.answer_due_at > now:
                continue
            _move(referral, S.EXPIRED, acting_user=None, now=now, note=_("No answer in time."))
            expired += 1
    return expired


@transaction.atomic
def refer_back(referral, *, acting_user, summary="", to_department=None, urgency=None, now=None):
    """From a completed up-referral, create the down-referral back to the sender, carrying the
    discharge summary (submitted, with the same patient)."""
    now = now or timezone.now()
    ensure_acts_for(acting_user, referral.to_institution)
    referral = _locked(referral)
    if referral.state != S.COMPLETED or referral.direction != Direction.UP:
        raise Conflict(_("Only a completed up-referral can be referred back."), code="illegal_transition")
    if Referral.objects.open_returns_of(referral).exists():
        raise Conflict(
            _("This referral has already been referred back; see its down-referral."),
            code="already_referred_back",
        )
    summary = _required(summary or referral.summary, field="summary")
    back = Referral.objects.create(
        alliance=referral.alliance,
        direction=Direction.DOWN,
        from_institution=referral.to_institution,
        to_institution=referral.from_institution,
        to_department=to_department,
        signed_resident=referral.signed_resident,
        team=referral.team,
        diagnosis=referral.diagnosis,
        reason=summary,
        summary=summary,
        urgency=urgency or referral.urgency,
        deductible_continuity=not referral.out_of_county,
        return_of=referral,
        created_by=acting_user,
        **{name: getattr(referral, name) for name in PATIENT_COPIED},
    )
    holds_nothing(back)
    _record(back, "", S.DRAFT, acting_user=acting_user, now=now)
    return _move(back, S.SUBMITTED, acting_user=acting_user, now=now, published=REFERRED_BACK)


PATIENT_COPIED = (
    "patient_name_encrypted",
    "patient_name_masked",
    "patient_id_encrypted",
    "patient_id_masked",
    "patient_key",
    "insurance_number",
)
