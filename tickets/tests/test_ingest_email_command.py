import io
import sys

import pytest
from django.core.management import CommandError, call_command

from tickets.mail.models import InboundEmail
from tickets.mail.testing import build_email
from tickets.models import Comment, Requester, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def maildir(tmp_path):
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def deliver(maildir, name, raw):
    (maildir / "new" / name).write_bytes(raw)


def test_message_on_stdin_is_ingested(monkeypatch):
    raw = build_email(subject="From the MTA pipe")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("ingest_email", stdout=out)
    ticket = Ticket.objects.get()
    assert ticket.subject == "From the MTA pipe"
    assert out.getvalue().strip() == f"new_ticket ticket #{ticket.pk}"


def test_empty_stdin_is_an_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(CommandError, match="No message"):
        call_command("ingest_email")


def test_maildir_new_messages_are_ingested_and_moved_to_cur(maildir):
    deliver(maildir, "1700000001.M1.host", build_email(subject="First"))
    deliver(maildir, "1700000002.M2.host", build_email(subject="Second"))
    call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["First", "Second"]
    assert list((maildir / "new").iterdir()) == []
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == [
        "1700000001.M1.host:2,S",
        "1700000002.M2.host:2,S",
    ]


def test_second_maildir_run_takes_only_new_mail(maildir):
    deliver(maildir, "1.M1.host", build_email(subject="First"))
    call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
    deliver(maildir, "2.M2.host", build_email(subject="Second"))
    call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
    assert Ticket.objects.count() == 2
    assert Comment.objects.count() == 2


def test_same_message_delivered_twice_to_the_maildir_makes_one_comment(maildir):
    raw = build_email(message_id="<twice@example.com>")
    deliver(maildir, "1.M1.host", raw)
    deliver(maildir, "2.M2.host", raw)
    call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
    assert Comment.objects.count() == 1
    assert len(list((maildir / "cur").iterdir())) == 2


def test_failing_message_stays_in_new_and_the_others_go_through(maildir, monkeypatch):
    from tickets.management.commands import ingest_email as command

    real = command.ingest_email

    def flaky(raw):
        if b"Poison" in raw:
            raise ValueError("cannot handle this one")
        return real(raw)

    monkeypatch.setattr(command, "ingest_email", flaky)
    deliver(maildir, "1.M1.host", build_email(subject="Poison"))
    deliver(maildir, "2.M2.host", build_email(subject="Fine"))
    with pytest.raises(CommandError, match="1 message"):
        call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO(), stderr=io.StringIO())
    assert [p.name for p in (maildir / "new").iterdir()] == ["1.M1.host"]
    assert Ticket.objects.get().subject == "Fine"


def test_folder_that_is_not_a_maildir_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="not a Maildir"):
        call_command("ingest_email", "--maildir", str(tmp_path))


# --- Poison mail: kept, never half-written, never blocking the Maildir -------------------------


def test_mail_without_from_on_stdin_is_quarantined_with_a_clear_error(monkeypatch):
    raw = b"To: support@helpdesk.localhost\r\nSubject: Who am I\r\nMessage-ID: <nofrom@example.com>\r\n\r\nHi\r\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))

    with pytest.raises(CommandError, match="quarantined: The message has no sender address") as raised:
        call_command("ingest_email", stdout=io.StringIO())

    assert raised.value.returncode == 65  # EX_DATAERR: the MTA bounces it instead of retrying forever
    assert not Requester.objects.exists() and not Ticket.objects.exists()
    assert InboundEmail.objects.get().outcome == "quarantined"


def test_poison_messages_do_not_stop_a_maildir_run(maildir):
    deliver(maildir, "1.M1.host", build_email(subject="Nul\x00 subject"))
    deliver(maildir, "2.M2.host", build_email(sender=f"<{'a' * 300}@example.com>"))
    deliver(maildir, "3.M3.host", b"Subject: no sender\r\n\r\nHi\r\n")
    deliver(maildir, "4.M4.host", build_email(subject="Fine"))

    with pytest.raises(CommandError, match="2 message\\(s\\) quarantined"):
        call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO(), stderr=io.StringIO())

    assert list((maildir / "new").iterdir()) == []
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Fine", "Nul subject"]
    assert InboundEmail.objects.filter(outcome="quarantined").count() == 2
    # The next run has nothing left to trip on.
    call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
