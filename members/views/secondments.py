"""Secondment pages (下沉/派驻): the list, a secondment's record with the years in which it
reaches six months, and the forms (second_staff, update_secondment)."""

import django_filters
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alliance.querysets import today
from core.detail import get_scoped_or_404
from core.listing import Column, ScopedListView, attr

from .. import services
from ..filtersets import SecondmentFilterSet
from ..forms import SecondmentCreateForm, SecondmentUpdateForm
from ..models import Secondment
from .common import PeopleFormView, RecordDetailView


class SecondmentPageFilterSet(SecondmentFilterSet):
    # A select of every staff member would hold thousands: pages search by name or number.
    staff = None
    from_institution_code = None
    to_institution_code = None
    search = django_filters.CharFilter(method="filter_search", label=_("name or employee number"))

    class Meta(SecondmentFilterSet.Meta):
        fields = ["kind", "from_institution", "to_institution"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(staff__name__icontains=value) | Q(staff__employee_number__iexact=value))


class SecondmentListView(ScopedListView):
    model = Secondment
    queryset = Secondment.objects.select_related("staff", "from_institution", "to_institution")
    filterset_class = SecondmentPageFilterSet
    title = _("Secondments")
    export_name = _("Secondments")
    create_url_name = "members:secondment-create"
    columns = [
        Column("staff", _("staff member"), attr("staff.name"), "staff__name"),
        Column(
            "employee_number", _("employee number"), attr("staff.employee_number"), "staff__employee_number"
        ),
        Column("from", _("from institution"), attr("from_institution.name"), "from_institution__name"),
        Column("to", _("to institution"), attr("to_institution.name"), "to_institution__name"),
        Column("kind", _("kind"), attr("get_kind_display"), "kind"),
        Column("start_date", _("start date"), attr("start_date"), "start_date"),
        Column("end_date", _("end date"), attr("end_date"), "end_date"),
    ]


def years_of(secondment, until=None):
    """Each calendar year the secondment touches, with its days inside that year and whether it
    reaches six months there (派驻6个月以上, the model's rule)."""
    last = (secondment.end_date or until or today()).year
    return [
        (year, secondment.days_in_year(year), secondment.reaches_six_months(year))
        for year in range(secondment.start_date.year, last + 1)
    ]


class SecondmentDetailView(RecordDetailView):
    model = Secondment
    related = ("staff", "from_institution", "to_institution")
    template_name = "members/secondment_detail.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(years=years_of(self.object), **kwargs)


class SecondmentCreateView(PeopleFormView):
    model = Secondment
    form_class = SecondmentCreateForm
    title = _("Record a secondment")

    def get_initial(self):
        return {"employee_number": self.request.GET.get("employee_number", "")}

    def perform(self, form):
        data = dict(form.cleaned_data)
        data.pop("employee_number")
        staff = data.pop("staff")
        return services.second_staff(staff, acting_user=self.request.user, **data)

    def get_cancel_url(self):
        return reverse("members:secondment-list")


class SecondmentUpdateView(PeopleFormView):
    model = Secondment
    form_class = SecondmentUpdateForm
    title = _("Edit secondment")

    def get_object(self):
        return get_scoped_or_404(
            Secondment.objects.select_related("staff"), self.request.user, self.kwargs["pk"]
        )

    def get_initial(self):
        return {name: getattr(self.object, name) for name in ("kind", "start_date", "end_date", "notes")}

    def perform(self, form):
        return services.update_secondment(self.object, acting_user=self.request.user, **form.cleaned_data)
