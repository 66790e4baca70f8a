"""The API base of DESIGN §8: token auth, pagination, the error envelope, idempotent creates."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import IdempotencyKey, Job
from tests.core.api_under_test import JobUnderTestViewSet
from tests.core.factories import PASSWORD, JobFactory, UserFactory

URL = "/api/v1/jobs-under-test/"
pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api_under_test")]


def has_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_token_is_issued_for_right_password_and_authenticates(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/jobs/").status_code == 200


def test_token_refused_for_wrong_password_with_chinese_envelope(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"})

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert has_chinese(body["message"])
    assert body["errors"]["non_field_errors"] == [body["message"]]


def test_no_token_is_401_with_code(api_client):
    response = api_client.get("/api/v1/jobs/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert has_chinese(response.json()["message"])


def test_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = api_client.get("/api/v1/jobs/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_list_is_paginated_50_by_default_and_500_at_most(client_for, user):
    Job.objects.bulk_create([Job(kind="k", created_by=user) for _ in range(501)])
    client = client_for(user)

    default = client.get("/api/v1/jobs/").json()
    capped = client.get("/api/v1/jobs/?page_size=1000").json()
    second = client.get("/api/v1/jobs/?page=2&page_size=500").json()

    assert (default["count"], len(default["results"])) == (501, 50)
    assert default["next"].endswith("page=2") and default["previous"] is None
    assert len(capped["results"]) == 500
    assert len(second["results"]) == 1


def test_jobs_of_another_user_are_not_found(client_for, user):
    other_job = JobFactory()

    response = client_for(user).get(f"/api/v1/jobs/{other_job.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_job_list_query_count_is_constant(client_for, user, django_assert_num_queries):
    JobFactory.create_batch(20, created_by=user)
    with django_assert_num_queries(2):  # count + page
        client_for(user).get("/api/v1/jobs/")


def test_conflict_from_a_service_is_409_with_its_code(client_for, superuser):
    response = client_for(superuser).post(URL, {"kind": "conflict"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"code": "slot_taken", "message": "号源已被占用", "errors": {}}
    assert not Job.objects.exists()


def test_django_validation_error_from_a_service_is_400_with_field_errors(client_for, superuser):
    response = client_for(superuser).post(URL, {"kind": "invalid"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "类型不正确", "errors": {"kind": ["类型不正确"]}}


def test_malformed_json_is_400_parse_error(client_for, superuser):
    response = client_for(superuser).post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_body_over_the_limit_is_413_and_writes_nothing(client_for, superuser):
    response = client_for(superuser).post(URL, {"kind": "x" * 2000}, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Job.objects.exists()


def test_role_without_write_permission_gets_403_and_writes_nothing(client_for, user):
    response = client_for(user).post(URL, {"kind": "k"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Job.objects.exists()


def test_rows_outside_the_policy_are_404_not_403(client_for, user, superuser):
    job = JobFactory(created_by=superuser)

    response = client_for(user).patch(f"{URL}{job.pk}/", {"kind": "x"}, format="json")

    # Default-deny policy: a plain user sees no rows, so writing one is refused before lookup.
    assert response.status_code in (403, 404)
    assert client_for(user).get(f"{URL}{job.pk}/").status_code == 404
    job.refresh_from_db()
    assert job.kind == "test"


# --- Idempotency-Key ---------------------------------------------------------------------
def test_same_idempotency_key_and_body_replays_the_first_answer(client_for, superuser):
    client = client_for(superuser)

    first = client.post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    second = client.post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert (first["Idempotent-Replayed"], second["Idempotent-Replayed"]) == ("false", "true")
    assert Job.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_409(client_for, superuser):
    client = client_for(superuser)
    client.post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")

    response = client.post(URL, {"kind": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Job.objects.count() == 1


def test_idempotency_keys_are_per_user(client_for):
    alice, bob = UserFactory(is_superuser=True), UserFactory(is_superuser=True)

    client_for(alice).post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    client_for(bob).post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert Job.objects.count() == 2


def test_idempotency_key_expires_after_24_hours(client_for, superuser):
    from datetime import timedelta

    from django.utils import timezone

    client = client_for(superuser)
    client.post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))

    response = client.post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert response["Idempotent-Replayed"] == "false"
    assert Job.objects.count() == 2


def test_failed_create_does_not_burn_the_key(client_for, superuser):
    client = client_for(superuser)
    client.post(URL, {"kind": "conflict"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")

    assert not IdempotencyKey.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_row(superuser, monkeypatch):
    monkeypatch.setattr(JobUnderTestViewSet, "slow_create_seconds", 0.3)
    barrier, responses = threading.Barrier(2), []

    def send():
        client = APIClient()
        client.force_authenticate(superuser)
        barrier.wait()
        responses.append(client.post(URL, {"kind": "k"}, format="json", HTTP_IDEMPOTENCY_KEY="race"))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert sorted(r["Idempotent-Replayed"] for r in responses) == ["false", "true"]
    assert Job.objects.count() == 1


# --- Schema -------------------------------------------------------------------------------
@pytest.mark.urls("config.urls")
def test_openapi_schema_is_valid(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert "/api/v1/auth/token/" in (tmp_path / "schema.yml").read_text()


@pytest.mark.urls("config.urls")
def test_api_docs_use_local_assets(client, user):
    client.force_login(user)

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()
