"""The drug catalogue in a Chinese browser (issue 16 points 3–5): a clinician finds 阿莫西林 by
typing its pinyin initials and opens its prices; the alliance office opens the village tier's
formulary, finds drugs with the same search, adds them and sees the essential-drug share and the
history. No page logs a console error."""

import pytest
from playwright.sync_api import expect

from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link
from tests.pharmacy.factories import CHINESE, WESTERN, drug


def _log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_search_a_drug_and_keep_a_formulary(live_server, page):
    from tests.world import build_world

    mine, _other, users = build_world()
    drug(mine.alliance)
    drug(mine.alliance, CHINESE, generic_name="连花清瘟胶囊", trade_name="", standard_code="", is_essential=False,
         essential_edition="")  # fmt: skip
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1366, "height": 768})

    _log_in(page, live_server, users["clinician"])
    menu_link(page, "/pharmacy/drugs/").click()
    page.locator("input[name=search]").fill("amxl")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("table.drugs tbody tr")).to_have_count(1)
    page.locator(f'tr[data-code="{WESTERN}"] a').click()
    expect(page.locator("h1")).to_contain_text("阿莫西林胶囊")
    expect(page.locator("table.prices")).to_contain_text("2026-01-01")

    _log_in(page, live_server, users["alliance_admin"])
    menu_link(page, "/pharmacy/formularies/").click()
    page.get_by_role("link", name="打开用药目录").click()
    page.locator("select[name=alliance]").select_option(str(mine.alliance.pk))
    page.locator("select[name=tier]").select_option("village")
    page.get_by_role("button", name="打开").click()
    expect(page.locator("h1")).to_contain_text("村卫生室")
    for text in ("amoxilin", "lhqw"):
        page.locator("input[name=search]").fill(text)
        page.get_by_role("button", name="搜索").click()
        page.locator("table.found input[name=add]").first.check()
        page.get_by_role("button", name="保存用药目录").click()
    expect(page.locator("table.held tbody tr")).to_have_count(2)
    expect(page.locator(".essential-share")).to_have_text("50.0%")
    expect(page.locator("table.changes tbody tr")).to_have_count(2)
    assert errors == []
