"""The county bureau revises an indicator definition in a Chinese browser (issue 14 point 7): from
the menu to the definition, the revise form with the measures beside it, a mistyped expression
refused with the parser's Chinese message next to the field, then the corrected revision saved
as version 2, with version 1 kept in the history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from playwright.sync_api import expect

from alliance.querysets import today
from assessment import expressions
from assessment.models import IndicatorDefinition
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link

BAD = "#{visits.in_county.primary} ×"


def chinese_message(text):
    with translation.override("zh-hans"):
        try:
            expressions.parse(text)
        except ValidationError as error:
            return error.messages[0]
    raise AssertionError(f"{text!r} parses")


@pytest.mark.django_db(transaction=True)
def test_bureau_revises_a_definition_and_sees_version_2(live_server, page):
    from tests.assessment.factories import definition
    from tests.world import build_world

    _mine, _other, users = build_world()
    first = definition("e2e_share", name_zh="基层诊疗占比（测试）", effective_from=datetime.date(2024, 1, 1))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(users["bureau"].username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, "/indicators/definitions/").click()

    row = page.locator('table.list tr[data-code="e2e_share"]')
    expect(row).to_contain_text("基层诊疗占比（测试）")
    row.get_by_role("link", name="e2e_share").click()
    expect(page.locator("h1")).to_contain_text("基层诊疗占比（测试）")
    page.locator(f'a[href="/indicators/definitions/{first.pk}/revise/"]').click()

    # The measures an expression may use stand beside the form.
    expect(page.locator("aside.measures")).to_contain_text("#{visits.in_county.primary}")
    form = page.locator("form.definition")
    form.locator('textarea[name="numerator"]').fill(BAD)
    form.locator('input[name="target"]').fill("70")
    form.locator('select[name="target_comparison"]').select_option("gte")
    form.get_by_role("button", name="保存").click()

    # Refused: the parser's Chinese message next to the numerator, nothing written.
    expect(page.locator("p.field-numerator .errors")).to_have_text(chinese_message(BAD))
    assert IndicatorDefinition.objects.filter(code="e2e_share").count() == 1

    form.locator('textarea[name="numerator"]').fill("#{visits.in_county.primary}")
    form.get_by_role("button", name="保存").click()

    revised = IndicatorDefinition.objects.get(code="e2e_share", version=2)
    expect(page).to_have_url(f"{live_server.url}/indicators/definitions/{revised.pk}/")
    expect(page.locator("h1 .version")).to_contain_text("2")
    versions = page.locator("table.versions")
    expect(versions.locator("tr[data-version]")).to_have_count(2)
    expect(versions.locator('tr[data-version="2"]')).to_contain_text(today().isoformat())
    expect(versions.locator('tr[data-version="2"]')).to_contain_text("≥ 70")
    expect(versions.locator('tr[data-version="1"]')).to_contain_text("2024-01-01")
    assert (revised.target, revised.created_by) == (70, users["bureau"])

    # The list now shows version 2.
    page.goto(f"{live_server.url}/indicators/definitions/?code=e2e_share")
    expect(page.locator('table.list tr[data-code="e2e_share"]')).to_contain_text("≥ 70")
