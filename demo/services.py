"""Building the demo county. For now the demo administrator; the hierarchy issue adds the county
(its institutions, staff and the role accounts of DESIGN.md §8) through each app's services."""

import os

from django.contrib.auth import get_user_model
from django.db import transaction

DEFAULT_PASSWORD = "demo2026"  # demo data only; set DEMO_PASSWORD to choose another


def demo_password():
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD


@transaction.atomic
def seed_demo(*, seed=2026):
    """Create (or reset) the demo accounts; running it twice changes nothing more.

    Returns the logins as (username, description) pairs.
    """
    password = demo_password()
    admin, _created = get_user_model().objects.update_or_create(
        username="admin",
        defaults={"is_staff": True, "is_superuser": True, "is_active": True, "first_name": "演示管理员"},
    )
    if not admin.check_password(password):
        admin.set_password(password)
        admin.save(update_fields=["password"])
    return [("admin", "系统管理员 / system administrator")]
