"""Refer up (issue 7 point 2) in a Chinese browser: a township doctor fills the patient, picks
the lead hospital and a department, the slot calendar appears in place (no page load), picks a
slot and sends; a doctor of another branch who had picked the same slot gets it back as taken,
with the calendar as it is now."""

import re

import pytest
from playwright.sync_api import expect

from referrals.choices import ReferralState
from referrals.models import Referral, Slot
from tests.e2e.referral_steps import SLOT_TAKEN, fill_referral, log_in
from tests.referrals.factories import department, member, next_week, slots


@pytest.mark.django_db(transaction=True)
def test_township_doctor_refers_up_and_another_branch_finds_the_slot_taken(
    live_server, page, browser, browser_context_args
):
    from tests.world import build_world

    mine, _other, users = build_world()
    township_doctor = users["clinician"]  # a clinician of the county's first branch
    neighbour = member("clinician", mine.branches[1], username="neighbour_doctor")
    dept = department(mine.lead, code="03", name="心血管内科")
    day = next_week()
    slot = slots(dept, count=1, reserved=1, date=day, doctor="李主任")[0]

    log_in(page, live_server.url, township_doctor)
    fill_referral(page, lead=mine.lead, dept=dept, day=day, n=1)
    expect(page.locator("#refer-slots")).to_contain_text("李主任")
    page.locator("button[hx-post$='/find-resident/']").click()  # patient 1 is 王1, signed at this branch
    expect(page.locator("#refer-resident input[name=team]")).to_have_value(str(mine.rows["teams"].pk))
    expect(page.locator("#refer-resident input[name=signed_resident]")).to_be_checked()

    other_context = browser.new_context(**browser_context_args)
    other = other_context.new_page()
    log_in(other, live_server.url, neighbour)
    fill_referral(other, lead=mine.lead, dept=dept, day=day, n=2)  # both forms hold the same slot

    page.locator("button.refer-submit").click()
    expect(page).to_have_url(re.compile(r"/referrals/\d+/$"))
    referral_id = int(re.search(r"/referrals/(\d+)/$", page.url).group(1))
    referral = Referral.objects.get(pk=referral_id)
    assert (referral.state, referral.from_institution, referral.to_institution, referral.team) == (
        ReferralState.SUBMITTED,
        mine.home,
        mine.lead,
        mine.rows["teams"],
    )
    assert Slot.objects.get(pk=slot.pk).referral_id == referral_id

    other.locator("button.refer-submit").click()
    expect(other.get_by_role("alert")).to_contain_text(SLOT_TAKEN)
    expect(other.locator(f"button.refer-cell[data-date='{day.isoformat()}']")).to_have_count(0)
    expect(other.locator(f"#refer-slots input[name=slot][value='{slot.pk}']")).to_have_count(0)
    assert Referral.objects.count() == 1
    other_context.close()
