"""`python manage.py seed_demo`: load the demo county (deterministic with --seed and --today,
idempotent)."""

import argparse
import datetime

from django.core.management.base import BaseCommand

from demo import services


def _day(value):
    """A --today value: an ISO date (YYYY-MM-DD) on or after the earliest anchor."""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日期格式应为 YYYY-MM-DD / not a date (YYYY-MM-DD): {value}"
        ) from None
    if day < services.EARLIEST_ANCHOR:
        raise argparse.ArgumentTypeError(
            f"演示日期不得早于 {services.EARLIEST_ANCHOR} / the demo's day must be on or after "
            f"{services.EARLIEST_ANCHOR}: {value}"
        )
    return day


class Command(BaseCommand):
    help = "Load the demo county and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same county)")
        parser.add_argument(
            "--scale",
            choices=sorted(services.SCALES),
            default=services.DEFAULT_SCALE,
            help=(
                "amount of activity; every scale builds the whole hierarchy and the drug catalogue. small: 300 signed residents, "
                "20,000 visits, 1,000 admissions (tests); demo (default, make demo): 3,000 / 300,000 / "
                "7,000, under a minute; full: 12,000 / 3,000,000 / 70,000, the county of DESIGN §7 for "
                "benchmarks (about two minutes, more on a busy machine)"
            ),
        )
        parser.add_argument(
            "--today",
            type=_day,
            default=None,
            metavar="YYYY-MM-DD",
            help=(
                "the demo's day (default: today's local date): the thirteen whole months of activity "
                "before its month (a year, and the last month's same month a year before), the pools "
                "of its week and the three after, and the open referrals submitted on it; pin it for "
                "the same rows on another day (same seed, same day, same county; not before "
                f"{services.EARLIEST_ANCHOR})"
            ),
        )

    def handle(self, *args, seed, scale, today, verbosity, **options):
        result = services.seed_demo(seed=seed, scale=scale, today=today)
        if not result.built:
            self.stdout.write("演示县已存在，仅核对账号 / demo county already loaded: accounts checked")
        for step, seconds in result.timings if verbosity > 1 else ():
            self.stdout.write(f"  {step:<24} {seconds:6.1f} s")
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        if result.built:
            dates = result.dates
            last = dates.period_end - datetime.timedelta(days=1)
            self.stdout.write(
                f"演示日期 {dates.anchor}：业务数据 {dates.period_start} 至 {last}，号源自 "
                f"{dates.pool_start} 起 / demo day {dates.anchor}: activity {dates.period_start} to "
                f"{last}, pools from {dates.pool_start}"
            )
        counts = services.summary(result.alliance)
        self.stdout.write(
            f"{result.alliance.name} ({result.alliance.region_code}): "
            f"医院 {counts['hospitals']} · 乡镇卫生院 {counts['branches']} · 村卫生室 {counts['villages']} · "
            f"职工 {counts['staff']} · 签约居民 {counts['signed_residents']} · "
            f"门急诊 {counts['visits']} · 住院 {counts['admissions']} · 药品目录 {counts['drugs']} / hospitals, "
            "branches, village clinics, staff, signed residents, visits, admissions, drug catalogue entries"
        )
        password = services.demo_password()
        self.stdout.write("登录账号 / logins (password: %s):" % password)
        for username, description in result.logins:
            self.stdout.write(f"  {username:<16} {description}")
