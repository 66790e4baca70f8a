"""Governance pages (issue 4 point 2): committee members, meetings and charter versions with
filters, export, forms for the bureau, change history, and meetings per year against the rule."""

import datetime

import pytest
from django.urls import reverse

from alliance import services
from alliance.choices import MeetingKind
from alliance.models import CommitteeMember, GovernanceDocument, Meeting
from alliance.querysets import today
from tests.core.factories import UserFactory
from tests.members.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def meeting(alliance, held_on, kind=MeetingKind.GOVERNMENT, title="县政府常务会议研究医共体建设"):
    return services.record_meeting(
        alliance=alliance, kind=kind, held_on=held_on, title=title, acting_user=None
    )


def member(alliance, name="李县长", position="chair"):
    return services.add_committee_member(
        alliance=alliance,
        name=name,
        position=position,
        organisation="县人民政府 县长",
        valid_from=datetime.date(2024, 1, 1),
        acting_user=None,
    )


def page(client, user, name, *args, **params):
    client.force_login(user)
    return client.get(reverse(f"alliance:{name}", args=args), params)


# --- Lists ------------------------------------------------------------------------------------------
def test_meeting_list_shows_the_alliances_meetings_only(client, world):
    mine, other, users = world
    meeting(mine.alliance, datetime.date(2025, 3, 1), title="我县会议")
    meeting(other.alliance, datetime.date(2025, 3, 2), title="邻县会议")

    html = page(client, users["committee"], "meeting-list").content.decode()

    assert "共 1 条记录" in html
    assert "我县会议" in html and "邻县会议" not in html
    assert "县政府常务会议" in html


def test_meeting_list_filters_by_kind_and_year_and_sorts(client, world):
    mine, _, users = world
    meeting(mine.alliance, datetime.date(2024, 5, 1), title="甲")
    meeting(mine.alliance, datetime.date(2025, 5, 1), title="乙")
    meeting(mine.alliance, datetime.date(2025, 6, 1), kind=MeetingKind.BOARD, title="丙")

    html = page(client, users["bureau"], "meeting-list", kind="government", year=2025).content.decode()
    sorted_html = page(client, users["bureau"], "meeting-list", sort="held_on").content.decode()

    assert "共 1 条记录" in html and ">乙<" in html
    assert sorted_html.index(">甲<") < sorted_html.index(">乙<") < sorted_html.index(">丙<")


def test_committee_list_filters_serving_members_and_exports(client, world):
    mine, _, users = world
    member(mine.alliance, name="李县长")
    former = member(mine.alliance, name="王副县长", position="vice_chair")
    services.update_committee_member(former, valid_to=datetime.date(2025, 1, 1), acting_user=None)

    html = page(client, users["bureau"], "committee-list", serving="true").content.decode()
    export = page(client, users["bureau"], "committee-list", export="xlsx")

    assert "共 1 条记录" in html and "李县长" in html and "王副县长" not in html
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_clinician_sees_no_governance_records(client, world):
    mine, _, users = world
    meeting(mine.alliance, datetime.date(2025, 3, 1))

    html = page(client, users["clinician"], "meeting-list").content.decode()

    assert "共 0 条记录" in html


def test_governance_lists_answer_in_a_constant_number_of_queries(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mine, _, users = world
    meeting(mine.alliance, datetime.date(2025, 3, 1))
    client.force_login(users["bureau"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("alliance:meeting-list"))
    for day in range(2, 12):
        meeting(mine.alliance, datetime.date(2025, 3, day))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("alliance:meeting-list"))

    assert len(many) == len(few)


# --- Records and forms ------------------------------------------------------------------------------
def test_bureau_records_a_meeting_and_sees_it_with_its_history(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])

    response = client.post(
        reverse("alliance:meeting-create"),
        {"alliance": mine.alliance.pk, "kind": "government", "held_on": "2025-04-10", "title": "第一次常务会议",
         "attendees": "县长、副县长", "decisions": "同意医共体章程"},
    )  # fmt: skip

    created = Meeting.objects.get(title="第一次常务会议")
    assert response["Location"] == reverse("alliance:meeting-detail", args=[created.pk])
    html = client.get(response["Location"]).content.decode()
    assert "同意医共体章程" in html
    history = html.split("变更记录")[1]
    assert f"<td>{users['bureau'].username}</td>" in history
    assert "第一次常务会议" in history


def test_bureau_edits_a_meeting_and_the_history_shows_the_change(client, world):
    mine, _, users = world
    record = meeting(mine.alliance, datetime.date(2025, 3, 1), title="旧标题")
    client.force_login(users["bureau"])
    url = reverse("alliance:meeting-update", args=[record.pk])

    assert 'value="旧标题"' in client.get(url).content.decode()
    client.post(url, {"kind": "government", "held_on": "2025-03-01", "title": "新标题"})

    record.refresh_from_db()
    html = client.get(record.get_absolute_url()).content.decode()
    assert record.title == "新标题"
    assert "旧标题 → 新标题" in html


def test_committee_member_dates_out_of_order_show_the_chinese_message(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])

    response = client.post(
        reverse("alliance:committee-create"),
        {"alliance": mine.alliance.pk, "name": "赵委员", "position": "member", "organisation": "县财政局",
         "valid_from": "2025-05-01", "valid_to": "2025-01-01"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "结束日期必须晚于开始日期。" in response.content.decode()
    assert not CommitteeMember.objects.filter(name="赵委员").exists()


def test_publishing_a_document_makes_the_next_version(client, world):
    mine, _, users = world
    services.publish_document(
        alliance=mine.alliance,
        kind="charter",
        title="章程",
        effective_on=datetime.date(2024, 1, 1),
        acting_user=None,
    )
    client.force_login(users["bureau"])

    response = client.post(
        reverse("alliance:document-create"),
        {
            "alliance": mine.alliance.pk,
            "kind": "charter",
            "title": "章程（修订）",
            "effective_on": "2025-07-01",
        },
    )

    latest = GovernanceDocument.objects.get(title="章程（修订）")
    assert latest.version == 2
    assert response["Location"] == reverse("alliance:document-detail", args=[latest.pk])


@pytest.mark.parametrize(
    ("role", "on_edit"), [("committee", 403), ("alliance_admin", 403), ("clinician", 404)]
)
def test_roles_that_do_not_write_governance_get_403(client, world, role, on_edit):
    mine, _, users = world
    record = meeting(mine.alliance, datetime.date(2025, 3, 1))
    client.force_login(users[role])

    assert client.get(reverse("alliance:meeting-create")).status_code == 403
    assert client.get(reverse("alliance:committee-create")).status_code == 403
    assert client.get(reverse("alliance:document-create")).status_code == 403
    assert client.get(reverse("alliance:meeting-update", args=[record.pk])).status_code == on_edit


def test_a_record_of_another_alliance_is_404(client, world):
    _, other, users = world
    record = meeting(other.alliance, datetime.date(2025, 3, 1))

    assert page(client, users["bureau"], "meeting-detail", record.pk).status_code == 404
    assert page(client, users["bureau"], "meeting-update", record.pk).status_code == 404


def test_bureau_cannot_record_in_an_alliance_it_only_reads(client, world):
    mine, other, users = world
    user = UserFactory()
    MembershipFactory(user=user, role="bureau", alliance=mine.alliance)
    MembershipFactory(user=user, role="committee", alliance=other.alliance)
    client.force_login(user)

    response = client.post(
        reverse("alliance:meeting-create"),
        {"alliance": other.alliance.pk, "kind": "board", "held_on": "2025-04-10", "title": "越权会议"},
    )

    assert response.status_code == 200
    assert "你无权在该医共体中登记此项。" in response.content.decode()
    assert not Meeting.objects.filter(title="越权会议").exists()


def test_edit_button_shows_only_for_the_bureau(client, world):
    mine, _, users = world
    record = meeting(mine.alliance, datetime.date(2025, 3, 1))
    edit = reverse("alliance:meeting-update", args=[record.pk])

    assert edit in page(client, users["bureau"], "meeting-detail", record.pk).content.decode()
    assert edit not in page(client, users["committee"], "meeting-detail", record.pk).content.decode()


# --- The rule ---------------------------------------------------------------------------------------
def test_meetings_per_year_against_the_rule_warn_when_not_met(client, world):
    mine, _, users = world
    year = today().year
    services.update_alliance(mine.alliance, charter_date=datetime.date(year - 2, 6, 1), acting_user=None)
    meeting(mine.alliance, datetime.date(year - 1, 3, 1))
    meeting(mine.alliance, datetime.date(year - 1, 9, 1))
    meeting(mine.alliance, datetime.date(year, 3, 1))
    meeting(mine.alliance, datetime.date(year, 4, 1), kind=MeetingKind.BOARD)

    html = page(client, users["committee"], "meeting-rule").content.decode()

    assert "县政府常务会议每年至少 2 次专题研究医共体建设。" in html
    assert f'<tr class="warning"><td>{year}</td><td>1</td><td>未达标（仅 1 次）</td></tr>' in html
    assert f'<tr class="met"><td>{year - 1}</td><td>2</td><td>达标</td></tr>' in html
    assert f'<tr class="warning"><td>{year - 2}</td><td>0</td><td>未达标（仅 0 次）</td></tr>' in html


def test_the_rule_page_reads_the_counts_in_one_group_by(client, world, django_assert_num_queries):
    mine, _, users = world
    for month in range(1, 13):
        meeting(mine.alliance, datetime.date(2024, month, 1))
    client.force_login(users["bureau"])

    # session, user, memberships, guardian grants (both modes at once, for the menu), the GROUP
    # BY, alliances, the unread count in the header (issue 6.5)
    with django_assert_num_queries(7):
        client.get(reverse("alliance:meeting-rule"))
