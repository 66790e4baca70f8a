"""The API speaks Chinese and refuses what it cannot trust (issue 13 point 3): a body that is not
JSON or not UTF-8 gets a Chinese message saying where; the token endpoint throttles guesses."""

import pytest
from django.core.cache import cache

from tests.core.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def test_a_body_that_is_not_json_gets_a_chinese_message_with_its_place(api_client):
    response = api_client.post(
        TOKEN, data='{"username": "a",\n "password": }', content_type="application/json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["message"] == "请求内容不是有效的 JSON（第 2 行第 14 列）：请检查引号、逗号和括号。"


def test_a_body_that_is_not_utf8_gets_a_chinese_message(api_client):
    body = '{"username": "张三"}'.encode("gb18030")

    response = api_client.post(TOKEN, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"] == "请求内容不是 UTF-8 文本（第 15 个字节）；请以 UTF-8 编码发送 JSON。"


def test_nan_is_not_json(api_client):
    response = api_client.post(TOKEN, data='{"username": NaN}', content_type="application/json")

    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_thirty_wrong_passwords_are_throttled_with_429(api_client):
    cache.clear()
    user = UserFactory(username="guessed")
    answers = [
        api_client.post(TOKEN, {"username": "guessed", "password": f"wrong{n}"}, format="json").status_code
        for n in range(30)
    ]

    assert answers[:10] == [400] * 10 and set(answers[10:]) == {429}
    refused = api_client.post(TOKEN, {"username": user.username, "password": PASSWORD}, format="json")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled" and "秒" in refused.json()["message"]
    other = api_client.post(TOKEN, {"username": UserFactory().username, "password": PASSWORD}, format="json")
    assert other.status_code == 200 and other.json()["token"]  # another account is not locked out
    cache.clear()
