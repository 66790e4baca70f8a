"""The lead hospital's administrator manages its pools in a Chinese browser (issue 7 point 5):
the template lacks Sunday's beds, so publishing the week is refused with the shortfall; they add
the line, edit a session, publish the week and read the overview and the shares against their
targets; the week after, with nothing published, is marked under target."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals import services
from referrals.choices import PoolKind
from referrals.models import PoolPublication, PoolTemplateEntry
from tests.core.factories import PASSWORD
from tests.e2e.navigation import menu_link


@pytest.mark.django_db(transaction=True)
def test_lead_admin_edits_the_template_publishes_a_week_and_sees_the_shares(live_server, page):
    from tests.referrals.factories import department, member
    from tests.world import build_world

    mine, _other, _users = build_world()
    admin = member("institution_admin", mine.lead, username="lead_pools")
    dept = department(mine.lead)
    monday_line = services.create_template_entry(
        mine.lead, weekday=0, kind=PoolKind.SLOT, department=dept, period="am", count=9,
        reserved_for_primary=3, acting_user=None,
    )  # fmt: skip
    for weekday in range(6):  # Monday to Saturday: 12 beds, a quarter of the 45 open beds; no Sunday
        services.create_template_entry(
            mine.lead, weekday=weekday, kind=PoolKind.BED, department=dept, count=12, acting_user=None
        )
    today = timezone.localdate()
    monday = today + datetime.timedelta(days=7 - today.weekday())

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(admin.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    menu_link(page, "/referrals/pools/").click()

    # One institution: straight to its weekly template.
    expect(page).to_have_url(f"{live_server.url}/referrals/pools/{mine.lead.pk}/")
    expect(page.locator("h1")).to_contain_text(mine.lead.name)
    expect(page.locator("tr.day-total.under-target")).to_have_count(1)  # Sunday

    # Publishing is refused: Sunday is 12 beds short.
    publish = page.locator("form#publish-week")
    publish.locator('input[name="week_start"]').fill(monday.isoformat())
    publish.locator('button[type="submit"]').click()
    expect(page.locator(".errorlist")).to_contain_text("12")
    assert not PoolPublication.objects.exists()

    # Add Sunday's beds on the template page.
    page.goto(f"{live_server.url}/referrals/pools/{mine.lead.pk}/")
    add = page.locator("form#add-line")
    add.locator('select[name="weekday"]').select_option("6")
    add.locator('select[name="kind"]').select_option("bed")
    add.locator('select[name="department"]').select_option(str(dept.pk))
    add.locator('input[name="count"]').fill("12")
    add.locator('button[type="submit"]').click()
    expect(page).to_have_url(f"{live_server.url}/referrals/pools/{mine.lead.pk}/")
    expect(page.locator("tr.day-total.under-target")).to_have_count(0)

    # Edit Monday's session: 12 slots, 4 of them for referrals.
    page.locator(f"#line-{monday_line.pk}").locator('a[href$="/edit/"]').click()
    page.locator('input[name="count"]').fill("12")
    page.locator('input[name="reserved_for_primary"]').fill("4")
    page.locator('form.record button[type="submit"]').click()
    expect(page.locator(f"#line-{monday_line.pk}")).to_contain_text("12")

    # Publish the week: on to its overview.
    publish = page.locator("form#publish-week")
    publish.locator('input[name="week_start"]').fill(monday.isoformat())
    publish.locator('button[type="submit"]').click()
    expect(page).to_have_url(
        re.compile(rf"/referrals/pools/{mine.lead.pk}/overview/\?week={monday.isoformat()}$")
    )
    expect(page.locator(".message")).to_contain_text("84")
    slots = page.locator("table.pool-slots tbody tr")
    expect(slots).to_have_count(1)
    expect(slots.first).to_contain_text(dept.name)
    expect(slots.first.locator("td").nth(2)).to_have_text("12")
    expect(slots.first.locator("td").nth(3)).to_have_text("4")
    expect(page.locator("table.pool-beds tbody tr")).to_have_count(7)
    expect(page.locator("#share-slots")).to_contain_text("33.3%")
    expect(page.locator("#share-slots")).not_to_have_class(re.compile("under-target"))
    expect(page.locator("#share-beds")).to_contain_text("26.7%")
    expect(page.locator("#share-beds")).not_to_have_class(re.compile("under-target"))

    # The week after: nothing published, the beds are marked under target.
    page.locator(f'a[href="?week={(monday + datetime.timedelta(days=7)).isoformat()}"]').click()
    expect(page.locator("#share-beds")).to_have_class(re.compile("under-target"))
    expect(page.locator("table.pool-slots tbody tr")).to_have_count(1)  # "no records"

    assert PoolPublication.objects.get().week_start == monday
    assert PoolTemplateEntry.objects.filter(institution=mine.lead).count() == 8
