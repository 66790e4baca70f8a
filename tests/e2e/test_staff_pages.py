"""A township administrator (issue 4, point 5): sees their own staff, opens a record, and gets
'not found' for another branch's staff record, in a Chinese browser."""

import pytest
from playwright.sync_api import expect

from members.models import StaffMember
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link


@pytest.mark.django_db(transaction=True)
def test_township_admin_sees_own_staff_and_not_another_branchs(live_server, page):
    from tests.world import build_world

    mine, _other, users = build_world()
    admin = users["institution_admin"]
    neighbour = StaffMember.objects.get(name="医生1")  # staff of the county's other branch

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, text="职工").click()

    expect(page.locator("h1")).to_have_text("职工")
    table = page.locator("table.list")
    expect(table).to_contain_text("全科1")
    expect(table).not_to_contain_text("医生1")
    expect(page.locator("p.count")).to_contain_text("1")

    table.get_by_role("link", name="全科1").click()
    expect(page.locator("h1")).to_have_text("全科1")
    expect(page.locator("dl.facts")).to_contain_text(mine.home.name)
    expect(page.get_by_role("heading", name="任职经历")).to_be_visible()
    expect(page.get_by_role("heading", name="变更记录")).to_be_visible()

    response = page.goto(f"{live_server.url}/people/staff/{neighbour.pk}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("页面未找到")
    expect(page.locator("main")).to_contain_text("不在您的角色可查看的范围内")
    expect(page.locator("main")).not_to_contain_text("医生1")
