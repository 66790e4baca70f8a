"""The whole referral journey (issue 7 point 6) in Chinese browsers: a township doctor refers a
patient up and books a slot from the calendar; the lead hospital's administrator accepts it from
the inbox; both referral pages show the accept in their timelines; the slot is no longer free; a
second doctor trying the same session finds nothing left to book."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.choices import ReferralState
from referrals.models import Referral, Slot
from tests.e2e.navigation import menu_link
from tests.e2e.referral_steps import fill_referral, log_in, settled
from tests.referrals.factories import department, member, next_week, slots


@pytest.mark.django_db(transaction=True)
def test_refer_up_accept_and_the_slot_is_gone(live_server, page, browser, browser_context_args):
    from tests.world import build_world

    county, _other, users = build_world()
    doctor = users["clinician"]  # a clinician of the county's first branch
    second_doctor = member("clinician", county.branches[1], username="second_doctor")
    lead_admin = member("institution_admin", county.lead, username="lead_admin_journey")
    dept = department(county.lead, code="03", name="心血管内科")
    day = next_week()
    slot = slots(dept, count=1, reserved=1, date=day, doctor="李主任")[0]

    # 1. The township doctor refers up and books the one slot from the calendar.
    log_in(page, live_server.url, doctor)
    fill_referral(page, lead=county.lead, dept=dept, day=day, n=1)
    page.locator("button.refer-submit").click()
    expect(page).to_have_url(re.compile(r"/referrals/\d+/$"))
    referral = Referral.objects.get(pk=int(re.search(r"/referrals/(\d+)/$", page.url).group(1)))
    assert Slot.objects.get(pk=slot.pk).referral_id == referral.pk
    expect(page.locator("#referral-main")).to_have_attribute("data-state", "submitted")

    # 2. The lead hospital's administrator accepts it from the inbox, keeping the booked slot.
    admin_context = browser.new_context(**browser_context_args)
    admin = admin_context.new_page()
    log_in(admin, live_server.url, lead_admin)
    menu_link(admin, "/referrals/inbox/").click()
    row = admin.locator(f'table.list tbody tr[data-referral="{referral.pk}"]')
    expect(row).to_contain_text("张*")
    row.get_by_role("link", name="张*").click()
    admin.locator('form[data-verb="accept"] button[type="submit"]').click()
    main = admin.locator("#referral-main")
    expect(main).to_have_attribute("data-state", "accepted")
    accepted = admin.locator('#referral-timeline li[data-to-state="accepted"]')
    expect(accepted).to_contain_text(lead_admin.username)
    expect(main.locator(".booking")).to_contain_text("李主任")

    # 3. The doctor's page shows the same accept in its timeline.
    page.reload()
    expect(page.locator("#referral-main")).to_have_attribute("data-state", "accepted")
    expect(page.locator('#referral-timeline li[data-to-state="accepted"]')).to_contain_text(
        lead_admin.username
    )
    referral.refresh_from_db()
    assert referral.state == ReferralState.ACCEPTED
    assert Slot.objects.get(pk=slot.pk).referral_id == referral.pk  # still held, no longer free

    # 4. A second doctor opens "refer up" for the same department: that session is gone.
    other_context = browser.new_context(**browser_context_args)
    other = other_context.new_page()
    log_in(other, live_server.url, second_doctor)
    menu_link(other, "/referrals/new/up/").click()
    other.locator("#id_to_institution").select_option(str(county.lead.pk))
    expect(other.locator("#id_to_department")).to_be_visible()
    settled(other)
    other.locator("#id_to_department").select_option(str(dept.pk))
    settled(other)
    expect(other.locator("#refer-calendar")).to_be_visible()
    expect(other.locator(f"button.refer-cell[data-date='{day.isoformat()}']")).to_have_count(0)
    assert not Slot.objects.bookable(timezone.now()).filter(pk=slot.pk).exists()
    admin_context.close()
    other_context.close()
