"""Steps of the referral journeys in the browser, shared by the e2e tests: log in, wait for htmx,
fill the "refer up" form and pick a slot from the calendar."""

import re

from playwright.sync_api import expect

from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link
from tests.members.factories import resident_id

SLOT_TAKEN = "该号源或床位刚被其他转诊单预约，或已不再可约，请另选。"


def log_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def settled(page):
    """Wait until htmx has swapped and wired the new fragment (a click before that is lost)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def fill_referral(page, *, lead, dept, day, n):
    """Open 'refer up' from the menu, fill the patient and pick the one slot of `day`'s morning."""
    menu_link(page, "/referrals/new/up/").click()
    expect(page).to_have_url(re.compile(r"/referrals/new/up/$"))
    page.evaluate("window.stillTheSamePage = true")
    page.locator("#id_patient_name").fill("张三" if n == 1 else "李四")
    page.locator("#id_id_number").fill(resident_id(n))
    page.locator("#id_insurance_number").fill(f"INS{n:06d}")
    page.locator("#id_diagnosis").fill("I10")
    page.locator("#id_reason").fill("血压控制不佳，需专科调整用药")
    page.locator("#id_to_institution").select_option(str(lead.pk))
    expect(page.locator("#id_to_department")).to_be_visible()
    settled(page)
    page.locator("#id_to_department").select_option(str(dept.pk))
    cell = page.locator(f"button.refer-cell[data-date='{day.isoformat()}'][data-period='am']")
    expect(cell).to_be_visible()
    settled(page)
    cell.click()
    expect(page.locator("#refer-slots input[name=slot]").first).to_be_visible()
    settled(page)
    page.locator("#refer-slots input[name=slot]").first.check()
    assert page.evaluate("window.stillTheSamePage") is True  # everything above came in place
