"""Real-browser tests: pytest-playwright driving Debian's /usr/bin/chromium (never a download)
against Django's live_server, in a Chinese browser. A failing test leaves a screenshot in
test-results/ (pytest-playwright's --screenshot=only-on-failure, set in pyproject.toml)."""

import os

import pytest

from tests.conftest import CHROMIUM

# Django's live_server with Playwright's sync API needs this (TOOLING.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
