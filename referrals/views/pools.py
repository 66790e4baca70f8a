"""Slot and bed pool management (issue 7 point 5), under /referrals/pools/: for the hospitals'
administrators (an institution administrator for its institution, the alliance office for any
of its alliance): the weekly template and its lines, publishing a week from it, and the
overview of a week per day and department with the released shares against their targets
(1/3 of the slots, 1/4 of the open beds at the lead hospital).

Every write goes through `referrals.services`; every count comes from one GROUP BY of
`referrals.querysets`, so a page costs the same number of queries whatever the pool's size.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from alliance.choices import PlacementRole
from alliance.models import ROLE_RANK, Institution, Placement
from alliance.querysets import today
from core import access
from core.detail import get_scoped_or_404
from core.forms import ServiceFormView

from .. import services
from ..choices import Weekday
from ..forms.pools import ConfirmForm, PublishWeekForm, TemplateEntryForm, WeekForm, next_monday
from ..models import Bed, PoolPublication, PoolTemplateEntry, Slot
from ..services.pools import LEAD_BED_SHARE, LEAD_SLOT_SHARE, is_lead

UPCOMING_WEEKS = 6  # weeks offered on the publish page


def manages_pools(user):
    """Whether `user` may manage any institution's pools (the navigation's 'Slots and beds')."""
    return access.can_write(user, PoolTemplateEntry)


def managed_placements(user, day):
    """The institutions whose pools `user` manages, placed in an alliance on `day` (village
    clinics and partners publish none), hospitals first, with their number of template lines
    and the last week published: one query."""
    writable = access.institutions(user, PoolTemplateEntry, access.WRITE)
    lines = (
        PoolTemplateEntry.objects.filter(institution=OuterRef("institution"))
        .order_by()
        .values("institution")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_week = PoolPublication.objects.filter(institution=OuterRef("institution")).order_by("-week_start")
    rank = Case(
        *(When(role=role, then=Value(-value)) for role, value in ROLE_RANK.items()),
        output_field=IntegerField(),
    )
    return (
        Placement.objects.on(day)
        .filter(institution__in=writable)
        .exclude(role__in=[PlacementRole.VILLAGE, PlacementRole.PARTNER])
        .select_related("institution")
        .annotate(
            lines=Subquery(lines, output_field=IntegerField()),
            last_week=Subquery(last_week.values("week_start")[:1]),
        )
        .order_by(rank, "institution__code")
    )


class PoolIndexView(LoginRequiredMixin, TemplateView):
    """The institutions the user manages the pools of; with one only, straight to its template."""

    template_name = "referrals/pool_index.html"

    def get(self, request, *args, **kwargs):
        if not manages_pools(request.user):
            raise PermissionDenied
        self.placements = list(managed_placements(request.user, today()))
        if len(self.placements) == 1:
            return redirect("referrals:pool-template", pk=self.placements[0].institution_id)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(placements=self.placements, **kwargs)


class PoolPageMixin:
    """A page of one institution's pools: 404 when the user may not see the institution, 403
    when they may not write its pools (DESIGN §5)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        self.institution = get_scoped_or_404(Institution, request.user, kwargs["pk"])
        if not access.can_write(
            request.user, PoolTemplateEntry, PoolTemplateEntry(institution=self.institution)
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def template_url(self):
        return reverse("referrals:pool-template", args=[self.institution.pk])

    def get_context_data(self, **kwargs):
        return super().get_context_data(institution=self.institution, **kwargs)


def targets(institution, day):
    """Whether the institution is the lead hospital on `day`, and its daily bed target."""
    lead = is_lead(institution, day)
    return {
        "lead": lead,
        "bed_target": -(-institution.open_beds // LEAD_BED_SHARE),
    }


# --- The weekly template ---------------------------------------------------------------------------
class TemplatePageView(PoolPageMixin, TemplateView):
    """The weekly template, day by day, with each day's beds against the lead hospital's
    quarter of its open beds; forms to add a line and to publish a week."""

    template_name = "referrals/pool_template.html"

    def get_context_data(self, **kwargs):
        entries = PoolTemplateEntry.objects.filter(institution=self.institution).for_page()
        bed_totals = PoolTemplateEntry.objects.filter(institution=self.institution).bed_totals_by_weekday()
        facts = targets(self.institution, today())
        by_day = {weekday: [] for weekday in Weekday.values}
        for entry in entries:
            by_day[entry.weekday].append(entry)
        days = [
            {
                "label": Weekday(weekday).label,
                "entries": lines,
                "beds": bed_totals.get(weekday, 0),
                "beds_short": facts["lead"] and bed_totals.get(weekday, 0) < facts["bed_target"],
            }
            for weekday, lines in by_day.items()
        ]
        publications = PoolPublication.objects.filter(institution=self.institution).order_by("-week_start")
        return super().get_context_data(
            days=days,
            entry_form=TemplateEntryForm(institution=self.institution, user=self.request.user),
            publish_form=PublishWeekForm(initial={"week_start": next_monday(today())}),
            publications=publications[:UPCOMING_WEEKS],
            **facts,
            **kwargs,
        )


class PoolFormView(PoolPageMixin, ServiceFormView):
    """A form of the pool pages (template `referrals/pool_form.html`), back to the template."""

    template_name = "referrals/pool_form.html"
    model = PoolTemplateEntry
    title = ""

    def get_success_url(self):
        return self.template_url()

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, cancel_url=self.template_url(), **kwargs)


class EntryFormMixin:
    form_class = TemplateEntryForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "institution": self.institution, "user": self.request.user}


class EntryCreateView(EntryFormMixin, PoolFormView):
    title = gettext_lazy("Add a template line")

    def perform(self, form):
        return services.create_template_entry(
            self.institution, acting_user=self.request.user, **form.cleaned_data
        )


class EntryObjectMixin:
    def get_object(self):
        entries = PoolTemplateEntry.objects.filter(institution=self.institution)
        entries = entries.select_related("institution", "department")
        return get_scoped_or_404(entries, self.request.user, self.kwargs["entry"])


class EntryUpdateView(EntryObjectMixin, EntryFormMixin, PoolFormView):
    title = gettext_lazy("Edit a template line")

    def get_initial(self):
        entry = self.object
        return {
            "weekday": entry.weekday,
            "kind": entry.kind,
            "department": entry.department_id,
            "period": entry.period,
            "doctor": entry.doctor,
            "count": entry.count,
            "reserved_for_primary": entry.reserved_for_primary,
            "interval_minutes": entry.interval_minutes,
        }

    def perform(self, form):
        return services.update_template_entry(self.object, acting_user=self.request.user, **form.cleaned_data)


class EntryDeleteView(EntryObjectMixin, PoolFormView):
    form_class = ConfirmForm
    title = gettext_lazy("Remove a template line")
    template_name = "referrals/pool_entry_confirm_delete.html"

    def perform(self, form):
        services.delete_template_entry(self.object, acting_user=self.request.user)


# --- Publishing a week ------------------------------------------------------------------------------
class PublishWeekView(PoolFormView):
    """Publish a week from the template; the service's refusals (a day short of beds at the lead
    hospital, a week published already) come back on the form."""

    model = Slot
    form_class = PublishWeekForm
    title = gettext_lazy("Publish a week from the template")
    template_name = "referrals/pool_publish.html"

    def get_initial(self):
        return {"week_start": next_monday(today())}

    def perform(self, form):
        return services.publish_week(
            self.institution, week_start=form.cleaned_data["week_start"], acting_user=self.request.user
        )

    def form_valid(self, form):
        response = super().form_valid(form)
        if isinstance(self.object, PoolPublication):
            messages.success(
                self.request,
                _("Published %(slots)d slots and %(beds)d beds for the week of %(week)s.")
                % {"slots": self.object.slots, "beds": self.object.beds, "week": self.object.week_start},
            )
        return response

    def get_success_url(self):
        url = reverse("referrals:pool-overview", args=[self.institution.pk])
        return f"{url}?week={self.object.week_start.isoformat()}"

    def get_context_data(self, **kwargs):
        first = next_monday(today()) - datetime.timedelta(days=7)
        mondays = [first + datetime.timedelta(days=7 * n) for n in range(UPCOMING_WEEKS)]
        published = dict(
            PoolPublication.objects.filter(institution=self.institution, week_start__in=mondays).values_list(
                "week_start", "published_at"
            )
        )
        weeks = [(monday, published.get(monday)) for monday in mondays if monday >= today()]
        return super().get_context_data(weeks=weeks, **kwargs)


# --- The overview of a week -------------------------------------------------------------------------
class PoolOverviewView(PoolPageMixin, TemplateView):
    """A week's pools per day and department: slots published, reserved, booked, returned and
    free; beds reserved, booked and free; and the week's released shares against the targets."""

    template_name = "referrals/pool_overview.html"

    def get_context_data(self, **kwargs):
        form = WeekForm(self.request.GET or None)
        monday = form.monday(default=today())
        sunday = monday + datetime.timedelta(days=6)
        slots = Slot.objects.filter(institution=self.institution).between(monday, sunday)
        beds = Bed.objects.filter(institution=self.institution).between(monday, sunday)
        return super().get_context_data(
            form=form,
            monday=monday,
            sunday=sunday,
            previous_week=monday - datetime.timedelta(days=7),
            next_week=monday + datetime.timedelta(days=7),
            slot_rows=list(slots.status_by_department_and_day()),
            bed_rows=list(beds.status_by_department_and_day()),
            shares=self.shares(monday, sunday),
            publication=PoolPublication.objects.filter(
                institution=self.institution, week_start=monday
            ).first(),
            **kwargs,
        )

    def shares(self, first, last):
        """The released shares of the period, from the querysets the indicators reuse."""
        institution = self.institution
        slot = Slot.objects.filter(institution=institution).release_ratio_by_institution(first, last).first()
        bed = Bed.objects.filter(institution=institution).release_ratio_by_institution(first, last).first()
        days = (last - first).days + 1
        slot = slot or {"published": 0, "reserved": 0, "ratio": None}
        bed = bed or {"bed_days": 0, "ratio": None}
        return {
            "lead": is_lead(institution, first),
            "days": days,
            "slots": {
                **slot,
                "percent": _percent(slot["ratio"]),
                "target": f"1/{LEAD_SLOT_SHARE}",
                "under": slot["published"] > 0 and slot["reserved"] * LEAD_SLOT_SHARE < slot["published"],
            },
            "beds": {
                **bed,
                "percent": _percent(bed["ratio"]),
                "open_beds": institution.open_beds,
                "average": bed["bed_days"] / days,
                "target": f"1/{LEAD_BED_SHARE}",
                "under": institution.open_beds > 0
                and bed["bed_days"] * LEAD_BED_SHARE < days * institution.open_beds,
            },
        }


def _percent(ratio):
    return None if ratio is None else ratio * 100
