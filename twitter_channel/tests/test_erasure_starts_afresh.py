"""After a requester is erased, what they do later on X starts afresh: a reply in their old
conversation (to their own post or to the brand's answer), a DM in the same DM
conversation, the brand liking their old post: each opens a new ticket for a new requester,
none joins or follows up the old, anonymised ticket. (Email: tickets/tests/test_erasure_starts_afresh.py.)"""

from __future__ import annotations

import pytest

from tickets.comments import add_comment
from tickets.models import Comment, Identity, Ticket
from tickets.privacy import erase_requester
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount

from .intake_helpers import BRAND_ID, FakeX, dm, next_id, tweet

ZELDA = "4242"
DM_CONVERSATION = f"{ZELDA}-{BRAND_ID}"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def x(account):
    fake = FakeX()
    fake.add_user(ZELDA, "zquokka77", name="Zelda Quokkaface")
    return fake


def poll(x, account, stream="mentions"):
    polling.poll_stream(account.pk, stream, client_factory=x.client_for)
    conversion.convert_pending(account.pk)


@pytest.fixture
def erased(x, account):
    """Zelda posted, the brand answered on X (its reply stored with its post id, as sending
    does), she DMed; then she was erased. Returns her old tickets, post ids and the brand's."""
    first = tweet("@AcmeHelp my parcel is late", ZELDA)
    x.mentions.append(first)
    poll(x, account)
    x.dm_events.append(dm("order 55", ZELDA, DM_CONVERSATION))
    poll(x, account, "dms")
    requester = Identity.objects.get(kind="x", value=ZELDA).requester
    post_ticket = Ticket.objects.get(comments__external_id=first["id"])
    brand_reply = next_id()
    add_comment(post_ticket, body="@zquokka77 sorry, looking into it", author_user=UserFactory(),
                external_source=Comment.Source.TWEET, external_id=brand_reply)
    old = set(requester.tickets.values_list("pk", flat=True))
    assert len(old) == 2
    erase_requester(requester, by=AdminFactory())
    return {"tickets": old, "requester": requester.pk, "post": first["id"], "brand_reply": brand_reply}


def assert_started_afresh(erased, text: str) -> Ticket:
    comment = Comment.objects.select_related("ticket").get(body=text)
    ticket = comment.ticket
    assert ticket.pk not in erased["tickets"]
    assert ticket.follow_up_of_id is None
    assert ticket.requester_id != erased["requester"]
    assert Identity.objects.get(kind="x", value=ZELDA).requester_id == ticket.requester_id
    assert not Comment.objects.filter(ticket_id__in=erased["tickets"], body=text).exists()
    return ticket


def test_a_reply_to_their_old_post_opens_a_new_ticket(erased, x, account):
    x.mentions.append(tweet("@AcmeHelp still late!", ZELDA, reply_to=erased["post"], conversation_id=erased["post"]))
    poll(x, account)
    assert_started_afresh(erased, "@AcmeHelp still late!")


def test_a_reply_to_the_brands_old_answer_opens_a_new_ticket(erased, x, account):
    x.mentions.append(tweet("@AcmeHelp thanks, it came", ZELDA, reply_to=erased["brand_reply"],
                            conversation_id=erased["post"]))
    poll(x, account)
    assert_started_afresh(erased, "@AcmeHelp thanks, it came")


def test_a_dm_in_the_same_conversation_opens_a_new_ticket(erased, x, account):
    x.dm_events.append(dm("hello again", ZELDA, DM_CONVERSATION))
    poll(x, account, "dms")
    assert_started_afresh(erased, "hello again")


def test_the_brand_liking_their_old_post_does_not_bring_it_back_to_the_old_ticket(erased, x, account):
    account.capture_likes = True
    account.save(update_fields=["capture_likes"])
    x.likes.append(next(t for t in x.mentions if t["id"] == erased["post"]))
    poll(x, account, "likes")
    like = IncomingItem.objects.get(kind=IncomingItem.Kind.LIKE)
    assert like.ticket_id not in erased["tickets"]
    assert_started_afresh(erased, "@AcmeHelp my parcel is late")


def test_the_old_tickets_keep_no_post_or_dm_ids(erased):
    assert not Comment.objects.filter(ticket_id__in=erased["tickets"]).exclude(external_id=None).exists()
