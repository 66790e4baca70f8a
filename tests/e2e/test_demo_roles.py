"""Each demo account's home and menu in a Chinese browser at 1366 × 768 (issue 15 point 6), on
the small demo county as `seed_demo` builds it: the header stays one line (no wrapped menu), the
home shows the panels of the role's work (the committee lands on its dashboard, with its tiles
and charts drawn), and no page logs a console error."""

import pytest
from playwright.sync_api import expect

from demo.services import seed_demo
from demo.services.accounts import ACCOUNTS, demo_password

ONE_LINE = 64  # px, as tests/e2e/test_menus.py
# The panels each demo account's home must show (core.home; the committee: the dashboard).
PANELS = {
    "bureau": ["figures", "warnings", "silent-sources"],
    "alliance_admin": ["figures", "warnings", "silent-sources"],
    "finance": [],
    "lead_admin": ["referrals"],
    "township_admin": ["referrals"],
    "township_doctor": ["referrals"],
    "village_doctor": ["referrals"],
    "his_lead": ["api-account"],
    "his_township": ["api-account"],
    "insurance": ["api-account"],
}


@pytest.mark.django_db(transaction=True)
def test_every_demo_account_at_1366(indicator_catalogue, live_server, page, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_demo(seed=7, scale="small")
    errors = []
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location['url']}") if m.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1366, "height": 768})
    nav = page.get_by_role("navigation", name="主导航")

    for username, *_rest in ACCOUNTS:
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(demo_password())
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("button", name="退出")).to_be_visible()

        header = page.locator(".site-header").bounding_box()
        assert header["height"] <= ONE_LINE, (username, header)
        tops = {round(e.bounding_box()["y"]) for e in nav.locator(":scope > *").all()}
        assert max(tops) - min(tops) <= 4, (username, tops)
        if username == "committee":
            expect(page).to_have_url(f"{live_server.url}/indicators/dashboard/")
            expect(page.locator(".tile").first).to_be_visible()
            expect(page.locator(".tile .sparkline svg").first).to_be_visible()
            continue
        shown = page.locator("[data-panel]").evaluate_all("nodes => nodes.map(n => n.dataset.panel)")
        assert shown[-1] == "inbox" and shown[:-1] == PANELS[username], (username, shown)
    assert errors == []
