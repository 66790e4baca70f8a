"""The receiving hospital (issue 7 point 5): its institution admin opens the inbox, sees the
prioritised signed resident first, opens that referral, accepts it with a slot; the page's main
section is swapped in place (no full reload) and its timeline shows the accept; the printable
slip shows the booked slot. In a Chinese browser."""

import pytest
from playwright.sync_api import expect

from referrals.models import Slot
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link


@pytest.mark.django_db(transaction=True)
def test_receiver_accepts_a_prioritised_referral_with_a_slot(live_server, page):
    from tests.referrals.factories import department, member, patient, referral, slots
    from tests.world import build_world

    county, _other, _users = build_world()
    lead_admin = member("institution_admin", county.lead, username="lead_admin_e2e")
    medicine = department(county.lead)
    pool = slots(medicine, count=3, reserved=3, doctor="王主任")
    prioritised = referral(
        county.home, county.lead, n=1, to_department=medicine, patient=patient(1, name="张三", signed=True)
    )
    referral(county.home, county.lead, n=2, to_department=medicine, patient=patient(2, name="李四"))  # newer

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(lead_admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, "/referrals/inbox/").click()

    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    first = rows.first
    expect(first).to_have_attribute("data-referral", str(prioritised.pk))
    expect(first.locator(".priority-mark")).to_be_visible()
    expect(first).to_contain_text("张*")
    expect(rows.nth(1).locator(".priority-mark")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("张三")

    first.get_by_role("link", name="张*").click()
    main = page.locator("#referral-main")
    expect(main).to_have_attribute("data-state", "submitted")
    page.evaluate("window.__sameDocument = true")  # gone if the page were reloaded
    page.locator("#id_accept_booking").select_option(f"slot:{pool[0].pk}")  # one option per session
    page.locator('form[data-verb="accept"] button[type="submit"]').click()

    expect(main).to_have_attribute("data-state", "accepted")
    expect(page.locator('#referral-timeline li[data-to-state="accepted"]')).to_have_count(1)
    expect(page.locator('#referral-timeline li[data-to-state="accepted"]')).to_contain_text(
        lead_admin.username
    )
    expect(main.locator(".booking")).to_contain_text("王主任")
    assert page.evaluate("window.__sameDocument") is True
    assert Slot.objects.get(pk=pool[0].pk).referral_id == prioritised.pk

    main.locator(f'a[href="/referrals/{prioritised.pk}/slip/"]').click()
    booking = page.locator(".slip-booking")
    expect(booking).to_contain_text(pool[0].date.strftime("%Y-%m-%d"))
    expect(booking).to_contain_text("王主任")
    expect(booking).to_contain_text("上午")
    expect(page.locator(".slip h1")).to_be_visible()
