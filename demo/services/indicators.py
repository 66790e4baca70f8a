"""The demo's indicators (issue 14): every month of the year of activity computed through the
assessment service, as the early-month run would, and published up to two months before the
last one, so the latest months read as provisional.

The latest published month is then restated (issue 15 point 7), the way any late correction
restates one: the insurance audit of the lead hospital's discharges of that month cut the fund's
payment of some of them (医保审核扣减), and its HIS sends those admissions again (same external
ids, every other field as stored) through `encounters.services.ingest`, which marks their month
changed; the dirty months are recomputed as the nightly run would, so the month's
insurance-fund shares (month and year to date) carry Restatements naming that ingest batch as
their cause. Only `insurance_paid` changes, so the counts and total costs the activity's tests
pin stay those the seed generates.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from assessment.models import IndicatorMonth
from assessment.services import indicators
from core.identity import decrypt
from core.measures import month_end, month_range
from core.models import MeasureChange
from encounters import services as encounters
from encounters.models import Admission, EncounterKind, IngestBatch
from members.models import SignedResident

from .context import add_months
from .county import LEAD_CODE

PROVISIONAL_MONTHS = 2  # the last months left unpublished, as a bureau would
# The month restated, this many months before the last: the latest published one, so the
# restatements are that month's alone (an earlier month would restate the year to date of the
# published months after it too, naming the same correction).
RESTATED_MONTHS_BACK = PROVISIONAL_MONTHS
CORRECTED_SHARE = 0.5  # of the month's discharges the HIS can send again (see _resendable)
DEDUCTION = (0.2, 0.5)  # the share of the fund's payment the audit refused, from … to
CENT = Decimal("0.01")


def compute_indicators(context):
    dates = context.dates
    months = month_range(dates.period_start, dates.period_end)  # the anchor's month too, so far
    indicators.compute_indicators(context.alliance, months)
    indicators.forget_marks_of_uncomputed_months()
    for month in months:
        if month <= add_months(dates.last_month, -PROVISIONAL_MONTHS):
            indicators.publish_month(context.alliance, month, acting_user=context.acting_user)


def restate_published_month(context):
    """The lead hospital's HIS resends the audited admissions of the restated month; then the
    nightly recomputation of the dirty months."""
    month = add_months(context.dates.last_month, -RESTATED_MONTHS_BACK)
    if month_end(month) > timezone.localdate():
        # The ingest refuses records dated after today: an anchor months ahead of the real date
        # has no restated month.
        return
    admissions, numbers = _resendable(context, month)
    if not admissions:
        return
    rng = context.rng("restatement")
    chosen = sorted(
        rng.sample(admissions, max(1, round(len(admissions) * CORRECTED_SHARE))), key=lambda a: a.external_id
    )
    client, source = chosen[0].client, chosen[0].source
    records = [_resent(admission, numbers[admission.patient_key], rng) for admission in chosen]
    answer = encounters.ingest(EncounterKind.ADMISSIONS, records, client=client, source=source)
    if answer["updated"] != len(records):
        raise RuntimeError(f"the demo's correction was not taken as sent: {answer}")
    _received_in_the_night_batch(context, chosen, client=client, source=source)
    months = indicators.dirty_months().get(context.alliance.pk, [])
    indicators.forget_marks_of_uncomputed_months()
    indicators.compute_indicators(context.alliance, months)


def _resendable(context, month):
    """The lead hospital's discharges of `month` the fund paid for, of signed residents: the
    only patients whose resident ID the county holds (encrypted, members.SignedResident), which
    a record sent again must carry (the activity keeps only the keyed hashes). Returns them in
    external-id order and `{patient_key: resident ID}`."""
    signed = dict(
        SignedResident.objects.filter(institution__in=list(context.institutions.values())).values_list(
            "patient_key", "id_number_encrypted"
        )
    )
    admissions = list(
        Admission.objects.filter(
            alliance=context.alliance,
            month=month,
            institution=context.institutions[LEAD_CODE],
            patient_key__in=signed,
            insurance_paid__gt=0,
        )
        .select_related("institution", "department", "client")
        .order_by("external_id")
    )
    return admissions, {
        admission.patient_key: decrypt(signed[admission.patient_key]) for admission in admissions
    }


def _resent(admission, number, rng):
    """The record as the HIS sends it again: as stored, with the fund's payment the audit left."""
    kept = 1 - Decimal(f"{rng.uniform(*DEDUCTION):.2f}")
    return {
        "external_id": admission.external_id,
        "institution": admission.institution.code,
        "department": admission.department.code,
        "patient_id_number": number,
        "resident_region": admission.resident_region,
        "admit_date": admission.admit_date.isoformat(),
        "discharge_date": admission.discharge_date.isoformat(),
        "diagnosis": admission.diagnosis,
        "total_cost": str(admission.total_cost),
        "insurance_paid": str((admission.insurance_paid * kept).quantize(CENT)),
        "tcm": admission.tcm,
        "referral": admission.referral_id,
    }


def _received_in_the_night_batch(context, admissions, *, client, source):
    """The correction came in the night batch of the anchor day, at 00:40 in Shanghai, before
    that night's recomputation (01:30), not when the demo is loaded: nothing is received after
    that batch (activity_rows.Calendar). Its batch, records and marks (the restatements'
    causes) say so."""
    at = datetime.datetime.combine(
        context.dates.anchor - datetime.timedelta(days=1), datetime.time(16, 40), tzinfo=datetime.UTC
    )
    batch = IngestBatch.objects.filter(client=client, source=source).latest("pk")
    IngestBatch.objects.filter(pk=batch.pk).update(received_at=at)
    Admission.objects.filter(pk__in=[admission.pk for admission in admissions]).update(received_at=at)
    MeasureChange.objects.filter(cause_type=IngestBatch._meta.label_lower, cause_id=batch.pk).update(
        changed_at=at
    )


def recorded(alliance):
    return IndicatorMonth.objects.filter(alliance=alliance, computed_at__isnull=False).exists()
