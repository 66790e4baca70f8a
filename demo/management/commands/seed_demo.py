"""`python manage.py seed_demo`: load the demo county (deterministic with --seed, idempotent)."""

from django.core.management.base import BaseCommand

from demo import services


class Command(BaseCommand):
    help = "Load the demo county and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same county)")
        parser.add_argument(
            "--scale",
            choices=sorted(services.SCALES),
            default="full",
            help="amount of activity (signed residents, …); every scale builds the whole hierarchy",
        )

    def handle(self, *args, seed, scale, verbosity, **options):
        result = services.seed_demo(seed=seed, scale=scale)
        if not result.built:
            self.stdout.write("演示县已存在，仅核对账号 / demo county already loaded: accounts checked")
        for step, seconds in result.timings if verbosity > 1 else ():
            self.stdout.write(f"  {step:<24} {seconds:6.1f} s")
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        counts = services.summary(result.alliance)
        self.stdout.write(
            f"{result.alliance.name} ({result.alliance.region_code}): "
            f"医院 {counts['hospitals']} · 乡镇卫生院 {counts['branches']} · 村卫生室 {counts['villages']} · "
            f"职工 {counts['staff']} · 签约居民 {counts['signed_residents']} / hospitals, branches, "
            "village clinics, staff, signed residents"
        )
        password = services.demo_password()
        self.stdout.write("登录账号 / logins (password: %s):" % password)
        for username, description in result.logins:
            self.stdout.write(f"  {username:<16} {description}")
