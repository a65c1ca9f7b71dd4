"""Shared fixtures. One embedded stack per test process (moto server + API over HTTP + emulator);
tests isolate themselves by signing up their own tenants, exactly as real tenants are isolated."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers import ApiClient


@pytest.fixture(scope="session")
def stack() -> Iterator["LocalStack"]:  # noqa: F821
    from devstack.stack import LocalStack, free_port

    os.environ["LINLI_STAGE"] = "local"  # the only stage with local providers (devstack adds LINLI_LISTEN)
    os.environ["LINLI_PASSWORD_HASH_PROFILE"] = "fast"  # argon2id at a test cost; the profile is unit-tested
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    instance = LocalStack(http_port=free_port(), aws_port=free_port(), table_name=f"linli-test-{uuid.uuid4().hex[:6]}")
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def api(stack) -> ApiClient:
    return ApiClient(stack.api_url)


@pytest.fixture
def tenant(api: ApiClient):
    """A freshly signed-up tenant with its admin signed in."""
    return api.new_tenant()


@pytest.fixture
def other_tenant(api: ApiClient):
    return api.new_tenant()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest test — a whole estate's import, on a stack of its own — is handed out first, so the rest of the
    suite runs beside it instead of after it (every xdist worker sorts the same way: the order stays identical)."""
    items.sort(key=lambda item: item.get_closest_marker("scale") is None)
