"""The admin of indicator definitions (issue 14 point 3): adding goes through create_definition,
an edit saves the next version through revise_definition and leaves the shown row unchanged."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import override

from assessment.models import IndicatorDefinition
from tests.assessment.factories import definition

pytestmark = pytest.mark.django_db

D = datetime.date


def url(view, *args):
    return reverse(f"admin:assessment_indicatordefinition_{view}", args=args)


def form_data(row, **changes):
    data = {
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "definition": row.definition,
        "data_source": row.data_source,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "unit": row.unit,
        "decimals": row.decimals,
        "target": "" if row.target is None else row.target,
        "target_comparison": row.target_comparison,
        "target_tolerance": "" if row.target_tolerance is None else row.target_tolerance,
        "direction": row.direction,
        "effective_from": row.effective_from.isoformat(),
        "effective_to": "",
    }
    data |= {name: "on" for name in ("for_alliance", "for_township", "for_institution") if getattr(row, name)}
    return data | changes


def test_the_list_and_the_pages_render(admin_client):
    row = IndicatorDefinition.objects.get(code="county_inpatient_share")

    listing = admin_client.get(url("changelist") + "?current=yes&q=县域内住院")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert admin_client.get(url("add")).status_code == 200
    assert admin_client.get(url("change", row.pk)).status_code == 200


def test_an_edit_in_the_admin_saves_a_new_version(admin_client, admin_user):
    first = definition(target=Decimal(60), target_comparison="gte")

    response = admin_client.post(
        url("change", first.pk), form_data(first, target="65", effective_from="2025-01-01")
    )

    assert response.status_code == 302
    versions = IndicatorDefinition.objects.filter(code="test_share").order_by("version")
    assert [(row.version, row.target, row.effective_from, row.effective_to) for row in versions] == [
        (1, Decimal(60), D(2024, 1, 1), D(2025, 1, 1)),
        (2, Decimal(65), D(2025, 1, 1), None),
    ]
    assert versions[1].created_by == admin_user


def test_an_unknown_measure_in_the_admin_is_shown_on_its_field_and_nothing_is_written(admin_client):
    first = definition()

    with override("en"):
        response = admin_client.post(
            url("change", first.pk),
            form_data(first, numerator="#{visits.nowhere}"),
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["numerator"] == ["Unknown measure: visits.nowhere."]
    assert IndicatorDefinition.objects.filter(code="test_share").count() == 1


def test_adding_in_the_admin_creates_version_one(admin_client, admin_user):
    template = IndicatorDefinition.objects.get(code="tcm_visit_share")

    response = admin_client.post(
        url("add"), form_data(template, code="tcm_share_primary", numerator="#{visits.in_county.tcm} × 1")
    )

    assert response.status_code == 302
    row = IndicatorDefinition.objects.get(code="tcm_share_primary")
    assert (row.version, row.created_by, row.numerator) == (1, admin_user, "#{visits.in_county.tcm} × 1")
