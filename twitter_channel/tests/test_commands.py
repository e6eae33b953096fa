"""`manage.py x_account` and `manage.py x_poll --once`, the latter against the sandbox over HTTP."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tickets.models import Ticket
from twitter_channel.models import IncomingItem, StreamCursor, XAccount
from xsandbox.testing import running_sandbox


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_x_account_add_list_remove(db):
    out = run("x_account", "add", "--user-id", "123", "--username", "@AcmeHelp", "--access-token", "tok-secret",
              "--refresh-token", "ref-secret")
    assert "Added @AcmeHelp" in out
    account = XAccount.objects.get()
    assert (account.username, account.access_token, account.refresh_token) == ("AcmeHelp", "tok-secret", "ref-secret")
    assert StreamCursor.objects.filter(account=account).count() == 3

    listing = run("x_account", "list")
    assert "@AcmeHelp (X user 123): active" in listing and "mentions: last success never" in listing
    assert "tok-secret" not in listing

    assert "Updated" in run("x_account", "add", "--user-id", "123", "--username", "AcmeHelp", "--access-token", "t2")
    assert XAccount.objects.count() == 1

    assert "Removed @AcmeHelp" in run("x_account", "remove", "acmehelp")
    assert XAccount.objects.count() == 0


def test_x_account_rejects_bad_input(db):
    with pytest.raises(CommandError):
        run("x_account", "add", "--user-id", "abc", "--username", "x", "--access-token", "t")
    with pytest.raises(CommandError):
        run("x_account", "remove", "nobody")


@pytest.mark.parametrize(
    "args, error",
    [
        (["--user-id", "\u0661\u0662\u0663"], "numeric user id"),  # Arabic-Indic digits: isdigit() says yes
        (["--user-id", "1" * 40], "numeric user id"),
        (["--user-id", "18446744073709551616"], "numeric user id"),  # 2**64
        (["--user-id", ""], "numeric user id"),
        (["--access-token", ""], "--access-token must not be empty"),
        (["--access-token", "   "], "--access-token must not be empty"),
        (["--access-token", "tok\x00en"], "printable"),
        (["--username", ""], "X username"),
        (["--username", "a" * 16], "X username"),
        (["--username", "acme support"], "X username"),
        (["--display-name", "x" * 201], "display-name"),
    ],
)
def test_x_account_add_refuses_bad_input_with_a_clear_error_and_writes_nothing(db, args, error):
    given = {"--user-id": "123", "--username": "AcmeHelp", "--access-token": "tok"}
    given.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [part for pair in given.items() for part in pair]

    with pytest.raises(CommandError, match=error):
        run("x_account", "add", *argv)

    assert not XAccount.objects.exists() and not StreamCursor.objects.exists()


@pytest.mark.parametrize("name", ["", "@", "acme\x00help", "a" * 300])
def test_commands_naming_an_account_refuse_names_no_account_can_have(db, name):
    with pytest.raises(CommandError, match="No X account named"):
        run("x_account", "remove", name)
    with pytest.raises(CommandError, match="No active X account named"):
        run("x_poll", "--once", "--account", name)


def test_x_account_add_refuses_a_username_another_account_has(db):
    run("x_account", "add", "--user-id", "123", "--username", "AcmeHelp", "--access-token", "t")
    with pytest.raises(CommandError, match="already X user 123"):
        run("x_account", "add", "--user-id", "456", "--username", "acmehelp", "--access-token", "t")
    assert XAccount.objects.get().user_id == "123"


def test_largest_x_id_is_accepted(db):
    run("x_account", "add", "--user-id", str(2**64 - 1), "--username", "AcmeHelp", "--access-token", "t")
    assert XAccount.objects.get().user_id == "18446744073709551615"


@pytest.mark.parametrize("option, value", [("--read-timeout", "0"), ("--backoff-base", "-1"), ("--max-seconds", "nan")])
def test_x_stream_refuses_seconds_that_are_not_positive(db, option, value):
    with pytest.raises(CommandError, match="invalid seconds value"):
        run("x_stream", option, value, "--exit-when-idle")


@pytest.fixture
def sandbox(settings):
    with running_sandbox() as sb:
        settings.X_API_BASE_URL = sb.base_url
        yield sb


def test_x_poll_once_turns_a_mention_into_a_ticket(db, sandbox):
    brand = sandbox.create_user("AcmeSupport", brand=True)
    alice = sandbox.create_user("alice")
    token = sandbox.mint_token(brand["id"])["access_token"]
    # The `=` form: a minted token may start with "-", which argparse would read as an option.
    run("x_account", "add", "--user-id", brand["id"], "--username", "AcmeSupport", f"--access-token={token}")
    sandbox.post_tweet(alice["id"], "@AcmeSupport my parcel is lost")

    out = run("x_poll", "--once")
    assert "@AcmeSupport mentions: ok, 1 page(s), 1 fetched, 1 new" in out
    assert "1 item(s) converted" in out
    assert Ticket.objects.get().subject == "my parcel is lost"
    assert "0 new" in run("x_poll", "--once", "--account", "AcmeSupport", "--stream", "mentions")


def test_x_poll_once_reports_rate_limit_and_server_errors(db, sandbox):
    brand = sandbox.create_user("AcmeSupport", brand=True)
    token = sandbox.mint_token(brand["id"])["access_token"]
    run("x_account", "add", "--user-id", brand["id"], "--username", "AcmeSupport", f"--access-token={token}")
    sandbox.set_rate_limit("GET /2/users/:id/mentions", 1)
    sandbox.add_fault("GET /2/dm_events", "status_503")
    run("x_poll", "--once", "--stream", "mentions")
    out = run("x_poll", "--once")
    assert "mentions: rate_limited" in out
    assert "dms: failed (X is unavailable" in out
    assert "likes: ok" in out
    assert IncomingItem.objects.count() == 0
