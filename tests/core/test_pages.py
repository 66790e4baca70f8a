"""Pages of the foundation: login and logout in Chinese, home, navigation by role, admin."""

import pytest
from django.urls import reverse

from tests.core.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_chinese_by_default(client):
    html = client.get(reverse("login")).content.decode()

    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "用户名" in html and "密码" in html


def test_wrong_password_shows_a_chinese_message(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": "nope"})

    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_right_password_leads_home(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "<h1>首页</h1>" in html
    assert "欢迎" in html


def test_logout_is_a_post_and_ends_the_session(client, user):
    client.force_login(user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_navigation_shows_the_admin_only_to_staff(client):
    clerk, staff = UserFactory(), UserFactory(is_staff=True)

    client.force_login(clerk)
    clerk_html = client.get("/").content.decode()
    client.force_login(staff)
    staff_html = client.get("/").content.decode()

    assert 'href="/admin/"' not in clerk_html
    assert 'href="/admin/"' in staff_html
    assert 'href="/api/docs/"' in clerk_html


def test_english_is_available_as_second_language(client, user):
    client.force_login(user)

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get("/").content.decode()

    assert "<h1>Home</h1>" in html


def test_admin_is_chinese_for_staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    html = client.get("/admin/").content.decode()

    assert "站点管理" in html or "医共体" in html


def test_vendored_echarts_is_served_locally(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/echarts/echarts.min.js")
    assert finders.find("vendor/echarts/LICENSE")
    assert finders.find("django_htmx/htmx-2.min.js")
