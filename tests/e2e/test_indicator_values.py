"""The county bureau computes a month and reads it in a Chinese browser (issue 14 points 4–6):
from the menu to the month's figures, the compute button and its Job page, publishing the month,
a figure's measures per institution and the records behind one of them."""

import pytest
from playwright.sync_api import expect

from assessment.models import IndicatorMonth
from tests.assessment.test_values_api import send_visits
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link
from tests.encounters.factories import department


@pytest.mark.django_db(transaction=True)
def test_bureau_computes_publishes_and_traces_a_figure(indicator_catalogue, live_server, page):
    from tests.world import build_world

    mine, _other, users = build_world()
    department(mine.home)
    department(mine.lead)
    send_visits(mine, [1, 2], tcm=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(users["bureau"].username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, "/indicators/").click()

    page.locator("form.filters input[name=month]").fill("2026-01")
    page.get_by_role("button", name="查看").click()
    page.get_by_role("button", name="计算 2026-01").click()
    expect(page.locator(".message[role=status]")).to_contain_text("2026-01", timeout=15000)
    page.get_by_role("link", name="查看指标数值").click()

    page.locator("form.filters input[name=month]").fill("2026-01")
    page.get_by_role("button", name="查看").click()
    row = page.locator('tr[data-indicator="tcm_visit_share"]')
    expect(row.locator("td.figure.month")).to_have_text("66.67%")
    expect(page.locator(".badge.provisional")).to_be_visible()
    page.get_by_role("button", name="发布 2026-01").click()
    expect(page.locator("dd.publication")).to_contain_text(f"{users['bureau'].username} 于")
    assert IndicatorMonth.objects.get(alliance=mine.alliance).published_by == users["bureau"]

    page.locator('tr[data-indicator="tcm_visit_share"] td.figure.month a').click()
    measure = page.locator('h3[data-measure="visits.in_county.tcm"]')
    expect(measure).to_contain_text("2")
    expect(page.locator("table.inputs").first).to_contain_text(mine.home.name)
    page.locator('a.records-link[href$="measure=visits.in_county.tcm"]').click()
    expect(page.locator("table.records tbody tr")).to_have_count(2)
