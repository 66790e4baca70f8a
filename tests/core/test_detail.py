"""One detail page and one scoped 404 (issue 12 point 5): `core.detail.ScopedDetailView` fetches
its row through the access door (a row outside the user's reach is a 404, an anonymous visitor
goes to the login page) and shows the row's history; `get_scoped_or_404` is the same door for
the edit forms, which then answer 403 when the user may read the row but not change it."""

import datetime

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from alliance import services as alliance_services
from alliance.choices import MeetingKind
from alliance.models import Institution, Meeting
from core import access
from core.detail import ScopedDetailView, get_scoped_or_404
from tests.referrals.factories import referral

pytestmark = pytest.mark.django_db


def meeting(alliance, title="县政府常务会议研究医共体建设", acting_user=None):
    return alliance_services.record_meeting(
        alliance=alliance,
        kind=MeetingKind.GOVERNMENT,
        held_on=datetime.date(2025, 3, 1),
        title=title,
        acting_user=acting_user,
    )


class MeetingPage(ScopedDetailView):
    model = Meeting
    template_name = "alliance/governance_detail.html"


def answer(view, user, pk):
    request = RequestFactory().get(f"/meetings/{pk}/")
    request.user = user
    return view.as_view()(request, pk=pk)


# --- ScopedDetailView ----------------------------------------------------------------------------
def test_the_detail_view_shows_a_row_in_scope_with_its_history(world):
    mine, _, users = world
    with set_actor(users["bureau"]):  # what the audit middleware does for a page
        record = meeting(mine.alliance, acting_user=users["bureau"])

    response = answer(MeetingPage, users["committee"], record.pk)

    assert response.status_code == 200
    assert response.context_data["object"] == record
    assert [(entry.action, entry.actor) for entry in response.context_data["history"]] == [
        (LogEntry.Action.CREATE, users["bureau"])
    ]


def test_the_detail_view_answers_404_for_a_row_outside_the_users_scope(world):
    _, other, users = world
    hidden = meeting(other.alliance)

    with pytest.raises(Http404):
        answer(MeetingPage, users["committee"], hidden.pk)


def test_the_detail_view_sends_an_anonymous_visitor_to_the_login_page(world):
    mine, _, _ = world
    record = meeting(mine.alliance)

    response = answer(MeetingPage, AnonymousUser(), record.pk)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/meetings/{record.pk}/"


def test_the_detail_view_restricts_for_its_action(world):
    mine, _, users = world
    record = meeting(mine.alliance)

    class WritablePage(MeetingPage):
        action = access.WRITE

    assert answer(WritablePage, users["bureau"], record.pk).status_code == 200
    with pytest.raises(Http404):  # the committee reads governance records, only the bureau writes
        answer(WritablePage, users["committee"], record.pk)


def test_a_page_may_name_its_own_history(world):
    mine, _, users = world
    record = meeting(mine.alliance)

    class TimelinePage(MeetingPage):
        history_context_name = "timeline"

        def get_history(self):
            return ["the minutes were filed"]

    context = answer(TimelinePage, users["bureau"], record.pk).context_data

    assert context["timeline"] == ["the minutes were filed"]
    assert "history" not in context


# --- The four detail pages built on it ------------------------------------------------------------
def _pages(world):
    """(url name, own row, the other county's row, the context name of its history)."""
    mine, other, _ = world
    return [
        ("members:staff-detail", mine.rows["staff"], other.rows["staff"], "history"),
        ("alliance:meeting-detail", meeting(mine.alliance), meeting(other.alliance), "history"),
        ("alliance:institution-detail", mine.home, other.home, "history"),
        ("referrals:detail", referral(mine.home, mine.lead), referral(other.home, other.lead, n=2), "events"),
    ]


def test_every_detail_page_shows_its_row_with_history_and_hides_the_other_county(client, world):
    _, _, users = world
    client.force_login(users["bureau"])

    for name, own, hidden, history in _pages(world):
        shown = client.get(reverse(name, args=[own.pk]))
        assert shown.status_code == 200, name
        assert len(shown.context[history]) >= 1, name
        assert client.get(reverse(name, args=[hidden.pk])).status_code == 404, name


def test_every_detail_page_sends_anonymous_visitors_to_the_login_page(client, world):
    for name, own, _, _ in _pages(world):
        url = reverse(name, args=[own.pk])
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={url}"), name


# --- get_scoped_or_404 ---------------------------------------------------------------------------
def test_get_scoped_or_404_returns_a_row_in_scope(world):
    mine, _, users = world
    record = meeting(mine.alliance)

    assert get_scoped_or_404(Meeting, users["committee"], record.pk) == record
    assert get_scoped_or_404(Meeting.objects.select_related("alliance"), users["bureau"], record.pk) == record


@pytest.mark.parametrize(
    "role, action", [("committee", access.WRITE), ("anonymous", access.READ), ("clinician", access.READ)]
)
def test_get_scoped_or_404_raises_404_outside_the_scope_of_the_action(world, role, action):
    mine, _, users = world
    record = meeting(mine.alliance)
    user = AnonymousUser() if role == "anonymous" else users[role]

    with pytest.raises(Http404):
        get_scoped_or_404(Meeting, user, record.pk, action=action)


def test_get_scoped_or_404_raises_404_for_the_other_countys_row(world):
    _, other, users = world

    with pytest.raises(Http404):
        get_scoped_or_404(Institution.objects.all(), users["bureau"], other.home.pk)


# --- The edit forms that use it ------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, row, reader",
    [
        ("members:staff-update", "staff", "bureau"),
        ("alliance:institution-update", "institutions", "committee"),
    ],
)
def test_edit_forms_answer_404_outside_the_scope_and_403_when_read_only(client, world, name, row, reader):
    mine, other, users = world

    client.force_login(users["alliance_admin"])
    assert client.get(reverse(name, args=[other.rows[row].pk])).status_code == 404
    assert client.get(reverse(name, args=[mine.rows[row].pk])).status_code == 200
    client.force_login(users[reader])  # reads the row, may not change it
    assert client.get(reverse(name, args=[mine.rows[row].pk])).status_code == 403


def test_the_governance_edit_form_answers_404_outside_the_scope_and_403_when_read_only(client, world):
    mine, other, users = world
    own, hidden = meeting(mine.alliance), meeting(other.alliance)

    client.force_login(users["bureau"])
    assert client.get(reverse("alliance:meeting-update", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("alliance:meeting-update", args=[own.pk])).status_code == 200
    client.force_login(users["committee"])
    assert client.get(reverse("alliance:meeting-update", args=[own.pk])).status_code == 403
