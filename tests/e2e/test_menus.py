"""Each role's header at 1366 × 768 (issue 15 point 5): the menus grouped by task stay on one
line (the header is one line high), a group opens its drop-down and leads to its page, one menu
is open at a time, and no page logs a console error."""

import pytest
from playwright.sync_api import expect

from tests.core.factories import PASSWORD, UserFactory
from tests.world import build_world

ONE_LINE = 64  # px: the header's padding and one line of text; a wrapped menu is twice that


def _log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_every_roles_menu_fits_one_line_at_1366_and_opens_by_group(live_server, page):
    _mine, _other, users = build_world()
    users["admin"] = UserFactory(username="site_admin", is_staff=True, is_superuser=True)
    errors = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} {message.location['url']}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1366, "height": 768})
    nav = page.get_by_role("navigation", name="主导航")

    for role, user in users.items():
        _log_in(page, live_server, user)
        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= ONE_LINE, (role, header)
        groups = nav.locator("details.nav-group")
        tops = {
            round(box["y"]) for box in (entry.bounding_box() for entry in nav.locator(":scope > *").all())
        }
        assert max(tops) - min(tops) <= 4, (role, tops)  # every entry on the same line
        expect(nav.locator(":scope > a")).to_have_text(["首页"])
        assert groups.count() >= 1, role  # every role has at least the system group (API documents)

    # The bureau opens 人员, then 医共体: one menu open at a time, and its link leads to its page.
    _log_in(page, live_server, users["bureau"])
    labels = nav.locator("details.nav-group > summary").all_inner_texts()
    assert [label.rstrip(" ▾") for label in labels] == [
        "医共体",
        "人员",
        "诊疗数据",
        "转诊",
        "药品",
        "指标与评价",
        "系统",
    ]
    nav.locator("summary", has_text="人员").click()
    expect(nav.locator("a", has_text="职工")).to_be_visible()
    nav.locator("summary", has_text="医共体").click()
    expect(nav.locator("a", has_text="职工")).to_be_hidden()
    nav.locator("a", has_text="医共体架构").click()
    expect(page.locator("h1")).to_have_text("医共体架构")
    expect(nav.locator("details.nav-group", has=page.locator("a[aria-current=page]"))).to_have_count(1)
    page.keyboard.press("Escape")
    assert errors == []
