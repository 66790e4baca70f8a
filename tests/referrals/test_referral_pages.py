"""The referral pages (issue 7 points 1-3): inbox and outbox (scoped, filtered, counted by state,
prioritised residents first, exported, constant queries), the referral page with its timeline
and actions (plain POST and htmx, the stale-tab refusal), the printable slip, and the one
function that says which actions a user may take, checked against the services themselves."""

import datetime
from io import BytesIO
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import load_workbook

from alliance.models import Department
from core import home, notifications
from core.exceptions import Conflict
from core.models import Notification
from referrals import services
from referrals.choices import Direction, OutOfCountyReason, ReferralState, Urgency
from referrals.models import Referral, ReferralEvent, Slot
from tests.members.factories import MembershipFactory
from tests.referrals.factories import beds, department, member, patient, referral, slots

pytestmark = pytest.mark.django_db
S = ReferralState
HX = {"HTTP_HX_REQUEST": "true"}

# The queries a page makes beyond those every page makes for the same user (session, user,
# memberships and grants, the menu, the unread count in the header: measured on the home page).
# Lists: the department filter's choices, the counts by state (one GROUP BY, which also gives the
# paginator its count) and the page's rows; for the alliance office also the institution filter's
# choices. A chosen department is checked against the choices in memory: no query.
LIST_OWN = 3
LIST_OWN_ALLIANCE = 4
# The referral page of a submitted referral for its receiver: the referral, the refer-backs, the
# timeline, and the free slots and free beds of the accept form.
DETAIL_OWN = 5


def queries_of(client, url, params=None):
    """How many queries one GET of `url` makes (after a first one warmed the caches)."""
    client.get(url, params)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


def every_page(client):
    """The queries every page makes (session, user, menu, unread count): the home page without
    its panels (core.home), which have their own counts (tests/core/test_home.py)."""
    with mock.patch.dict(home._panels, clear=True):
        return queries_of(client, "/")


@pytest.fixture
def lead_admin(county):
    return member("institution_admin", county.lead, username="lead_admin_t")


@pytest.fixture
def neighbour(county):
    """A clinician of the county's other branch: neither end of the home branch's referrals."""
    return member("clinician", county.branches[1], username="neighbour_clinician")


def up(county, n=1, **fields):
    return referral(county.home, county.lead, n=n, **fields)


def signed_up(county, n, **fields):
    return up(county, n, patient=patient(n, name=f"签约{n}号", signed=True), **fields)


def listed(response):
    return [row.pk for row, _values in response.context["rows"]]


def html(response):
    return response.content.decode()


def tab_counts(response):
    return {label: count for label, count, _query, _current in response.context["tabs"]}


def accepted(made, receiver, **kwargs):
    return services.accept_referral(made, acting_user=receiver, **kwargs)


def completed(made, receiver):
    made = services.record_arrival(accepted(made, receiver), acting_user=receiver)
    return services.complete_referral(made, acting_user=receiver, summary="病情稳定")


# --- inbox and outbox -------------------------------------------------------------------------------
def test_inbox_lists_received_referrals_prioritised_first_and_marked(client, county, receiver):
    first, prioritised, last = up(county, 1), signed_up(county, 2), up(county, 3)
    client.force_login(receiver)

    response = client.get("/referrals/inbox/")

    assert response.status_code == 200
    assert listed(response) == [prioritised.pk, last.pk, first.pk]
    page = html(response)
    assert page.count('class="priority-mark"') == 1
    assert f'data-referral="{prioritised.pk}" class="state-submitted priority"' in page


def test_inbox_keeps_prioritised_first_under_another_sort(client, county, receiver):
    first, prioritised, last = up(county, 1), signed_up(county, 2), up(county, 3)
    client.force_login(receiver)

    response = client.get("/referrals/inbox/", {"sort": "created"})

    assert listed(response) == [prioritised.pk, first.pk, last.pk]


def test_outbox_lists_sent_referrals_newest_first(client, county, sender, receiver):
    first, second = up(county, 1), signed_up(county, 2)
    down = referral(county.lead, county.home, n=3)
    client.force_login(sender)

    outbox = client.get("/referrals/outbox/")
    inbox = client.get("/referrals/inbox/")

    assert listed(outbox) == [second.pk, first.pk]
    assert listed(inbox) == [down.pk]


def test_a_draft_is_in_the_senders_outbox_only(client, county, sender, receiver):
    draft = up(county, 1, submit=False, acting_user=sender)
    client.force_login(receiver)
    inbox = client.get("/referrals/inbox/")
    client.force_login(sender)
    outbox = client.get("/referrals/outbox/")

    assert listed(inbox) == []
    assert S.DRAFT.label not in tab_counts(inbox)
    assert listed(outbox) == [draft.pk]
    assert tab_counts(outbox)[S.DRAFT.label] == 1


def test_lists_show_masked_patients_only(client, county, lead_dept, receiver):
    made = up(county, 1, patient=patient(1, name="欧阳明月"), to_department=lead_dept)
    client.force_login(receiver)

    pages = [html(client.get(url)) for url in ("/referrals/inbox/", f"/referrals/{made.pk}/")]
    pages.append(html(client.get(f"/referrals/{made.pk}/slip/")))

    for page in pages:
        assert "欧阳**" in page
        assert "欧阳明月" not in page
        assert patient(1)["id_number"] not in page
    assert made.patient_id_masked in pages[1]


def test_list_shows_the_booked_slot(client, county, lead_dept, receiver):
    slot = slots(lead_dept, doctor="王主任")[0]
    up(county, 1, to_department=lead_dept, slot=slot)
    client.force_login(receiver)

    response = client.get("/referrals/inbox/")

    _row, values = response.context["rows"][0]
    booked = dict(zip([column.key for column in response.context["columns"]], values, strict=True))["booked"]
    assert slot.date.isoformat() in booked and "王主任" in booked and number_and_time(1, "08:00") in booked
    assert f"<td>{booked}</td>" in html(response)


def test_counts_by_state_in_one_group_by_and_the_state_tab(client, county, receiver):
    made = [up(county, n) for n in range(1, 5)]
    accepted(made[0], receiver)
    services.reject_referral(made[1], acting_user=receiver, reason="无床位")
    client.force_login(receiver)
    client.get("/referrals/inbox/")

    with CaptureQueriesContext(connection) as queries:
        everything = client.get("/referrals/inbox/")
    group_bys = [q["sql"] for q in queries if "GROUP BY" in q["sql"] and "referrals_referral" in q["sql"]]
    only_accepted = client.get("/referrals/inbox/", {"state": "accepted"})

    assert len(group_bys) == 1
    counts = tab_counts(everything)
    assert counts[S.SUBMITTED.label] == 2
    assert counts[S.ACCEPTED.label] == 1
    assert counts[S.REJECTED.label] == 1
    assert sum(count for label, count in counts.items() if label != gettext("All")) == 4
    assert listed(only_accepted) == [made[0].pk]
    assert tab_counts(only_accepted) == counts  # the tabs count over the other filters only
    assert only_accepted.context["paginator"].count == 1


def test_filters_direction_urgency_department_and_dates(client, county, receiver, lead_admin):
    medicine = department(county.lead, code="03", name="内科")
    surgery = department(county.lead, code="04.03", name="骨科")
    routine = up(county, 1, to_department=medicine)
    urgent = up(county, 2, to_department=surgery, urgency=Urgency.URGENT)
    old = up(county, 3, to_department=medicine)
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=10))
    down = referral(county.lead, county.home, n=4)
    client.force_login(lead_admin)
    today = timezone.localdate()

    def ids(box="inbox", **params):
        return sorted(listed(client.get(f"/referrals/{box}/", params)))

    assert ids(urgency="urgent") == [urgent.pk]
    assert ids(department=surgery.pk) == [urgent.pk]
    assert ids(department=medicine.pk) == sorted([routine.pk, old.pk])
    assert ids(created_from=today.isoformat()) == sorted([routine.pk, urgent.pk])
    assert ids(created_to=(today - datetime.timedelta(days=5)).isoformat()) == [old.pk]
    assert ids(direction="up") == sorted([routine.pk, urgent.pk, old.pk])
    assert ids(direction="down") == []
    assert ids("outbox", direction="down") == [down.pk]


def number_and_time(number, time):
    """How the pages show a slot's number and expected time (in the language of the test)."""
    return gettext("No. %(number)s, about %(time)s") % {"number": number, "time": time}


def department_options(response):
    """The department filter's choices as the page offers them: `{group or "": [(id, label)]}`."""
    options = {}
    for value, label in response.context["filter"].form.fields["department"].choices:
        if isinstance(label, list | tuple):
            options[value] = [(int(pk), text) for pk, text in label]
        elif value:
            options.setdefault("", []).append((int(value), label))
    return options


def test_inbox_offers_the_receivers_own_departments_only(client, county, lead_admin):
    medicine = department(county.lead, code="03", name="内科")
    surgery = department(county.lead, code="04.03", name="骨科")  # nothing referred to it yet
    theirs = department(county.collaborating, code="03", name="内科")
    home = Department.objects.get(institution=county.home, code="02")  # the world's
    mine = up(county, 1, to_department=medicine)
    elsewhere = referral(county.home, county.collaborating, n=2, to_department=theirs)
    client.force_login(lead_admin)

    page = client.get("/referrals/inbox/")
    chosen = client.get("/referrals/inbox/", {"department": medicine.pk})
    foreign = client.get("/referrals/inbox/", {"department": theirs.pk})

    assert department_options(page) == {"": [(medicine.pk, "内科 (03)"), (surgery.pk, "骨科 (04.03)")]}
    assert f'<option value="{medicine.pk}">内科 (03)</option>' in html(page)
    assert theirs.pk not in [pk for pk, _label in department_options(page)[""]]
    assert home.pk not in [pk for pk, _label in department_options(page)[""]]
    assert listed(chosen) == [mine.pk]
    assert f'<option value="{medicine.pk}" selected>' in html(chosen)
    # another institution's department is no choice: refused, nothing listed, nothing revealed
    assert "department" in foreign.context["filter"].errors
    assert listed(foreign) == [] and elsewhere.pk not in listed(foreign)
    assert listed(client.get("/referrals/inbox/", {"department": surgery.pk})) == []


def test_outbox_offers_the_departments_referred_to(client, county, sender):
    medicine = department(county.lead, code="03", name="内科")
    department(county.lead, code="04.03", name="骨科")  # nothing referred to it
    tcm = department(county.collaborating, code="50", name="中医科")
    neighbours = department(county.branches[1], code="03", name="内科")
    to_lead = up(county, 1, to_department=medicine, acting_user=sender)
    to_tcm = referral(county.home, county.collaborating, n=2, to_department=tcm, acting_user=sender)
    theirs = referral(county.branches[1], county.lead, n=3, to_department=medicine)
    referral(county.lead, county.branches[1], n=4, to_department=neighbours)  # not the home branch's
    client.force_login(sender)

    page = client.get("/referrals/outbox/")

    assert department_options(page) == {
        county.lead.name: [(medicine.pk, "内科 (03)")],
        county.collaborating.name: [(tcm.pk, "中医科 (50)")],
    }
    assert f'<optgroup label="{county.lead.name}">' in html(page)
    assert listed(client.get("/referrals/outbox/", {"department": tcm.pk})) == [to_tcm.pk]
    assert listed(client.get("/referrals/outbox/", {"department": medicine.pk})) == [to_lead.pk]
    assert theirs.pk not in listed(client.get("/referrals/outbox/", {"department": medicine.pk}))
    refused = client.get("/referrals/outbox/", {"department": neighbours.pk})
    assert "department" in refused.context["filter"].errors and listed(refused) == []


def test_alliance_office_gets_its_alliances_departments_by_institution(client, world):
    mine, other, users = world
    lead_medicine = department(mine.lead, code="03", name="内科")
    home_general = Department.objects.get(institution=mine.home, code="02")  # the world's
    foreign = department(other.lead, code="03", name="内科")
    referral(mine.home, mine.lead, n=1, to_department=lead_medicine)
    referral(other.home, other.lead, n=2, to_department=foreign)
    client.force_login(users["alliance_admin"])

    options = department_options(client.get("/referrals/inbox/"))

    offered = [pk for group in options.values() for pk, _label in group]
    assert (mine.lead.name, [(lead_medicine.pk, "内科 (03)")]) in options.items()
    assert (mine.home.name, [(home_general.pk, "全科医疗科 (02)")]) in options.items()
    assert foreign.pk not in offered


def test_a_clinician_of_another_branch_sees_nothing_and_gets_404(client, county, neighbour, lead_dept):
    made = up(county, 1, slot=slots(lead_dept)[0], to_department=lead_dept)
    client.force_login(neighbour)

    assert listed(client.get("/referrals/inbox/")) == []
    assert listed(client.get("/referrals/outbox/")) == []
    assert client.get(f"/referrals/{made.pk}/").status_code == 404
    assert client.get(f"/referrals/{made.pk}/slip/").status_code == 404
    response = client.post(f"/referrals/{made.pk}/accept/", {"seen_state": "submitted"})
    assert response.status_code == 404
    assert Referral.objects.get(pk=made.pk).state == S.SUBMITTED


def test_the_other_countys_alliance_office_gets_404(client, world):
    mine, other, _users = world
    made = referral(mine.home, mine.lead)
    office = member("clinician", other.lead)
    client.force_login(office)

    assert client.get(f"/referrals/{made.pk}/").status_code == 404


def test_alliance_office_picks_the_institution(client, world, lead_dept):
    mine, other, users = world
    to_lead = referral(mine.home, mine.lead, n=1)
    to_home = referral(mine.lead, mine.home, n=2)
    theirs = referral(other.home, other.lead, n=3)
    client.force_login(users["alliance_admin"])

    everything = client.get("/referrals/inbox/")
    lead_only = client.get("/referrals/inbox/", {"institution": mine.lead.pk})
    foreign = client.get("/referrals/inbox/", {"institution": other.lead.pk})

    assert sorted(listed(everything)) == sorted([to_lead.pk, to_home.pk])
    assert theirs.pk not in listed(everything)
    assert listed(lead_only) == [to_lead.pk]
    assert listed(foreign) == []
    assert "institution" in foreign.context["filter"].errors
    assert 'name="institution"' in html(everything)


def test_a_user_of_several_institutions_picks_among_them(client, county):
    both = member("clinician", county.lead, username="two_hats")
    MembershipFactory(user=both, role="clinician", institution=county.home)
    to_lead = up(county, 1)
    to_home = referral(county.lead, county.home, n=2)
    client.force_login(both)

    everything = client.get("/referrals/inbox/")
    home_only = client.get("/referrals/inbox/", {"institution": county.home.pk})

    assert sorted(listed(everything)) == sorted([to_lead.pk, to_home.pk])
    assert listed(home_only) == [to_home.pk]
    choices = list(everything.context["filter"].form.fields["institution"].queryset)
    assert sorted(choice.pk for choice in choices) == sorted([county.lead.pk, county.home.pk])


def test_a_clinician_of_one_institution_gets_no_institution_filter(client, county, receiver):
    up(county, 1)
    client.force_login(receiver)

    response = client.get("/referrals/inbox/")

    assert "institution" not in response.context["filter"].form.fields
    assert 'name="institution"' not in html(response)


def test_committee_may_not_open_the_lists_and_has_no_menu_entry(client, world):
    _mine, _other, users = world
    client.force_login(users["committee"])

    assert client.get("/referrals/inbox/").status_code == 403
    home = html(client.get("/"))
    assert "/referrals/inbox/" not in home and "/referrals/outbox/" not in home


def test_menu_entries_for_roles_that_read_referrals(client, world):
    _mine, _other, users = world
    for role in ("clinician", "institution_admin", "alliance_admin", "bureau"):
        client.force_login(users[role])
        page = html(client.get("/"))
        assert 'href="/referrals/inbox/"' in page and 'href="/referrals/outbox/"' in page, role


def test_export_has_the_rows_and_columns_of_the_list(client, county, lead_dept, receiver):
    slot = slots(lead_dept)[0]
    made = [signed_up(county, 1, to_department=lead_dept, slot=slot), up(county, 2)]
    client.force_login(receiver)

    response = client.get("/referrals/inbox/", {"export": "xlsx"})

    rows = [
        list(row)
        for row in load_workbook(BytesIO(response.content)).worksheets[0].iter_rows(values_only=True)
    ]
    labels = [str(column.label) for column in client.get("/referrals/inbox/").context["columns"]]
    assert rows[0] == labels
    assert [row[0] for row in rows[1:]] == [made[0].pk, made[1].pk]
    assert rows[1][labels.index(str(gettext("patient")))] == "签约**"
    assert rows[1][labels.index(str(gettext("Priority")))] == "是"
    assert slot.date.isoformat() in rows[1][-1]


def test_pagination_keeps_the_filters(client, county, receiver):
    for n in range(1, 56):
        up(county, n)
    client.force_login(receiver)

    second = client.get("/referrals/inbox/", {"state": "submitted", "page": 2})

    assert second.context["paginator"].count == 55
    assert len(listed(second)) == 5
    assert "state=submitted&amp;page=1" in html(second)


def test_unread_notifications_show_in_the_header_of_the_pages(client, county, receiver):
    made = up(county, 1)
    notifications.notify([receiver], title="新转诊", body="")
    client.force_login(receiver)

    for url in ("/referrals/inbox/", "/referrals/outbox/", f"/referrals/{made.pk}/"):
        response = client.get(url)
        assert response.context["unread_notifications"] == 1
        assert '<span class="badge"' in html(response)


def test_the_notification_links_to_the_referral_page(county, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = up(county, 1)

    assert Notification.objects.get(user=receiver).link == f"/referrals/{made.pk}/"


# --- query counts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("box", ["inbox", "outbox"])
def test_list_queries_do_not_grow_with_rows_pages_or_filters(
    client, county, lead_dept, receiver, sender, box
):
    pool = slots(lead_dept, count=60, reserved=60)
    for n in range(60):
        up(county, n + 1, to_department=lead_dept, slot=pool[n] if n % 2 else None)
    client.force_login(receiver if box == "inbox" else sender)
    baseline = every_page(client)
    queries = []
    for params in (
        {},
        {"page": 2},
        {"state": "submitted"},
        {"direction": "up", "urgency": "routine", "department": lead_dept.pk, "page": 2},
        {"created_from": "2020-01-01", "created_to": "2099-12-31", "sort": "-state"},
    ):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/referrals/{box}/", params)
        assert len(listed(response)) in (10, 50)
        queries.append(len(captured))

    assert queries == [baseline + LIST_OWN] * 5


def test_list_queries_of_the_alliance_office(client, world):
    mine, _other, users = world
    for n in range(30):
        referral(mine.home, mine.lead, n=n + 1)
    client.force_login(users["alliance_admin"])
    baseline = every_page(client)

    assert queries_of(client, "/referrals/inbox/") == baseline + LIST_OWN_ALLIANCE
    # + the chosen institution, checked against the scope
    assert (
        queries_of(client, "/referrals/inbox/", {"institution": mine.lead.pk})
        == baseline + LIST_OWN_ALLIANCE + 1
    )


def test_referral_page_queries_do_not_grow_with_the_timeline(client, county, lead_dept, receiver):
    slots(lead_dept)
    beds(lead_dept)
    made = up(county, 1, to_department=lead_dept)
    client.force_login(receiver)
    baseline = every_page(client)

    short = queries_of(client, f"/referrals/{made.pk}/")
    for minute in range(20):
        ReferralEvent.objects.create(
            referral=made,
            from_state=S.SUBMITTED,
            to_state=S.SUBMITTED,
            at=timezone.now(),
            note=f"电话随访{minute}",
        )
    long = queries_of(client, f"/referrals/{made.pk}/")

    assert short == long == baseline + DETAIL_OWN
    assert len(client.get(f"/referrals/{made.pk}/").context["events"]) == 22


# --- the referral page ----------------------------------------------------------------------------
def test_referral_page_shows_the_facts_and_timeline(client, county, lead_dept, sender, receiver):
    slot = slots(lead_dept, doctor="王主任")[2]
    made = signed_up(county, 1, to_department=lead_dept, slot=slot, acting_user=sender)
    accepted(made, receiver)
    client.force_login(receiver)

    response = client.get(f"/referrals/{made.pk}/")

    page = html(response)
    assert response.status_code == 200
    for text in (
        county.home.name, county.lead.name, lead_dept.name, made.patient_id_masked, "INS000001",
        "I10", "血压控制不佳", "王主任", slot.date.isoformat(), str(S.ACCEPTED.label), "签约**",
        number_and_time(3, "08:20"),
    ):  # fmt: skip
        assert text in page, text
    assert 'class="priority-mark"' in page
    events = [(e.from_state, e.to_state) for e in response.context["events"]]
    assert events == [("", S.DRAFT), (S.DRAFT, S.SUBMITTED), (S.SUBMITTED, S.ACCEPTED)]
    assert f"({sender.username})" in page and f"({receiver.username})" in page


def test_refer_back_links_both_ways(client, county, receiver):
    made = completed(up(county, 1), receiver)
    back = services.refer_back(made, acting_user=receiver, summary="出院，基层随访")
    client.force_login(receiver)

    original = html(client.get(f"/referrals/{made.pk}/"))
    returned = html(client.get(f"/referrals/{back.pk}/"))

    assert f'href="/referrals/{back.pk}/"' in original
    assert f'href="/referrals/{made.pk}/"' in returned


def test_accept_offers_each_sessions_lowest_free_number(client, county, lead_dept, receiver):
    first, second, _third = slots(lead_dept)
    up(county, 9, to_department=lead_dept, slot=first)
    made = up(county, 1, to_department=lead_dept)
    client.force_login(receiver)

    page = html(client.get(f"/referrals/{made.pk}/"))

    assert f'value="slot:{second.pk}"' in page and f'value="slot:{first.pk}"' not in page
    assert number_and_time(2, "08:10") in page


def test_accept_with_a_slot_by_plain_post_redirects(client, county, lead_dept, receiver):
    pool = slots(lead_dept)
    made = up(county, 1, to_department=lead_dept)
    client.force_login(receiver)
    page = client.get(f"/referrals/{made.pk}/")
    assert f'value="slot:{pool[0].pk}"' in html(page)

    response = client.post(
        f"/referrals/{made.pk}/accept/", {"seen_state": "submitted", "booking": f"slot:{pool[0].pk}"}
    )

    assert response.status_code == 302 and response["Location"] == f"/referrals/{made.pk}/"
    assert Referral.objects.get(pk=made.pk).state == S.ACCEPTED
    assert Slot.objects.get(pk=pool[0].pk).referral_id == made.pk
    followed = client.get(response["Location"])
    assert str(gettext("The referral was accepted.")) in html(followed)


def test_accept_with_a_bed_through_htmx_swaps_the_main_section(client, county, lead_dept, receiver):
    bed = beds(lead_dept)[0]
    made = up(county, 1, to_department=lead_dept)
    client.force_login(receiver)

    response = client.post(
        f"/referrals/{made.pk}/accept/", {"seen_state": "submitted", "booking": f"bed:{bed.pk}"}, **HX
    )

    page = html(response)
    assert response.status_code == 200
    assert page.startswith('<section id="referral-main"') and "<html" not in page
    assert 'data-state="accepted"' in page
    assert 'data-to-state="accepted"' in page
    assert bed.date.isoformat() in page
    assert Referral.objects.get(pk=made.pk).bed.pk == bed.pk


def test_reject_needs_a_reason(client, county, receiver):
    made = up(county, 1)
    client.force_login(receiver)

    plain = client.post(f"/referrals/{made.pk}/reject/", {"seen_state": "submitted", "reason": " "})
    htmx = client.post(f"/referrals/{made.pk}/reject/", {"seen_state": "submitted", "reason": ""}, **HX)

    assert plain.status_code == 400
    assert htmx.status_code == 200 and 'class="errors"' in html(htmx)
    assert Referral.objects.get(pk=made.pk).state == S.SUBMITTED
    assert made.events.count() == 2


def test_reject_with_a_reason_releases_the_slot(client, county, lead_dept, receiver):
    slot = slots(lead_dept)[0]
    made = up(county, 1, to_department=lead_dept, slot=slot)
    client.force_login(receiver)

    response = client.post(
        f"/referrals/{made.pk}/reject/", {"seen_state": "submitted", "reason": "床位已满"}, **HX
    )

    made.refresh_from_db()
    assert (made.state, made.closing_reason) == (S.REJECTED, "床位已满")
    assert Slot.objects.get(pk=slot.pk).referral_id is None
    assert "床位已满" in html(response)


def test_arrive_complete_and_refer_back_through_the_page(client, county, receiver):
    made = accepted(up(county, 1), receiver)
    client.force_login(receiver)

    client.post(f"/referrals/{made.pk}/arrive/", {"seen_state": "accepted"}, **HX)
    client.post(f"/referrals/{made.pk}/complete/", {"seen_state": "arrived", "summary": "好转出院"}, **HX)
    response = client.post(
        f"/referrals/{made.pk}/refer-back/",
        {
            "seen_state": "completed",
            "summary": "好转出院，回基层随访",
            "urgency": "routine",
            "to_department": "",
        },
        **HX,
    )

    made.refresh_from_db()
    assert (made.state, made.summary) == (S.COMPLETED, "好转出院")
    back = Referral.objects.get(return_of=made)
    assert (back.direction, back.state, back.from_institution, back.to_institution) == (
        Direction.DOWN, S.SUBMITTED, county.lead, county.home,
    )  # fmt: skip
    assert f'href="/referrals/{back.pk}/"' in html(response)


def test_sender_cancels_and_receiver_records_a_no_show(client, county, sender, receiver):
    to_cancel, to_miss = up(county, 1), accepted(up(county, 2), receiver)
    client.force_login(sender)
    client.post(f"/referrals/{to_cancel.pk}/cancel/", {"seen_state": "submitted", "reason": "患者要求"})
    client.force_login(receiver)
    client.post(f"/referrals/{to_miss.pk}/no-show/", {"seen_state": "accepted"})

    assert Referral.objects.get(pk=to_cancel.pk).state == S.CANCELLED
    assert Referral.objects.get(pk=to_miss.pk).state == S.NO_SHOW


def test_sender_submits_a_draft(client, county, sender):
    draft = up(county, 1, submit=False, acting_user=sender)
    client.force_login(sender)
    assert [a["verb"] for a in client.get(f"/referrals/{draft.pk}/").context["actions"]] == [
        "submit",
        "cancel",
    ]

    client.post(f"/referrals/{draft.pk}/submit/", {"seen_state": "draft"})

    assert Referral.objects.get(pk=draft.pk).state == S.SUBMITTED


def test_a_side_that_may_not_act_gets_403_and_nothing_changes(client, county, sender, receiver):
    made = up(county, 1)
    client.force_login(receiver)
    assert (
        client.post(f"/referrals/{made.pk}/cancel/", {"seen_state": "submitted", "reason": "x"}).status_code
        == 403
    )
    client.force_login(sender)
    assert client.post(f"/referrals/{made.pk}/accept/", {"seen_state": "submitted"}).status_code == 403

    assert Referral.objects.get(pk=made.pk).state == S.SUBMITTED
    assert made.events.count() == 2


def test_readers_without_write_see_no_actions(client, world):
    mine, _other, users = world
    made = referral(mine.home, mine.lead)
    client.force_login(users["alliance_admin"])

    response = client.get(f"/referrals/{made.pk}/")

    assert response.status_code == 200
    assert response.context["actions"] == []
    assert "hx-post" not in html(response)


def test_unknown_verbs_and_get_are_refused(client, county, receiver):
    made = up(county, 1)
    client.force_login(receiver)

    assert client.post(f"/referrals/{made.pk}/expire/", {"seen_state": "submitted"}).status_code == 404
    assert client.get(f"/referrals/{made.pk}/accept/").status_code == 405


# --- a tab that is out of date ---------------------------------------------------------------------
def stale_notice(made):
    made.refresh_from_db()
    return gettext(
        "This referral has already been handled by someone else; its current state is “%(state)s”."
    ) % {"state": made.get_state_display()}


def test_accept_in_a_stale_tab_is_refused_in_place(client, county, receiver):
    made = up(county, 1)
    colleague = member("clinician", county.lead, username="colleague")
    client.force_login(receiver)
    client.get(f"/referrals/{made.pk}/")  # the tab shows "submitted"
    services.reject_referral(made, acting_user=colleague, reason="无床位")  # another tab answers

    plain = client.post(f"/referrals/{made.pk}/accept/", {"seen_state": "submitted"})
    htmx = client.post(f"/referrals/{made.pk}/accept/", {"seen_state": "submitted"}, **HX)

    assert plain.status_code == 409
    assert htmx.status_code == 200
    notice = stale_notice(made)
    for response in (plain, htmx):
        assert response.context["notice"] == notice
        assert notice.replace("“", "&ldquo;") in html(response) or notice in html(response)
        assert 'data-state="rejected"' in html(response)
        assert response.context["actions"] == []
    assert made.state == S.REJECTED
    assert made.events.count() == 3


def test_a_move_still_legal_is_refused_when_the_tab_showed_another_state(client, county, sender, receiver):
    made = up(county, 1)
    accepted(made, receiver)  # while the sender's tab still shows "submitted"
    client.force_login(sender)

    response = client.post(f"/referrals/{made.pk}/cancel/", {"seen_state": "submitted", "reason": "x"}, **HX)

    assert response.context["notice"] == stale_notice(made)
    assert made.state == S.ACCEPTED


def test_the_services_conflict_is_shown_in_place_not_a_500(client, county, receiver):
    made = completed(up(county, 1), receiver)
    client.force_login(receiver)

    response = client.post(f"/referrals/{made.pk}/arrive/", {}, **HX)  # no seen_state: the service decides

    assert response.status_code == 200
    assert response.context["notice"] == stale_notice(made)


def test_a_slot_taken_meanwhile_is_shown_on_the_form(client, county, lead_dept, receiver):
    pool = slots(lead_dept, count=2, reserved=2)
    mine, theirs = up(county, 1, to_department=lead_dept), up(county, 2, to_department=lead_dept)
    client.force_login(receiver)
    client.get(f"/referrals/{mine.pk}/")
    accepted(theirs, receiver, slot=pool[0])  # another clerk books the slot first

    response = client.post(
        f"/referrals/{mine.pk}/accept/", {"seen_state": "submitted", "booking": f"slot:{pool[0].pk}"}, **HX
    )

    assert response.status_code == 200
    form = next(a["form"] for a in response.context["actions"] if a["verb"] == "accept")
    assert form.non_field_errors()
    assert Referral.objects.get(pk=mine.pk).state == S.SUBMITTED
    assert Slot.objects.get(pk=pool[0].pk).referral_id == theirs.pk


# --- the slip -------------------------------------------------------------------------------------
def test_slip_shows_the_referral_and_the_booked_slot(client, county, lead_dept, receiver):
    slot = slots(lead_dept, doctor="王主任")[1]  # the session's second number, 10 minutes on
    made = up(county, 1, to_department=lead_dept, slot=slot, urgency=Urgency.URGENT)
    client.force_login(receiver)

    response = client.get(f"/referrals/{made.pk}/slip/")

    page = html(response)
    for text in (
        county.alliance.name, gettext("Two-way referral slip"), response.context["serial"], "张*",
        made.patient_id_masked, county.home.name, county.lead.name, lead_dept.name, "I10", "血压控制不佳",
        str(Urgency.URGENT.label), slot.date.strftime("%Y-%m-%d"), str(slot.get_period_display()), "王主任",
        f'<strong class="slip-number">{number_and_time(2, "08:10")}</strong>',
        gettext("Referral within the alliance: the deductible is counted continuously"),
        gettext("Referring doctor (signature)"), gettext("Receiving doctor (signature)"),
        "window.print()", '<style media="print">',
    ):  # fmt: skip
        assert text in page, text


def test_slip_of_a_referral_out_of_the_county_says_the_deductible_is_not_continuous(client, world):
    mine, other, users = world
    made = referral(mine.home, other.lead, reason_code=OutOfCountyReason.BEYOND_CAPABILITY)
    client.force_login(users["clinician"])

    page = html(client.get(f"/referrals/{made.pk}/slip/"))

    assert gettext("Not a referral within the alliance: the deductible is not counted continuously") in page
    assert str(OutOfCountyReason.BEYOND_CAPABILITY.label) in page


def test_pages_speak_chinese(client, county, lead_dept, receiver, zh_hans):
    made = signed_up(county, 1, to_department=lead_dept, slot=slots(lead_dept)[0])
    client.force_login(receiver)

    slip = html(client.get(f"/referrals/{made.pk}/slip/"))
    inbox = html(client.get("/referrals/inbox/"))

    assert zh_hans("Two-way referral slip") == "双向转诊单" and "双向转诊单" in slip
    assert "医共体内转诊，起付线连续计算" in slip
    assert zh_hans("Prioritised") == "优先" and ">优先</span>" in inbox
    assert zh_hans("Referrals received") in inbox
    assert zh_hans(
        "This referral has already been handled by someone else; its current state is “%(state)s”."
    ).startswith("此转诊已被他人处理，当前状态为")


# --- the allowed actions agree with the services -------------------------------------------------
CALLS = {
    "submit": lambda r, u: services.submit_referral(r, acting_user=u),
    "accept": lambda r, u: services.accept_referral(r, acting_user=u),
    "reject": lambda r, u: services.reject_referral(r, acting_user=u, reason="无床位"),
    "arrive": lambda r, u: services.record_arrival(r, acting_user=u),
    "complete": lambda r, u: services.complete_referral(r, acting_user=u, summary="好转"),
    "no_show": lambda r, u: services.record_no_show(r, acting_user=u),
    "refer_back": lambda r, u: services.refer_back(r, acting_user=u, summary="出院"),
    "cancel": lambda r, u: services.cancel_referral(r, acting_user=u, reason="患者要求"),
}


def service_accepts(verb, pk, user):
    """Whether the service lets `user` do `verb` now (undone afterwards)."""
    try:
        with transaction.atomic():
            CALLS[verb](Referral.objects.for_detail().get(pk=pk), user)
            transaction.set_rollback(True)
    except (PermissionDenied, Conflict):
        return False
    return True


def in_state(county, state, receiver, sender):
    """A referral from the home branch up to the lead hospital (down for `completed_down`)."""
    if state == "completed_down":
        return completed(referral(county.lead, county.home, acting_user=receiver), sender)
    made = up(county, 1, submit=state != S.DRAFT, acting_user=sender)
    steps = {
        S.ACCEPTED: [accepted],
        S.ARRIVED: [accepted, lambda r, u: services.record_arrival(r, acting_user=u)],
        S.COMPLETED: [completed],
        S.REJECTED: [lambda r, u: services.reject_referral(r, acting_user=u, reason="x")],
        S.NO_SHOW: [accepted, lambda r, u: services.record_no_show(r, acting_user=u)],
    }.get(state, [])
    for step in steps:
        made = step(made, receiver)
    if state == S.CANCELLED:
        made = services.cancel_referral(made, acting_user=sender, reason="x")
    if state == S.EXPIRED:
        services.expire_referrals(made.answer_due_at)
    return made


@pytest.mark.parametrize("state", [*S.values, "completed_down"])
def test_allowed_actions_agree_with_the_services(
    world, county, lead_admin, neighbour, receiver, sender, state
):
    _mine, other, users = world
    made = in_state(county, state, receiver, sender)
    people = {
        "sending clinician": sender,
        "sending admin": users["institution_admin"],
        "sending HIS": users["api_client"],
        "receiving clinician": receiver,
        "receiving admin": lead_admin,
        "alliance office": users["alliance_admin"],
        "bureau": users["bureau"],
        "committee": users["committee"],
        "other branch": neighbour,
        "other county": member("clinician", other.lead),
    }
    offered = {}
    for who, user in people.items():
        fresh = Referral.objects.for_detail().get(pk=made.pk)
        offered[who] = services.allowed_actions(fresh, user)
        for verb in CALLS:
            assert (verb in offered[who]) == service_accepts(verb, made.pk, user), (who, verb)
    # and the page offers exactly those
    assert any(offered.values()) == (
        state not in (S.REJECTED, S.CANCELLED, S.EXPIRED, S.NO_SHOW, "completed_down")
    )


def test_allowed_actions_per_side_in_the_main_states(county, receiver, sender):
    made = up(county, 1)

    assert services.allowed_actions(made, sender) == ["cancel"]
    assert services.allowed_actions(made, receiver) == ["accept", "reject"]
    made = completed(made, receiver)
    assert services.allowed_actions(made, receiver) == ["refer_back"]
    assert services.allowed_actions(made, sender) == []
    assert services.allowed_actions(made, None) == []
