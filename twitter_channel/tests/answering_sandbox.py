"""A real X sandbox over HTTP for the answering tests, with a brand account connected to it
and a customer who wrote to the brand. Import the fixtures into a test module to use them."""

from __future__ import annotations

import pytest

from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.x import api as x_api
from xsandbox.testing import running_sandbox


@pytest.fixture(scope="module")
def sandbox_server():
    with running_sandbox() as sb:
        yield sb


@pytest.fixture
def sb(sandbox_server, settings):
    sandbox_server.reset()
    x_api.forget_vocabularies()
    settings.X_API_BASE_URL = sandbox_server.base_url
    settings.X_SEND_TIMEOUT_SECONDS = 3.0
    yield sandbox_server
    x_api.forget_vocabularies()


@pytest.fixture
def brand(sb, db) -> XAccount:
    user = sb.create_user("AcmeHelp", name="Acme Help", brand=True)
    token = sb.mint_token(user["id"])["access_token"]
    return XAccount.objects.create(user_id=user["id"], username="AcmeHelp", display_name="Acme Help",
                                   access_token=token)


@pytest.fixture
def alice(sb) -> dict:
    return sb.create_user("alice", name="Alice")


def poll(account: XAccount, stream: str = "mentions") -> list[IncomingItem]:
    """Poll one stream of the account from the sandbox and convert what came in, as the
    intake's tasks do; returns the items stored by this poll."""
    before = set(IncomingItem.objects.values_list("pk", flat=True))
    result = polling.poll_stream(account.pk, stream)
    assert result.outcome == "ok", result
    conversion.convert_pending()
    return list(IncomingItem.objects.exclude(pk__in=before).order_by("pk"))
