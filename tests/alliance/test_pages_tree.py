"""The alliance tree as of a date and the institution pages (issue 4 point 1)."""

import datetime
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliance import services
from alliance.choices import InstitutionLevel, PlacementRole
from alliance.models import Institution, Placement
from alliance.querysets import today
from members import services as member_services
from tests.alliance.factories import FOUNDED, InstitutionFactory, credit_code, place
from tests.core.factories import UserFactory
from tests.members.factories import MembershipFactory, staff

pytestmark = pytest.mark.django_db

# session, user, memberships, alliances, guardian grants (read and write at once), nodes, changes,
# the unread count in the header (issue 6.5)
TREE_QUERIES = 8


class TreeNodes(HTMLParser):
    """{code: (parent code or None, classes, text of the node's own line)} of the tree's nodes."""

    def __init__(self, html):
        super().__init__()
        self.nodes, self.stack, self.current = {}, [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li" and "data-code" in attrs:
            code = attrs["data-code"]
            parent = next((c for c in reversed(self.stack) if c), None)
            self.nodes[code] = [parent, attrs["class"].split(), ""]
            self.current = code
        if tag == "li":
            self.stack.append(attrs.get("data-code"))
        if tag == "ul":
            self.current = None

    def handle_endtag(self, tag):
        if tag == "li":
            self.stack.pop()
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.nodes[self.current][2] += data

    def text(self, code):
        return " ".join(self.nodes[code][2].split())


def get_tree(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("alliance:tree"), params)
    assert response.status_code == 200
    return response, TreeNodes(response.content.decode())


def move_village(village, to_branch, on):
    return services.move_institution(village, on=on, parent=to_branch, acting_user=None)


# --- The tree ---------------------------------------------------------------------------------------
def test_tree_requires_login(client):
    response = client.get(reverse("alliance:tree"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_tree_nests_branches_and_villages_with_beds_and_staff_in_chinese(client, world):
    mine, _, users = world
    branch, village = mine.branches[0], mine.villages[0]
    staff(village, name="村医甲")

    response, tree = get_tree(client, users["bureau"])

    html = response.content.decode()
    assert "县（区）330782" in html and "义乌市医共体" in html
    assert "成员单位 6 家 · 职工 4 人 · 床位 300/270（核定/开放）" in html
    assert tree.nodes[village.code][0] == branch.code
    assert tree.nodes[branch.code][0] is None
    assert tree.nodes[mine.lead.code][0] is None
    assert tree.text(mine.lead.code) == "县人民医院 牵头医院 职工 1 人 · 床位 50/45"
    assert tree.text(branch.code) == (
        f"{branch.name} 分院（乡镇卫生院） 职工 1 人 · 床位 50/45 · 村卫生室 1 个 · 合计职工 2 人，床位 100/90"
    )
    assert tree.text(village.code) == f"{village.name} 村卫生室 职工 1 人 · 床位 50/45"


def test_tree_shows_the_moved_village_under_its_branch_of_each_date(client, world):
    mine, _, users = world
    village, (old_branch, new_branch) = mine.villages[0], mine.branches
    moved_on = today() - datetime.timedelta(days=60)
    move_village(village, new_branch, moved_on)

    _, now = get_tree(client, users["bureau"])
    _, before = get_tree(client, users["bureau"], as_of=(moved_on - datetime.timedelta(days=1)).isoformat())

    assert now.nodes[village.code][0] == new_branch.code
    assert "changed" in now.nodes[village.code][1]
    assert f"调整 {moved_on:%Y-%m-%d} （原：{old_branch.name}）" in now.text(village.code)
    assert before.nodes[village.code][0] == old_branch.code
    assert "changed" not in before.nodes[village.code][1]


def test_tree_highlights_only_changes_of_the_year_before_the_date(client, world):
    mine, _, users = world
    newcomer = InstitutionFactory(name="新建卫生院")
    joined_on = today() - datetime.timedelta(days=30)
    place(newcomer, mine.alliance, PlacementRole.BRANCH, valid_from=joined_on)

    _, now = get_tree(client, users["bureau"])
    _, year_later = get_tree(
        client, users["bureau"], as_of=(joined_on + datetime.timedelta(days=365)).isoformat()
    )

    assert now.text(newcomer.code).endswith(f"新加入 {joined_on:%Y-%m-%d}")
    assert [code for code, node in now.nodes.items() if "changed" in node[1]] == [newcomer.code]
    assert "changed" not in year_later.nodes[newcomer.code][1]


def test_tree_lists_institutions_that_left_in_the_year_before(client, world):
    mine, _, users = world
    village = mine.villages[1]
    left_on = today() - datetime.timedelta(days=10)
    services.leave_alliance(village, on=left_on, acting_user=None)

    response, tree = get_tree(client, users["bureau"])

    html = response.content.decode()
    assert village.code not in tree.nodes
    assert "此前一年内退出的单位" in html
    branch = mine.branches[1].name
    assert (
        f'{village.name}</a> <span class="role">村卫生室 · {branch}</span> <span class="change-label">退出 {left_on:%Y-%m-%d}</span>'
        in html
    )


def test_tree_counts_staff_where_they_were_posted_on_the_date(client, world):
    mine, _, users = world
    nurse = staff(mine.branches[1], name="护士乙")
    moved_on = today() - datetime.timedelta(days=5)
    member_services.post_staff(nurse, institution=mine.lead, on=moved_on, acting_user=None)
    member_services.update_staff(mine.rows["lead_staff"], active=False, acting_user=None)

    _, now = get_tree(client, users["bureau"])
    _, before = get_tree(client, users["bureau"], as_of=(moved_on - datetime.timedelta(days=1)).isoformat())

    assert "职工 1 人" in now.text(mine.lead.code)  # the nurse; the inactive expert no longer counts
    assert "职工 1 人" in now.text(mine.branches[1].code)
    assert "职工 0 人" in before.text(mine.lead.code)
    assert "职工 2 人" in before.text(mine.branches[1].code)


def test_tree_before_the_alliance_existed_is_empty(client, world):
    _, _, users = world

    response, tree = get_tree(client, users["bureau"], as_of="2019-01-01")

    assert tree.nodes == {}
    assert "该日期没有成员单位。" in response.content.decode()


def test_tree_with_a_bad_date_says_so_and_shows_today(client, world):
    mine, _, users = world

    response, tree = get_tree(client, users["bureau"], as_of="2024-13-45")

    assert "输入一个有效的日期。" in response.content.decode()
    assert mine.lead.code in tree.nodes


def test_tree_shows_only_the_users_alliances(client, world):
    mine, other, users = world

    _, tree = get_tree(client, users["clinician"], alliance=other.alliance.pk)

    assert mine.lead.code in tree.nodes
    assert other.lead.code not in tree.nodes and other.home.code not in tree.nodes


def test_tree_offers_a_selector_when_the_user_sees_several_alliances(client, world):
    mine, other, _ = world
    user = UserFactory()
    MembershipFactory(user=user, role="bureau", alliance=mine.alliance)
    MembershipFactory(user=user, role="bureau", alliance=other.alliance)

    response, tree = get_tree(client, user, alliance=other.alliance.pk)

    html = response.content.decode()
    assert f'<option value="{other.alliance.pk}" selected>东阳市医共体</option>' in html
    assert other.home.code in tree.nodes and mine.home.code not in tree.nodes


def test_tree_for_htmx_is_the_tree_alone(client, world):
    _, _, users = world
    client.force_login(users["bureau"])

    response = client.get(reverse("alliance:tree"), {"as_of": "2024-06-01"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="tree"')
    assert "<html" not in html
    assert "截至 2024-06-01 的架构" in html


def test_tree_answers_in_a_constant_number_of_queries(client, world, django_assert_num_queries):
    mine, _, users = world
    client.force_login(users["bureau"])
    with django_assert_num_queries(TREE_QUERIES):
        client.get(reverse("alliance:tree"))

    more = [InstitutionFactory() for _ in range(5)]
    for n, branch in enumerate(more):
        place(branch, mine.alliance, PlacementRole.BRANCH)
        village = InstitutionFactory()
        place(village, mine.alliance, PlacementRole.VILLAGE, parent=branch)
        staff(village, name=f"村医{n}")
        move_village(village, mine.branches[0], today() - datetime.timedelta(days=n + 1))

    with django_assert_num_queries(TREE_QUERIES):
        response = client.get(reverse("alliance:tree"))
    assert len(TreeNodes(response.content.decode()).nodes) == 16


# --- Institution page -------------------------------------------------------------------------------
def detail(client, user, institution):
    client.force_login(user)
    return client.get(reverse("alliance:institution-detail", args=[institution.pk]))


def test_institution_page_shows_facts_people_and_history(client, world):
    mine, _, users = world
    home = mine.home

    response = detail(client, users["bureau"], home)

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{home.name}</h1>" in html
    assert f"<dd>{home.code}</dd>" in html
    assert "<dd>50/45</dd>" in html
    assert "义乌市医共体 · 分院（乡镇卫生院） (自 2019-10-01 起)" in html
    assert f'<dd>1 · <a href="/people/staff/?institution={home.pk}">职工名单</a></dd>' in html
    assert "<td>02</td><td>全科医疗科</td><td>是</td>" in html
    assert "<td>家庭医生团队1</td><td>—</td><td>是</td>" in html
    assert "<td>专家1</td><td>县人民医院</td><td>长期派驻</td><td>2025-01-01</td><td>—</td>" in html
    assert "<td>义乌市医共体</td><td>分院（乡镇卫生院）</td><td>—</td><td>2019-10-01</td><td>—</td>" in html
    assert "变更记录" in html
    assert reverse("alliance:institution-update", args=[home.pk]) in html


def test_institution_page_is_404_outside_the_scope(client, world):
    _, other, users = world

    assert detail(client, users["bureau"], other.home).status_code == 404


def test_institution_page_hides_people_rows_and_buttons_from_the_committee(client, world):
    mine, _, users = world

    html = detail(client, users["committee"], mine.home).content.decode()

    assert "暂无可显示的团队。" in html
    assert "专家1" not in html
    assert "职工名单" not in html
    assert reverse("alliance:institution-update", args=[mine.home.pk]) not in html


def test_institution_page_lists_a_lead_hospitals_secondments_out(client, world):
    mine, _, users = world

    html = detail(client, users["bureau"], mine.lead).content.decode()

    assert f"<td>专家1</td><td>{mine.home.name}</td><td>长期派驻</td>" in html


# --- Institution forms ------------------------------------------------------------------------------
def test_bureau_edits_an_institution_and_the_change_is_in_its_history(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])
    url = reverse("alliance:institution-update", args=[mine.home.pk])
    data = {
        "code": mine.home.code,
        "name": "稠城卫生院",
        "level": InstitutionLevel.PRIMARY,
        "credit_code": "",
        "region_code": "330782",
        "licensed_beds": 60,
        "open_beds": 55,
    }

    response = client.post(url, data)

    assert response.status_code == 302
    assert response["Location"] == reverse("alliance:institution-detail", args=[mine.home.pk])
    mine.home.refresh_from_db()
    assert (mine.home.name, mine.home.licensed_beds) == ("稠城卫生院", 60)
    assert "稠城卫生院" in client.get(response["Location"]).content.decode().split("变更记录")[1]


def test_edit_shows_the_services_chinese_message_and_writes_nothing(client, world):
    mine, _, users = world
    client.force_login(users["alliance_admin"])
    url = reverse("alliance:institution-update", args=[mine.home.pk])

    response = client.post(
        url,
        {"code": mine.home.code, "name": "X", "level": "primary", "credit_code": "123",
         "region_code": "330782", "licensed_beds": 1, "open_beds": 1},
    )  # fmt: skip

    assert response.status_code == 200
    assert "统一社会信用代码应为 18 位。" in response.content.decode()
    mine.home.refresh_from_db()
    assert mine.home.name != "X"


@pytest.mark.parametrize("role", ["committee", "clinician", "institution_admin", "finance"])
def test_roles_that_only_read_get_403_on_institution_forms(client, world, role):
    mine, _, users = world
    client.force_login(users[role])

    for name, args in [("institution-update", [mine.home.pk]), ("institution-move", [mine.home.pk]),
                       ("institution-create", [])]:  # fmt: skip
        assert client.get(reverse(f"alliance:{name}", args=args)).status_code == 403


def test_forms_of_an_institution_outside_the_scope_are_404(client, world):
    _, other, users = world
    client.force_login(users["bureau"])

    assert client.get(reverse("alliance:institution-update", args=[other.home.pk])).status_code == 404


def test_bureau_moves_a_village_clinic_to_another_branch(client, world):
    mine, _, users = world
    village, new_branch = mine.villages[0], mine.branches[1]
    client.force_login(users["bureau"])
    on = today() - datetime.timedelta(days=3)

    response = client.post(
        reverse("alliance:institution-move", args=[village.pk]),
        {"action": "move", "on": on.isoformat(), "parent": new_branch.pk},
    )

    assert response.status_code == 302
    periods = list(
        Placement.objects.filter(institution=village).values_list("parent", "valid_from", "valid_to")
    )
    assert periods == [(mine.branches[0].pk, FOUNDED, on), (new_branch.pk, on, None)]


def test_a_branch_with_villages_cannot_leave_and_the_form_says_why(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])

    response = client.post(
        reverse("alliance:institution-move", args=[mine.home.pk]),
        {"action": "leave", "on": today().isoformat()},
    )

    assert response.status_code == 200
    assert "仍有 1 个村卫生室隶属于该分院，请先调整它们。" in response.content.decode()
    assert Placement.objects.filter(institution=mine.home, valid_to__isnull=True).count() == 1


def test_bureau_registers_a_village_clinic_under_a_branch(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])

    response = client.post(
        reverse("alliance:institution-create"),
        {"code": "V9001", "name": "新村卫生室", "level": "primary", "credit_code": credit_code(77),
         "region_code": "330782", "licensed_beds": 0, "open_beds": 0, "alliance": mine.alliance.pk,
         "role": "village", "parent": mine.home.pk, "valid_from": today().isoformat()},
    )  # fmt: skip

    created = Institution.objects.get(code="V9001")
    assert response["Location"] == reverse("alliance:institution-detail", args=[created.pk])
    assert Placement.objects.get(institution=created).parent == mine.home


def test_registering_a_village_without_branch_gives_the_services_message(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])

    response = client.post(
        reverse("alliance:institution-create"),
        {"code": "V9002", "name": "无主村卫生室", "level": "primary", "credit_code": "",
         "region_code": "330782", "licensed_beds": 0, "open_beds": 0, "alliance": mine.alliance.pk,
         "role": "village", "valid_from": today().isoformat()},
    )  # fmt: skip

    assert response.status_code == 200
    assert "村卫生室必须隶属于一个乡镇分院。" in response.content.decode()
    assert not Institution.objects.filter(code="V9002").exists()


# --- Institution list -------------------------------------------------------------------------------
def test_institution_list_shows_the_place_on_the_date_and_exports(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])
    url = reverse("alliance:institution-list")

    html = client.get(url, {"role": "village", "sort": "code"}).content.decode()
    export = client.get(url, {"role": "village", "export": "xlsx"})

    assert "共 2 条记录" in html
    assert f"<td>{mine.villages[0].name}</td>" in html
    assert f"<td>{mine.branches[0].name}</td>" in html
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_institution_list_queries_do_not_grow_with_rows(client, world):
    mine, _, users = world
    client.force_login(users["bureau"])
    url = reverse("alliance:institution-list")

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(6):
        place(InstitutionFactory(), mine.alliance, PlacementRole.BRANCH)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


# --- Navigation -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "tree", "governance"),
    [("bureau", True, True), ("committee", True, True), ("clinician", True, False), ("finance", True, False)],
)
def test_navigation_shows_the_tree_and_governance_to_the_roles_that_read_them(
    client, world, role, tree, governance
):
    _, _, users = world
    client.force_login(users[role])

    html = client.get("/").content.decode()

    assert ('href="/alliance/tree/"' in html) is tree
    assert ('href="/alliance/governance/meetings/"' in html) is governance


def test_navigation_hides_the_tree_from_a_user_without_role(client, user):
    client.force_login(user)

    assert 'href="/alliance/tree/"' not in client.get("/").content.decode()
