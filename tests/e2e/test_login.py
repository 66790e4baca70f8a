"""A clerk logs in: a wrong password is refused in Chinese, the right one opens the home page."""

import pytest
from playwright.sync_api import expect

from tests.core.factories import PASSWORD, UserFactory


@pytest.mark.django_db(transaction=True)
def test_login_wrong_then_right_password_shows_the_chinese_home_page(live_server, page):
    clerk = UserFactory(username="clerk", first_name="晓明", last_name="王")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    expect(page.locator("h1")).to_have_text("登录")

    page.get_by_label("用户名").fill(clerk.username)
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")

    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("h1")).to_have_text("首页")
    expect(page.locator(".welcome")).to_contain_text("欢迎")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
