"""`python manage.py seed_demo`: load the demo county (deterministic with --seed, idempotent)."""

from django.core.management.base import BaseCommand

from demo import services


class Command(BaseCommand):
    help = "Load the demo county and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same county)")

    def handle(self, *args, seed, **options):
        logins = services.seed_demo(seed=seed)
        password = services.demo_password()
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        self.stdout.write("登录账号 / logins (password: %s):" % password)
        for username, description in logins:
            self.stdout.write(f"  {username:<16} {description}")
