"""The list infrastructure (core.listing): columns read dotted paths None-safely, `?sort=` takes
only the keys of sortable columns, and the export reads the same columns as the table."""

from types import SimpleNamespace

import pytest

from core.listing import attr
from members.views.staff import StaffListView

pytestmark = pytest.mark.django_db


def test_attr_reads_a_dotted_path_and_stops_at_none():
    row = SimpleNamespace(institution=SimpleNamespace(name="县人民医院"), department=None)

    assert attr("institution.name")(row) == "县人民医院"
    assert attr("department.name")(row) is None


def test_attr_calls_get_display_methods():
    row = SimpleNamespace(get_kind_display=lambda: "长期派驻")

    assert attr("get_kind_display")(row) == "长期派驻"


def test_ordering_for_sortable_keys_and_fallback():
    view = StaffListView()

    assert view.ordering_for("-name") == ["-name", "pk"]
    assert view.ordering_for("institution") == ["institution__name", "pk"]
    assert view.ordering_for("nonsense") == ["institution", "name", "pk"]


def test_unknown_sort_key_falls_back_to_the_default_order(client, world):
    _mine, _other, users = world
    client.force_login(users["alliance_admin"])

    response = client.get("/people/staff/", {"sort": "password"})

    assert response.status_code == 200
    assert response.context["paginator"].count == 3


def test_export_headers_are_the_column_labels(client, world):
    from tests.members.pages import sheet_rows

    _mine, _other, users = world
    client.force_login(users["alliance_admin"])

    header, *_rows = sheet_rows(client.get("/people/staff/", {"export": "xlsx"}))

    assert header == [str(column.label) for column in StaffListView.columns]


def test_quick_select_renders_the_same_options_as_django():
    from django import forms

    from core.listing import quick_select

    choices = [("", "---------"), ("1", "县人民医院 & 分院"), ("2", "乡镇卫生院")]
    plain = forms.Select(choices=choices).render("institution", "2", {"id": "id_institution"})
    quick = quick_select(forms.Select(choices=choices)).render("institution", "2", {"id": "id_institution"})

    assert quick == (
        '<select name="institution" id="id_institution"><option value="">---------</option>'
        '<option value="1">县人民医院 &amp; 分院</option><option value="2" selected>乡镇卫生院</option></select>'
    )
    assert quick.replace("\n", "") == plain.replace("\n", "").replace("  ", "")


def test_filter_selects_of_a_list_page_are_quick(client, world):
    _mine, _other, users = world
    client.force_login(users["alliance_admin"])

    form = client.get("/people/staff/").context["filter"].form

    assert type(form.fields["institution"].widget).__name__ == "QuickSelect"
    assert type(form.fields["active"].widget).__name__ == "QuickNullBooleanSelect"
