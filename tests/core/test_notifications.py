"""The in-app inbox (issue 6.5): notify, unread count, mark read, the API and the page."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from core import services
from core.models import Notification
from core.notifications import notify, unread_count
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db


def _inbox_of(user, *titles):
    """One notification per title, oldest first."""
    return [notify([user], title=title, body="b")[0] for title in titles]


def test_notify_creates_one_row_per_user_once_each():
    ann, bob = UserFactory(), UserFactory()

    rows = notify(
        [ann, bob, ann.pk], title="转诊已接收", body="张* → 内科", link="/r/1/", event="referral.accepted"
    )

    assert len(rows) == 2
    assert sorted(Notification.objects.values_list("user_id", "title", "link", "event", "read_at")) == sorted(
        [(u.pk, "转诊已接收", "/r/1/", "referral.accepted", None) for u in (ann, bob)]
    )


def test_notify_from_on_commit_is_not_delivered_when_the_transaction_rolls_back(
    django_capture_on_commit_callbacks,
):
    ann = UserFactory()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(lambda: notify([ann], title="t", body="b"))
        raise RuntimeError

    assert not Notification.objects.exists()


def test_unread_count_counts_only_the_users_unread_rows(django_assert_num_queries):
    ann, bob = UserFactory(), UserFactory()
    first, _second, _third = _inbox_of(ann, "1", "2", "3")
    _inbox_of(bob, "x")
    services.mark_read(first, acting_user=ann)

    with django_assert_num_queries(1):
        assert unread_count(ann) == 2


def test_mark_read_is_idempotent_and_keeps_the_first_read_time():
    ann = UserFactory()
    (notification,) = _inbox_of(ann, "1")

    first = services.mark_read(notification, acting_user=ann).read_at
    again = services.mark_read(Notification.objects.get(pk=notification.pk), acting_user=ann).read_at

    assert first is not None and again == first


def test_mark_read_of_someone_elses_notification_is_refused_and_changes_nothing():
    ann, bob = UserFactory(), UserFactory()
    (notification,) = _inbox_of(ann, "1")

    with pytest.raises(PermissionDenied):
        services.mark_read(notification, acting_user=bob)

    assert Notification.objects.get().read_at is None


def test_mark_all_read_touches_only_the_users_unread_rows():
    ann, bob = UserFactory(), UserFactory()
    _inbox_of(ann, "1", "2")
    _inbox_of(bob, "x")

    assert services.mark_all_read(ann) == 2
    assert services.mark_all_read(ann) == 0
    assert (unread_count(ann), unread_count(bob)) == (0, 1)


# --- API --------------------------------------------------------------------------------------
def test_api_lists_the_callers_notifications_newest_first_and_filters_unread(client_for):
    ann, bob = UserFactory(), UserFactory()
    first, second, third = _inbox_of(ann, "1", "2", "3")
    _inbox_of(bob, "x")
    services.mark_read(second, acting_user=ann)
    client = client_for(ann)

    everything = client.get("/api/v1/inbox/").json()
    unread = client.get("/api/v1/inbox/?unread=true").json()

    assert everything["count"] == 3
    assert [row["title"] for row in everything["results"]] == ["3", "2", "1"]
    assert set(everything["results"][0]) == {"id", "title", "body", "link", "event", "created_at", "read"}
    assert [(row["id"], row["read"]) for row in unread["results"]] == [(third.pk, False), (first.pk, False)]


def test_api_mark_read_answers_the_row_and_is_idempotent(client_for):
    ann = UserFactory()
    (notification,) = _inbox_of(ann, "1")
    client = client_for(ann)

    first = client.post(f"/api/v1/inbox/{notification.pk}/read/")
    again = client.post(f"/api/v1/inbox/{notification.pk}/read/")

    assert first.status_code == again.status_code == 200
    assert first.json()["read"] is True and first.json() == again.json()


def test_api_another_users_notification_is_404_and_stays_unread(client_for):
    ann, bob = UserFactory(), UserFactory()
    (notification,) = _inbox_of(ann, "1")
    client = client_for(bob)

    assert client.get(f"/api/v1/inbox/{notification.pk}/").status_code == 404
    assert client.post(f"/api/v1/inbox/{notification.pk}/read/").status_code == 404
    assert Notification.objects.get().read_at is None


def test_api_read_all(client_for):
    ann, bob = UserFactory(), UserFactory()
    _inbox_of(ann, "1", "2")
    _inbox_of(bob, "x")

    response = client_for(ann).post("/api/v1/inbox/read-all/")

    assert response.status_code == 200 and response.json() == {"marked": 2}
    assert unread_count(bob) == 1


def test_api_inbox_needs_authentication(api_client):
    assert api_client.get("/api/v1/inbox/").status_code == 401


# Counting rows, then one page of them; independent of how many notifications there are.
INBOX_LIST_QUERIES = 2


@pytest.mark.parametrize("rows", [1, 30])
def test_api_inbox_list_query_count_is_pinned(client_for, django_assert_num_queries, rows):
    ann = UserFactory()
    Notification.objects.bulk_create([Notification(user=ann, title=str(n), body="") for n in range(rows)])
    client = client_for(ann)

    with django_assert_num_queries(INBOX_LIST_QUERIES):
        assert client.get("/api/v1/inbox/").json()["count"] == rows


# --- Page -------------------------------------------------------------------------------------
def test_inbox_page_shows_the_users_notifications_and_the_unread_count_in_the_header(client):
    ann, bob = UserFactory(), UserFactory()
    _inbox_of(ann, "转诊已接收", "转诊被退回")
    _inbox_of(bob, "别人的通知")
    client.force_login(ann)

    page = client.get(reverse("inbox")).content.decode()

    assert "转诊已接收" in page and "转诊被退回" in page and "别人的通知" not in page
    assert '<span class="badge"' in page and ">2</span>" in page


def test_inbox_page_marks_read_with_a_post_and_hides_others(client):
    ann, bob = UserFactory(), UserFactory()
    (mine,) = _inbox_of(ann, "1")
    (theirs,) = _inbox_of(bob, "x")
    client.force_login(ann)

    assert client.post(reverse("inbox-read", args=[mine.pk])).status_code == 302
    assert client.post(reverse("inbox-read", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("inbox-read", args=[mine.pk])).status_code == 405
    assert (unread_count(ann), unread_count(bob)) == (0, 1)


def test_anonymous_pages_run_no_unread_count(client):
    response = client.get(reverse("login"))

    assert "unread_notifications" not in response.context
