"""The refer-up and refer-down pages (issue 7 point 2): the form, and the htmx fragments it loads
in place: the receivers of a sending institution, a receiver's departments (and the
out-of-county reason), the two-week calendar of free reserved slots or beds, the free slots of
one calendar cell (per doctor the lowest free number and its expected time), and the
signed-resident lookup.

Fragments are rendered without the page's context processors (no menu, no unread count): each
costs the session, the user, the access facts and its own query. The calendar and a cell are
one GROUP BY each (`SlotQuerySet.availability` and `offers`, `BedQuerySet.free_by_day`)."""

import datetime
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from alliance.models import Department
from alliance.querysets import today
from core import services as core_services
from core.exceptions import Conflict
from core.forms import ServiceFormView, attach_errors
from core.identity import decrypt
from members.forms import FindResidentForm
from members.models import SignedResident

from .. import services
from ..choices import Direction, SlotPeriod, Urgency
from ..forms.refer import ReferForm, may_refer, new_token
from ..models import Bed, Referral, Slot

DAYS = 14  # the calendar shows two weeks …
WEEKS_AHEAD = 8  # … and moves a week at a time, up to eight weeks on
DIRECTIONS = {"up": Direction.UP, "down": Direction.DOWN}
TITLES = {Direction.UP: gettext_lazy("Refer up"), Direction.DOWN: gettext_lazy("Refer down")}


def detail_url(pk):
    return reverse("referrals:detail", args=[pk])


def fragment(template, context):
    return HttpResponse(render_to_string(template, context))


def referrer_only(view):
    """Signed in, and an institution administrator or clinician who may send referrals."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_refer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# --- The page ------------------------------------------------------------------------------------
class ReferView(ServiceFormView):
    """The form; a valid POST creates the referral (submitted, its slot or bed booked) once."""

    model = Referral
    form_class = ReferForm
    template_name = "referrals/refer_form.html"
    direction = Direction.UP
    # The team is a hidden field (found with the resident): its error shows above the form.
    error_renames = {"patient": "id_number", "direction": "to_institution", "team": None}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not may_refer(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"token": new_token(), "urgency": Urgency.ROUTINE}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        return {**kwargs, "user": self.request.user, "direction": self.direction, "day": today()}

    def form_valid(self, form):
        try:
            referral_id = self.create_once(form)
        except Conflict as error:
            if error.code == "idempotency_key_reused":
                return self.already_sent(form)
            attach_errors(form, error)
            return self.form_invalid(form)
        except ValidationError as error:
            attach_errors(form, error, self.error_renames)
            return self.form_invalid(form)
        return redirect(detail_url(referral_id))

    def create_once(self, form):
        """Create through the service under the form's one-time token: the same form sent
        twice (a double click, a reload) creates one referral and answers with it both times;
        a failed attempt leaves the token unused (run_idempotent rolls it back)."""
        user = self.request.user

        def perform():
            referral = services.create_referral(acting_user=user, **form.service_arguments())
            return 302, {"referral": referral.pk}

        token = form.cleaned_data["token"]
        if not token:
            return perform()[1]["referral"]
        _status, body, _replayed = core_services.run_idempotent(
            acting_user=user,
            key=f"refer:{token}",
            endpoint=self.request.path,
            payload=form.idempotency_payload(),
            perform=perform,
        )
        return body["referral"]

    def already_sent(self, form):
        """The token of a form already sent, with other details: a new token, nothing created."""
        form.data = form.data.copy()
        form.data["token"] = new_token()
        form.add_error(
            None, _("This form was already sent. Check the details and send it again as a new referral.")
        )
        return self.form_invalid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            title=TITLES[self.direction],
            direction=self.direction,
            **resident_box(form),
            **self.chosen_calendar(form),
        )
        return context

    def chosen_calendar(self, form):
        """On a form sent back: the calendar of the chosen department as it is now, the chosen
        bed or slot still checked when still free (a slot just taken is simply gone)."""
        cleaned = getattr(form, "cleaned_data", {})
        department = cleaned.get("to_department")
        if form.receiver is None or department is None:
            return {}
        now, slot, bed = timezone.now(), cleaned.get("slot"), cleaned.get("bed")
        start = slot.date if slot is not None else timezone.localdate(now)
        tab = "beds" if bed is not None and slot is None else "slots"
        context = {
            "calendar": calendar(self.request.user, department, start=start, tab=tab, now=now, bed=bed)
        }
        if slot is not None:
            context["cell"] = cell(self.request.user, department, slot.date, slot.period, now, chosen=slot.pk)
        return context


class ReferUpView(ReferView):
    direction = Direction.UP


class ReferDownView(ReferView):
    direction = Direction.DOWN


def resident_box(form):
    """The signed-resident part of the form as sent (the lookup fragment fills the same part)."""
    cleaned = getattr(form, "cleaned_data", {})
    return {"signed": bool(form["signed_resident"].value()), "team": cleaned.get("team")}


# --- Calendar ------------------------------------------------------------------------------------
def _window(start, now):
    first = timezone.localdate(now)
    start = min(max(start or first, first), first + datetime.timedelta(weeks=WEEKS_AHEAD))
    return first, start, [start + datetime.timedelta(days=n) for n in range(DAYS)]


def calendar(user, department, *, start, tab, now, bed=None):
    """Two weeks of one department from `start`: free reserved slots per day and period (count
    and doctors) or free reserved beds per day; one GROUP BY query either way."""
    first, start, days = _window(start, now)
    if tab == "beds":
        rows = Bed.objects.for_user(user).free_by_day(
            department.institution_id, department, days[0], days[-1]
        )
        by_day = {row["date"]: row for row in rows}
        lines = [(day, by_day.get(day)) for day in days]
    else:
        rows = Slot.objects.for_user(user).availability(
            department.institution_id, department, days[0], days[-1], now
        )
        cells = {}
        for row in rows:
            found = cells.setdefault((row["date"], row["period"]), {"free": 0, "doctors": []})
            found["free"] += row["free"]
            found["doctors"].append(row)
        lines = [(day, [(period, cells.get((day, period))) for period in SlotPeriod.values]) for day in days]
    week = datetime.timedelta(weeks=1)
    last_start = first + datetime.timedelta(weeks=WEEKS_AHEAD)
    return {
        "department": department,
        "tab": tab,
        "days": days,
        "lines": lines,
        "periods": SlotPeriod.choices,
        "chosen_bed": getattr(bed, "pk", bed),
        "urls": {
            "slots": _calendar_url(department, start, "slots"),
            "beds": _calendar_url(department, start, "beds"),
            "previous": _calendar_url(department, start - week, tab) if start > first else "",
            "next": _calendar_url(department, start + week, tab) if start < last_start else "",
        },
        "slots_url": reverse("referrals:refer-slots"),
    }


def _calendar_url(department, start, tab):
    query = urlencode({"to_department": department.pk, "start": start.isoformat(), "tab": tab})
    return f"{reverse('referrals:refer-calendar')}?{query}"


def cell(user, department, day, period, now, chosen=None):
    """The free slots of one calendar cell, one choice per doctor: their session's lowest free
    number, with its expected time (what a clinic hands out next)."""
    rows = Slot.objects.for_user(user).filter(
        institution=department.institution_id, department=department, date=day, period=period
    )
    return {
        "day": day,
        "period_label": SlotPeriod(period).label,
        "rows": list(rows.offers(now).order_by("doctor")),
        "chosen": chosen,
    }


def _department(request):
    """The department named in the query string, among those the user may see (or None)."""
    pk = request.GET.get("to_department", "")
    if not pk.isdigit():
        return None
    return Department.objects.for_user(request.user).filter(pk=pk).first()


def _date(value):
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


@referrer_only
@require_GET
def calendar_fragment(request):
    """The calendar of the chosen department; `reset` (a new department) also clears the slot
    list below it."""
    department = _department(request)
    context = {"reset": bool(request.GET.get("reset"))}
    if department is not None:
        tab = "beds" if request.GET.get("tab") == "beds" else "slots"
        bed = request.GET.get("bed", "")
        context["calendar"] = calendar(
            request.user,
            department,
            start=_date(request.GET.get("start")),
            tab=tab,
            now=timezone.now(),
            bed=int(bed) if bed.isdigit() else None,
        )
    return fragment("referrals/_refer_calendar.html", context)


@referrer_only
@require_GET
def slots_fragment(request):
    department, day = _department(request), _date(request.GET.get("date"))
    period = request.GET.get("period", "")
    if department is None or day is None or period not in SlotPeriod.values:
        raise Http404
    return fragment(
        "referrals/_refer_slots.html", {"cell": cell(request.user, department, day, period, timezone.now())}
    )


# --- Receivers -----------------------------------------------------------------------------------
def _form_from_query(request, direction):
    if direction not in DIRECTIONS:
        raise Http404
    return ReferForm(request.GET, user=request.user, direction=DIRECTIONS[direction], day=today())


@referrer_only
@require_GET
def receivers_fragment(request, direction):
    """The receivers of the chosen sending institution (a user working at several)."""
    form = _form_from_query(request, direction)
    return fragment("referrals/_refer_receivers.html", {"form": form, "direction": form.direction})


@referrer_only
@require_GET
def receiver_fragment(request, direction):
    """The chosen receiver's departments, and its out-of-county reason field when it asks one."""
    form = _form_from_query(request, direction)
    return fragment("referrals/_refer_receiver.html", {"form": form, "direction": form.direction})


# --- Signed resident -----------------------------------------------------------------------------
@referrer_only
@require_POST
def find_resident_fragment(request):
    """Look the typed ID number up among the signed residents the user may see (the people
    pages' lookup: a POST through the keyed hash, the number never shown back)."""
    typed = request.POST.get("id_number", "").strip() or decrypt(request.POST.get("id_sealed", "")) or ""
    form = FindResidentForm({"id_number": typed})  # the number typed, or the one the form kept
    context = {"searched": False, "signed": False, "team": None, "find_errors": form.errors.get("id_number")}
    if form.is_valid():
        resident = (
            SignedResident.objects.for_user(request.user)
            .with_id_number(form.cleaned_data["id_number"])
            .under_contract_on(today())
            .select_related("team", "institution")
            .order_by("-signed_on")
            .first()
        )
        context.update(searched=True, resident=resident, signed=resident is not None)
        context["team"] = resident.team if resident else None
    return fragment("referrals/_refer_resident.html", context)
