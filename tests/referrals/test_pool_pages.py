"""The pool pages (issue 7 point 5) through the test client: who reaches them, the weekly template
editor (add, edit, remove a line), publishing a week with the service's refusals on the form,
and the overview of a week with its shares against the targets; constant query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import services
from referrals.choices import PoolKind, SlotPeriod
from referrals.models import PoolPublication, PoolTemplateEntry, Slot
from tests.referrals.factories import department, member, referral
from tests.referrals.test_pools import DAY, lead_template, line, monday_ahead
from tests.world import user_with_role

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def lead_admin(county):
    return member("institution_admin", county.lead, username="lead_admin")


def url(institution, *parts):
    """`url(lead, "lines", 3, "edit")` → /referrals/pools/<lead>/lines/3/edit/"""
    return f"/referrals/pools/{institution.pk}/" + "".join(f"{part}/" for part in parts)


def nav_urls(response):
    return [link for _label, link in response.context["navigation"]]


def queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


# --- Who reaches the pages ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "shown"),
    [("institution_admin", True), ("alliance_admin", True), ("clinician", False), ("bureau", False),
     ("committee", False), ("api_client", False)],
)  # fmt: skip
def test_the_navigation_entry_is_for_the_pools_writers(client, users, role, shown):
    client.force_login(users[role])

    response = client.get("/")

    assert ("/referrals/pools/" in nav_urls(response)) is shown


def test_the_alliance_office_picks_among_its_hospitals_and_branches(client, county, users):
    client.force_login(users["alliance_admin"])
    line(county.lead, department(county.lead))
    client.get("/referrals/pools/")
    assert queries(client, "/referrals/pools/") == 6  # the institutions with their figures: one

    response = client.get("/referrals/pools/")

    placements = response.context["placements"]
    assert [p.institution for p in placements] == [county.lead, county.collaborating, *county.branches]
    assert (placements[0].lines, placements[1].lines) == (1, None)
    assert f"/referrals/pools/{county.lead.pk}/" in response.content.decode()


def test_an_institution_admin_goes_straight_to_its_template(client, county, users):
    client.force_login(users["institution_admin"])

    response = client.get("/referrals/pools/")

    assert response.status_code == 302 and response["Location"] == url(county.home)


@pytest.mark.parametrize(
    ("who", "status"),
    [("lead_admin", 200), ("alliance_admin", 200), ("lead_clinician", 403), ("home_admin", 403), ("bureau", 403),
     ("other_admin", 404)],
)  # fmt: skip
def test_an_institutions_pool_pages_are_for_its_pools_writers(client, world, county, users, who, status):
    user = {
        "lead_admin": lambda: member("institution_admin", county.lead),
        "alliance_admin": lambda: users["alliance_admin"],
        "lead_clinician": lambda: member("clinician", county.lead),
        "home_admin": lambda: users["institution_admin"],  # sees the lead hospital, may not write its pools
        "bureau": lambda: users["bureau"],
        "other_admin": lambda: user_with_role("institution_admin", world[1], username="other_admin"),
    }[who]()
    entry = line(county.lead, department(county.lead))
    client.force_login(user)

    for page in (
        "",
        "publish/",
        "overview/",
        "lines/new/",
        f"lines/{entry.pk}/edit/",
        f"lines/{entry.pk}/remove/",
    ):
        assert client.get(url(county.lead) + page).status_code == status, page
    removed = client.post(url(county.lead, "lines", entry.pk, "remove"))
    assert removed.status_code == (302 if status == 200 else status)
    assert PoolTemplateEntry.objects.filter(pk=entry.pk).exists() is (status != 200)


def test_a_line_of_another_institution_is_not_found_under_this_one(client, county, users):
    entry = line(county.collaborating, department(county.collaborating))
    client.force_login(users["alliance_admin"])

    assert client.get(url(county.lead, "lines", entry.pk, "edit")).status_code == 404


# --- The template editor ------------------------------------------------------------------------------------
def test_the_template_page_shows_the_week_and_each_days_beds_against_the_target(client, county, lead_admin):
    dept = department(county.lead)
    lead_template(county.lead, dept)
    services.update_template_entry(
        PoolTemplateEntry.objects.get(kind="bed", weekday=6), count=10, acting_user=None
    )
    client.force_login(lead_admin)

    response = client.get(url(county.lead), **EN)

    days = response.context["days"]
    assert [len(day["entries"]) for day in days] == [2, 1, 2, 1, 1, 1, 1]
    assert [(day["beds"], day["beds_short"]) for day in days] == [(12, False)] * 6 + [(10, True)]
    assert response.context["lead"] and response.context["bed_target"] == 12
    html = response.content.decode()
    assert html.count("under-target") == 1 and "Under target" in html


def test_the_template_page_costs_the_same_queries_with_more_lines(client, county, lead_admin):
    dept = department(county.lead)
    line(county.lead, dept)
    client.force_login(lead_admin)
    client.get(url(county.lead))
    few = queries(client, url(county.lead))

    lead_template(county.lead, department(county.lead, code="04", name="外科"))
    for weekday in range(1, 7):
        line(county.lead, dept, weekday=weekday, period=SlotPeriod.PM)

    assert queries(client, url(county.lead)) == few == 12  # with the header's menu and unread count


def test_adding_a_line(client, county, lead_admin):
    dept = department(county.lead)
    client.force_login(lead_admin)
    body = {"weekday": 2, "kind": "slot", "department": dept.pk, "period": "pm", "doctor": "李医生", "count": 9,
            "reserved_for_primary": 3}  # fmt: skip

    response = client.post(url(county.lead, "lines", "new"), body)

    assert response.status_code == 302 and response["Location"] == url(county.lead)
    entry = PoolTemplateEntry.objects.get()
    assert (
        entry.institution,
        entry.weekday,
        entry.period,
        entry.doctor,
        entry.count,
        entry.reserved_for_primary,
    ) == (county.lead, 2, "pm", "李医生", 9, 3)


def test_a_bed_line_ignores_the_slot_fields(client, county, lead_admin):
    dept = department(county.lead)
    client.force_login(lead_admin)
    body = {"weekday": 6, "kind": "bed", "department": dept.pk, "period": "am", "doctor": "x", "count": 12,
            "reserved_for_primary": 5}  # fmt: skip

    assert client.post(url(county.lead, "lines", "new"), body).status_code == 302
    assert PoolTemplateEntry.objects.values_list(
        "kind", "period", "doctor", "reserved_for_primary", "count"
    ).get() == ("bed", "", "", 0, 12)


def test_a_refused_line_comes_back_on_the_form(client, county, lead_admin):
    dept = department(county.lead)
    client.force_login(lead_admin)
    body = {"weekday": 0, "kind": "slot", "department": dept.pk, "period": "am", "count": 10,
            "reserved_for_primary": 3}  # fmt: skip

    response = client.post(url(county.lead, "lines", "new"), body, **EN)
    line(county.lead, dept)
    duplicate = client.post(url(county.lead, "lines", "new"), {**body, "count": 9}, **EN)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "reserved_for_primary": ["The lead hospital reserves at least 1/3 of its slots for referrals."]
    }
    assert duplicate.context["form"].non_field_errors() == [
        "The template already has this line: change its count instead."
    ]
    assert PoolTemplateEntry.objects.count() == 1


def test_a_refused_line_shows_the_chinese_message(client, county, lead_admin, zh_hans):
    client.force_login(lead_admin)
    body = {"weekday": 0, "kind": "slot", "department": department(county.lead).pk, "period": "am", "count": 10,
            "reserved_for_primary": 3}  # fmt: skip

    response = client.post(url(county.lead, "lines", "new"), body)

    assert (
        zh_hans("The lead hospital reserves at least 1/3 of its slots for referrals.")
        in response.content.decode()
    )


def test_editing_and_removing_a_line(client, county, lead_admin):
    dept = department(county.lead)
    entry = line(county.lead, dept, weekday=1)
    client.force_login(lead_admin)

    form = client.get(url(county.lead, "lines", entry.pk, "edit")).context["form"]
    assert form.initial == {"weekday": 1, "kind": "slot", "department": dept.pk, "period": "am", "doctor": "",
                            "count": 9, "reserved_for_primary": 3, "interval_minutes": 10}  # fmt: skip
    edited = client.post(
        url(county.lead, "lines", entry.pk, "edit"),
        {**form.initial, "count": 12, "reserved_for_primary": 4, "interval_minutes": 15},
    )
    entry.refresh_from_db()
    assert edited.status_code == 302
    assert (entry.count, entry.reserved_for_primary, entry.interval_minutes) == (12, 4, 15)

    assert client.get(url(county.lead, "lines", entry.pk, "remove")).status_code == 200
    removed = client.post(url(county.lead, "lines", entry.pk, "remove"))
    assert removed.status_code == 302 and not PoolTemplateEntry.objects.exists()


# --- Publishing a week --------------------------------------------------------------------------------------
def test_publishing_a_week_leads_to_its_overview(client, county, lead_admin):
    lead_template(county.lead, department(county.lead))
    client.force_login(lead_admin)
    monday = monday_ahead()

    response = client.post(url(county.lead, "publish"), {"week_start": monday.isoformat()}, follow=True, **EN)

    assert response.redirect_chain == [(url(county.lead, "overview") + f"?week={monday.isoformat()}", 302)]
    publication = PoolPublication.objects.get()
    assert (publication.week_start, publication.slots, publication.beds, publication.published_by) == (
        monday,
        15,
        84,
        lead_admin,
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"Published 15 slots and 84 beds for the week of {monday.isoformat()}."
    ]
    assert response.context["monday"] == monday


def test_the_services_refusals_come_back_on_the_publish_form(client, county, lead_admin):
    dept = department(county.lead)
    lead_template(county.lead, dept)
    PoolTemplateEntry.objects.filter(kind=PoolKind.BED, weekday=3).delete()
    client.force_login(lead_admin)
    monday = monday_ahead()

    short = client.post(url(county.lead, "publish"), {"week_start": monday.isoformat()}, **EN)
    tuesday = client.post(url(county.lead, "publish"), {"week_start": (monday + DAY).isoformat()}, **EN)

    assert short.status_code == 200
    assert short.context["form"].non_field_errors() == [
        "Thursday: 0 beds reserved for referrals; the lead hospital reserves at least a quarter of its 45 "
        "open beds every day (12), 12 more."
    ]
    assert tuesday.context["form"].errors == {"week_start": ["A week starts on a Monday."]}
    assert not PoolPublication.objects.exists() and not Slot.objects.exists()

    line(county.lead, dept, weekday=3, kind=PoolKind.BED, count=12)
    assert client.post(url(county.lead, "publish"), {"week_start": monday.isoformat()}).status_code == 302
    again = client.post(url(county.lead, "publish"), {"week_start": monday.isoformat()}, **EN)
    assert again.context["form"].non_field_errors() == [
        f"The week of {monday.isoformat()} has already been published from the template."
    ]
    assert PoolPublication.objects.count() == 1


def test_the_publish_page_lists_the_weeks_to_come(client, county, lead_admin):
    lead_template(county.lead, department(county.lead))
    services.publish_week(county.lead, week_start=monday_ahead(2), acting_user=None)
    client.force_login(lead_admin)

    weeks = dict(client.get(url(county.lead, "publish")).context["weeks"])

    assert monday_ahead(1) in weeks and weeks[monday_ahead(1)] is None
    assert weeks[monday_ahead(2)] is not None and weeks[monday_ahead(3)] is None
    assert all(monday.weekday() == 0 for monday in weeks)


# --- The overview ---------------------------------------------------------------------------------------------
def test_the_overview_shows_the_week_per_day_and_department_and_the_shares(client, county, lead_admin):
    dept = department(county.lead)
    lead_template(county.lead, dept, beds_a_day=11)  # a bed short every day: refused from the template …
    monday = monday_ahead()
    for n in range(7):  # … so published day by day
        services.publish_beds(
            institution=county.lead, department=dept, date=monday + n * DAY, count=11, acting_user=None
        )
    slots = services.publish_slots(
        institution=county.lead, department=dept, date=monday, period=SlotPeriod.AM, count=9,
        reserved_for_primary=3, acting_user=None,
    )  # fmt: skip
    referral(county.home, county.lead, n=1, slot=slots[0])
    client.force_login(lead_admin)

    response = client.get(url(county.lead, "overview") + f"?week={(monday + 3 * DAY).isoformat()}", **EN)

    context = response.context
    assert context["monday"] == monday
    assert [
        (row["date"], row["published"], row["reserved"], row["booked"], row["free"])
        for row in context["slot_rows"]
    ] == [(monday, 9, 3, 1, 8)]
    assert [(row["date"], row["reserved"], row["booked"]) for row in context["bed_rows"]] == [
        (monday + n * DAY, 11, 0) for n in range(7)
    ]
    shares = context["shares"]
    assert (shares["slots"]["reserved"], shares["slots"]["published"], shares["slots"]["under"]) == (
        3,
        9,
        False,
    )
    assert shares["slots"]["percent"] == pytest.approx(100 / 3)
    assert (shares["beds"]["bed_days"], shares["beds"]["average"], shares["beds"]["under"]) == (77, 11, True)
    assert shares["beds"]["percent"] == pytest.approx(11 / 45 * 100)
    html = response.content.decode()
    assert (
        'id="share-beds" class="under-target"' in html and 'id="share-slots" class="under-target"' not in html
    )
    assert "24.4%" in html and "33.3%" in html


def test_the_overview_costs_the_same_queries_with_more_pools(client, county, lead_admin):
    dept = department(county.lead)
    client.force_login(lead_admin)
    path = url(county.lead, "overview") + f"?week={monday_ahead().isoformat()}"
    client.get(path)
    few = queries(client, path)

    lead_template(county.lead, dept)
    lead_template(county.lead, department(county.lead, code="04", name="外科"))
    services.publish_week(county.lead, week_start=monday_ahead(), acting_user=None)

    assert queries(client, path) == few == 13
    assert len(client.get(path).context["slot_rows"]) == 4


def test_the_overview_opens_on_this_week_and_survives_a_bad_date(client, county, lead_admin):
    from django.utils import timezone

    client.force_login(lead_admin)
    today = timezone.localdate()

    response = client.get(url(county.lead, "overview") + "?week=not-a-date")

    assert response.status_code == 200
    assert response.context["monday"] == today - datetime.timedelta(days=today.weekday())
    assert response.context["form"].errors


# --- Admin and audit ----------------------------------------------------------------------------------------
def test_the_admin_writes_template_lines_through_the_services(client, county, superuser):
    dept = department(county.lead)
    client.force_login(superuser)
    add = "/admin/referrals/pooltemplateentry/add/"
    body = {"institution": county.lead.pk, "weekday": 0, "kind": "slot", "department": dept.pk, "period": "am",
            "doctor": "", "count": 10, "reserved_for_primary": 3, "interval_minutes": 10}  # fmt: skip

    refused = client.post(add, body, **EN)
    created = client.post(add, {**body, "reserved_for_primary": 4})

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["reserved_for_primary"] == [
        "The lead hospital reserves at least 1/3 of its slots for referrals."
    ]
    assert created.status_code == 302
    entry = PoolTemplateEntry.objects.get()
    assert (entry.count, entry.reserved_for_primary) == (10, 4)
    deleted = client.post(f"/admin/referrals/pooltemplateentry/{entry.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302 and not PoolTemplateEntry.objects.exists()


def test_template_lines_and_publications_are_audited(county, lead_admin):
    from auditlog.models import LogEntry

    dept = department(county.lead)
    lead_template(county.lead, dept)
    entry = PoolTemplateEntry.objects.filter(kind=PoolKind.SLOT).first()
    services.update_template_entry(entry, count=12, reserved_for_primary=4, acting_user=lead_admin)
    publication = services.publish_week(county.lead, week_start=monday_ahead(), acting_user=lead_admin)

    changes = LogEntry.objects.get_for_object(entry).order_by("pk")
    assert [log.action for log in changes] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert changes.last().changes_dict["count"] == ["9", "12"]
    assert LogEntry.objects.get_for_object(publication).count() == 1
