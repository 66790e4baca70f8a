"""The committee's morning in a Chinese browser (issue 15 point 6): it logs in and lands on the
dashboard, changes the month, opens a tile's trend and "which members moved it", drills down to
a branch, exports the table and goes full screen; the bureau acknowledges a warning. No page
logs a console error."""

import datetime

import pytest
from playwright.sync_api import expect

from assessment.services import indicators
from tests.assessment.test_warnings import Sender
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link

D = datetime.date
MONTHS = [D(2026, m, 1) for m in (1, 2, 3, 4)]


def _log_in(page, live_server, user):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def _errors(page):
    errors = []
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location['url']}") if m.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def county(indicator_catalogue):
    from tests.world import build_world

    mine, other, users = build_world()
    sender = Sender(mine)
    for month, (home, lead) in zip(MONTHS, ((3, 1), (3, 2), (4, 2), (2, 2)), strict=True):
        sender.month(month, home=home, lead=lead)
    indicators.compute_indicators(mine.alliance, MONTHS)
    for month in MONTHS[:3]:
        indicators.publish_month(mine.alliance, month, acting_user=users["bureau"])
    return mine, users


def _click_bar(page, chart_id, index):
    """Click bar `index` of a horizontal bar chart where ECharts draws it."""
    x, y = page.evaluate(
        """([id, index]) => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            const value = chart.getOption().series[0].data[index];
            const [x, y] = chart.convertToPixel({seriesIndex: 0}, [(value && value.value !== undefined ? value.value : value) / 2, index]);
            const box = document.getElementById(id).getBoundingClientRect();
            return [box.left + x, box.top + y];
        }""",
        [chart_id, index],
    )
    page.mouse.click(x, y)


@pytest.mark.django_db(transaction=True)
def test_the_committee_reads_the_dashboard(county, live_server, page):
    mine, users = county
    errors = _errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    _log_in(page, live_server, users["committee"])

    expect(page).to_have_url(f"{live_server.url}/indicators/dashboard/")
    expect(page.locator("h1")).to_contain_text("驾驶舱")
    expect(page.locator("h1")).to_contain_text("2026-03")  # the latest published month
    expect(page.locator(".completeness")).to_contain_text("6 家成员单位中 2 家已上报")
    tile = page.locator('.tile[data-code="primary_visit_share"]')
    expect(tile.locator(".tile-value")).to_contain_text("66.67")
    expect(tile.locator(".sparkline svg")).to_have_count(1)

    page.locator("#month-picker").select_option("2026-04")
    expect(page).to_have_url(
        f"{live_server.url}/indicators/dashboard/?alliance={mine.alliance.pk}&month=2026-04"
    )
    expect(page.locator("h1")).to_contain_text("2026-04")
    expect(tile.locator(".tile-value")).to_contain_text("50.00")
    expect(tile.locator(".light.red")).to_have_text("未达标")
    expect(tile.locator(".badge.provisional")).to_be_visible()

    tile.click()
    detail = page.locator("#tile-detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text("基层诊疗人次占比 · 2026-04")
    expect(page.locator("#chart-trend svg")).to_have_count(1)
    expect(page.locator("#movers-summary")).to_contain_text("66.67 → 50.00")
    expect(page.locator("#movers-summary")).to_contain_text(mine.home.name)
    expect(page.locator("#branches-empty")).to_be_visible()  # the share is the alliance's only

    page.locator('.tile[data-code="tcm_visit_share"]').click()
    expect(page.locator("#detail-title")).to_have_text("中医类诊疗量占比 · 2026-04")
    expect(page.locator("#chart-branches svg")).to_have_count(1)
    ranked = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-branches')).getOption().yAxis[0].data"
    )
    _click_bar(page, "chart-branches", ranked.index(mine.home.name))
    expect(page.locator("#drill")).to_be_visible()
    expect(page.locator("#drill-title")).to_contain_text(mine.home.name)
    page.locator("#drill-rows a", has_text=mine.home.name).click()
    expect(page.locator("h1")).to_contain_text("中医类诊疗量占比")  # the figure's page, counts only
    page.go_back()

    with page.expect_download() as download:
        page.locator("#export").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.get_by_role("button", name="全屏").click()
    expect(page.locator(".site-header")).to_be_hidden()
    tiles = page.locator(".tile").all()
    assert len({round(t.bounding_box()["y"]) for t in tiles[:4]}) == 1  # four tiles a row
    page.get_by_role("button", name="全屏").click()
    expect(page.locator(".site-header")).to_be_visible()

    page.get_by_role("link", name="月度报告").click()
    expect(page.locator(".report h1")).to_contain_text("2026-04 指标月报")
    expect(page.locator('.report-chart[data-code="primary_visit_share"] svg')).to_have_count(1)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_the_bureau_acknowledges_a_warning(county, live_server, page):
    mine, users = county
    errors = _errors(page)
    page.set_viewport_size({"width": 1366, "height": 768})
    _log_in(page, live_server, users["bureau"])
    panel = page.locator('[data-panel="warnings"]')
    expect(panel).to_be_visible()

    menu_link(page, "/indicators/warnings/").click()
    page.locator("select[name=kind]").select_option("off_target")
    page.locator("select[name=state]").select_option("open")
    page.get_by_role("button", name="筛选").click()
    row = page.locator('tr[data-kind="off_target"]', has_text="基层诊疗人次占比").filter(has_text="2026-04")
    expect(row).to_have_count(1)
    row.get_by_role("link", name="确认").click()

    page.get_by_role("button", name="确认").click()  # no note yet: the form says so
    expect(page.locator("textarea[name=note]")).to_be_visible()
    page.locator("textarea[name=note]").fill("已约谈牵头医院，下月起增加基层号源")
    page.get_by_role("button", name="确认").click()

    acknowledged = page.locator('tr[data-state="acknowledged"]', has_text="基层诊疗人次占比")
    expect(acknowledged).to_contain_text("已约谈牵头医院")
    expect(acknowledged).to_contain_text("已确认")
    assert errors == []
