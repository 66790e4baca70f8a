"""The bureau browses the alliance tree (issue 4 point 5): the village clinic that moved two
months ago stands under its new branch today and under its old one before the move; a township
branch's page opens from the tree."""

import datetime

import pytest
from playwright.sync_api import expect

from alliance import services
from alliance.querysets import today
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link
from tests.world import build_world


@pytest.mark.django_db(transaction=True)
def test_bureau_sees_the_moved_clinic_in_its_old_place_before_the_move(live_server, page):
    mine, _, users = build_world()
    village, (old_branch, new_branch) = mine.villages[0], mine.branches
    moved_on = today() - datetime.timedelta(days=60)
    services.move_institution(village, on=moved_on, parent=new_branch, acting_user=None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(users["bureau"].username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, text="医共体架构").click()

    expect(page.locator("h1")).to_have_text("医共体架构")
    moved = page.locator(f'li[data-code="{new_branch.code}"] li[data-code="{village.code}"]')
    expect(moved).to_have_class("node role-village changed")
    expect(moved.locator(".change-label")).to_have_text(f"调整 {moved_on:%Y-%m-%d} （原：{old_branch.name}）")
    expect(page.locator(f'li[data-code="{old_branch.code}"] li[data-code="{village.code}"]')).to_have_count(0)

    page.get_by_label("查看日期").fill(f"{moved_on - datetime.timedelta(days=1):%Y-%m-%d}")
    page.get_by_role("button", name="查看").click()

    expect(page.locator(".as-of")).to_contain_text(
        f"截至 {moved_on - datetime.timedelta(days=1):%Y-%m-%d} 的架构"
    )
    expect(page.locator(f'li[data-code="{old_branch.code}"] li[data-code="{village.code}"]')).to_have_count(1)
    expect(page.locator(f'li[data-code="{new_branch.code}"] li[data-code="{village.code}"]')).to_have_count(0)

    page.locator(f'li[data-code="{old_branch.code}"] > a').click()

    expect(page.locator("h1")).to_have_text(old_branch.name)
    expect(page.locator("dl.facts")).to_contain_text("义乌市医共体 · 分院（乡镇卫生院）")
    expect(page.get_by_role("heading", name="科室")).to_be_visible()
    expect(page.locator("table.list").first).to_contain_text("全科医疗科")
    expect(page.get_by_text("家庭医生团队1")).to_be_visible()
    expect(page.get_by_role("heading", name="成员身份历史")).to_be_visible()
