"""Scoping through settings.ACCESS_POLICY, the audit hook-up and the log filter."""

import logging

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth.models import AnonymousUser

from core import access, audit
from core.logging import MaskResidentIdFilter, mask_resident_ids
from core.models import Job
from tests.core.factories import JobFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_scope_asks_the_policy_named_in_settings(settings):
    access.get_access_policy.cache_clear()
    settings.ACCESS_POLICY = "tests.core.test_access_and_audit.only_kind_a"
    JobFactory(kind="a"), JobFactory(kind="b")
    try:
        visible = access.scope(Job.objects.all(), UserFactory())
        assert list(visible.values_list("kind", flat=True)) == ["a"]
        assert not access.scope(Job.objects.all(), UserFactory(), access.WRITE).exists()
    finally:
        access.get_access_policy.cache_clear()


class _OnlyKindA:
    def scope(self, queryset, user, action):
        return queryset.filter(kind="a") if action == access.READ else queryset.none()

    def can_write(self, user, model, obj=None):
        return False


only_kind_a = _OnlyKindA()


def test_anonymous_and_inactive_users_see_nothing_and_write_nothing():
    JobFactory()
    inactive = UserFactory(is_active=False, is_superuser=True)

    for who in (AnonymousUser(), inactive, None):
        assert not access.scope(Job.objects.all(), who).exists()
        assert not access.can_write(who, Job)


def test_default_policy_denies_everyone_but_superusers():
    JobFactory()

    assert not access.scope(Job.objects.all(), UserFactory()).exists()
    assert access.scope(Job.objects.all(), UserFactory(is_superuser=True)).count() == 1
    assert not access.can_write(UserFactory(), Job)


def test_user_changes_are_audited_without_the_password():
    user = UserFactory()
    user.first_name = "新名"
    user.set_password("another-secret-1")
    user.save()

    entry = LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["first_name"][1] == "新名"
    assert "password" not in entry.changes_dict


def test_registered_sensitive_fields_are_masked_in_the_audit_log():
    audit.register(Job, mask_fields=["error"])
    try:
        job = Job.objects.create(kind="k", error="11010519491231002X")
        logged = LogEntry.objects.get_for_object(job).get().changes_dict["error"][1]
    finally:
        auditlog.unregister(Job)

    assert "11010519491231002X" not in logged
    assert logged.endswith("002X") or logged.startswith("*")


def test_resident_ids_never_reach_a_log_line(caplog):
    logger = logging.getLogger("tests.masking")
    logger.addFilter(MaskResidentIdFilter())

    with caplog.at_level(logging.INFO, logger="tests.masking"):
        logger.info("referral for %s rejected", "11010519491231002X")

    assert "11010519491231002X" not in caplog.text
    assert "110105********002X" in caplog.text


def test_mask_leaves_longer_numbers_alone():
    assert mask_resident_ids("order 1234567890123456789012") == "order 1234567890123456789012"
