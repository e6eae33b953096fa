"""Every way a fetched X item becomes (or does not become) a ticket or a comment."""

from __future__ import annotations

import pytest

from business_rules.models import NoiseRule
from tickets.comments import add_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Comment, Identity, Ticket
from tickets.tests.factories import GroupFactory
from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount

from .intake_helpers import BRAND_ID, FakeX, dm, next_id, tweet

State = IncomingItem.State
ALICE, BOB = "111", "222"


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def x(account):
    fake = FakeX()
    fake.add_user(ALICE, "alice", name="Alice A", followers=120, verified=True)
    fake.add_user(BOB, "bob")
    return fake


def poll(x, account, stream="mentions"):
    result = polling.poll_stream(account.pk, stream, client_factory=x.client_for)
    conversion.convert_pending(account.pk)
    return result


def item(x_id, kind=None):
    qs = IncomingItem.objects.filter(x_id=x_id)
    return (qs.filter(kind=kind) if kind else qs).get()


def test_mention_becomes_ticket_on_channel_x(x, account):
    group = GroupFactory(name="Social")
    account.default_group = group
    account.save()
    t = tweet("@AcmeHelp my order https://t.co/abc is late &amp; wet", ALICE,
              urls=[("https://t.co/abc", "https://shop.example/orders/7")])
    x.mentions.append(t)
    poll(x, account)

    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.X
    assert ticket.x_account == account
    assert ticket.group == group
    assert ticket.subject == "my order https://shop.example/orders/7 is late & wet"
    comment = ticket.comments.get()
    assert comment.body == "@AcmeHelp my order https://shop.example/orders/7 is late & wet"
    assert (comment.external_source, comment.external_id) == ("tweet", t["id"])
    assert comment.author_requester == ticket.requester
    identity = Identity.objects.get(kind="x", value=ALICE)
    assert identity.requester == ticket.requester
    assert (identity.handle, identity.display_name, identity.followers, identity.verified) == ("alice", "Alice A", 120, True)
    stored = item(t["id"])
    assert stored.state == State.TICKETED and stored.ticket == ticket and stored.comment == comment
    assert stored.raw["id"] == t["id"]


def test_identity_profile_is_refreshed_from_newer_items(x, account):
    x.mentions.append(tweet("@AcmeHelp first", ALICE))
    poll(x, account)
    x.add_user(ALICE, "alice_new", name="Alice B", followers=5000)
    x.mentions.append(tweet("@AcmeHelp second", ALICE))
    poll(x, account)
    identity = Identity.objects.get(kind="x", value=ALICE)
    assert (identity.handle, identity.display_name, identity.followers) == ("alice_new", "Alice B", 5000)
    assert Identity.objects.filter(kind="x").count() == 1


def test_reply_in_thread_lands_on_existing_ticket(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    reply = tweet("@AcmeHelp still broken", ALICE, reply_to=root["id"], conversation_id=root["id"])
    x.mentions.append(reply)
    poll(x, account)

    ticket = Ticket.objects.get()
    assert list(ticket.comments.values_list("external_id", flat=True)) == [root["id"], reply["id"]]


def test_third_party_reply_is_a_comment_by_another_requester(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    x.mentions.append(tweet("@alice @AcmeHelp same here", BOB, reply_to=root["id"], conversation_id=root["id"]))
    poll(x, account)

    ticket = Ticket.objects.get()
    alice_req = Identity.objects.get(value=ALICE).requester
    bob_req = Identity.objects.get(value=BOB).requester
    assert ticket.requester == alice_req
    assert [c.author_requester for c in ticket.comments.all()] == [alice_req, bob_req]


def test_reply_to_deleted_parent_falls_back_to_thread_root(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    # The middle post was deleted before we ever saw it; the reply still names the thread.
    reply = tweet("@AcmeHelp hello?", ALICE, reply_to=next_id(), conversation_id=root["id"])
    x.mentions.append(reply)
    poll(x, account)
    assert Ticket.objects.count() == 1
    assert item(reply["id"]).ticket == Ticket.objects.get()


def test_reply_to_solved_ticket_reopens_it(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    ticket = Ticket.objects.get()
    update_ticket(ticket, status=Ticket.Status.SOLVED)
    x.mentions.append(tweet("@AcmeHelp no it is not", ALICE, reply_to=root["id"], conversation_id=root["id"]))
    poll(x, account)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_reply_to_closed_ticket_opens_linked_follow_up(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    closed = Ticket.objects.get()
    Ticket.objects.filter(pk=closed.pk).update(status=Ticket.Status.CLOSED)
    reply = tweet("@AcmeHelp again", ALICE, reply_to=root["id"], conversation_id=root["id"])
    x.mentions.append(reply)
    poll(x, account)
    follow_up = Ticket.objects.exclude(pk=closed.pk).get()
    assert follow_up.follow_up_of == closed
    assert item(reply["id"]).ticket == follow_up


def test_dm_conversation_is_one_ticket(x, account):
    conv = f"{ALICE}-{BRAND_ID}"
    first, second = dm("hi, my card was charged twice", ALICE, conv), dm("order 42", ALICE, conv)
    x.dm_events += [first, second]
    poll(x, account, "dms")
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.X_DM
    assert ticket.subject == "hi, my card was charged twice"
    assert list(ticket.comments.values_list("external_source", "external_id")) == [("dm", first["id"]), ("dm", second["id"])]
    x.dm_events.append(dm("any news?", ALICE, conv))
    poll(x, account, "dms")
    assert Ticket.objects.count() == 1
    assert ticket.comments.count() == 3


def test_group_dm_is_stored_but_never_ticketed(x, account):
    event = dm("hi all", ALICE, "1585800614365339648", participants=(ALICE, BOB, BRAND_ID))
    x.dm_events.append(event)
    poll(x, account, "dms")
    assert Ticket.objects.count() == 0
    assert item(event["id"]).state == State.GROUP_DM


def test_like_by_brand_becomes_ticket_from_liked_post(x, account):
    liked = tweet("I love the new app", ALICE, mentions=())
    x.likes.append(liked)
    poll(x, account, "likes")
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.X_LIKE
    assert ticket.requester == Identity.objects.get(value=ALICE).requester
    assert ticket.comments.get().external_id == liked["id"]


def test_like_of_post_already_on_ticket_adds_nothing(x, account):
    mention = tweet("@AcmeHelp thanks!", ALICE)
    x.mentions.append(mention)
    poll(x, account)
    x.likes.append(mention)
    poll(x, account, "likes")
    assert Ticket.objects.count() == 1
    like = item(mention["id"], IncomingItem.Kind.LIKE)
    assert like.state == State.TICKETED and like.ticket == Ticket.objects.get()


def test_own_tweet_becomes_agent_comment_not_ticket(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    own = tweet("@alice sorry, DM us", BRAND_ID, reply_to=root["id"], conversation_id=root["id"], mentions=("alice",))
    x.mentions.append(own)
    poll(x, account)
    ticket = Ticket.objects.get()
    comment = ticket.comments.get(external_id=own["id"])
    assert comment.author_requester is None and comment.is_public
    stored = item(own["id"])
    assert stored.kind == IncomingItem.Kind.OWN_TWEET and stored.state == State.OWN and stored.ticket == ticket


def test_own_tweet_outside_any_ticket_creates_nothing(x, account):
    own = tweet("Big launch today!", BRAND_ID, mentions=())
    x.mentions.append(own)
    poll(x, account)
    assert Ticket.objects.count() == 0
    assert item(own["id"]).state == State.OWN


def test_echo_of_helpdesk_reply_is_not_imported_twice(x, account):
    root = tweet("@AcmeHelp broken", ALICE)
    x.mentions.append(root)
    poll(x, account)
    ticket = Ticket.objects.get()
    # The reply sender records the posted tweet's id on the agent's comment.
    posted_id = next_id()
    sent = add_comment(ticket, body="We are on it", external_source="tweet", external_id=posted_id)
    x.mentions.append(tweet("@alice We are on it", BRAND_ID, id=posted_id, reply_to=root["id"],
                            conversation_id=root["id"], mentions=("alice",)))
    poll(x, account)
    assert ticket.comments.count() == 2
    echo = item(posted_id)
    assert echo.state == State.OWN and echo.comment == sent


def test_own_dm_echo_recognised_and_own_dm_added(x, account):
    conv = f"{ALICE}-{BRAND_ID}"
    x.dm_events.append(dm("help", ALICE, conv))
    poll(x, account, "dms")
    ticket = Ticket.objects.get()
    echoed = dm("sent from the helpdesk", BRAND_ID, conv)
    add_comment(ticket, body="sent from the helpdesk", external_source="dm", external_id=echoed["id"])
    typed_on_x = dm("typed in the X app", BRAND_ID, conv)
    x.dm_events += [echoed, typed_on_x]
    poll(x, account, "dms")
    assert ticket.comments.count() == 3
    assert Ticket.objects.count() == 1
    assert item(typed_on_x["id"]).state == State.OWN


def test_retweet_ignored_when_account_ignores_retweets(x, account):
    rt = tweet("RT @alice: @AcmeHelp rocks", BOB, retweet_of=next_id())
    x.mentions.append(rt)
    poll(x, account)
    assert Ticket.objects.count() == 0
    assert item(rt["id"]).state == State.RETWEET


def test_retweet_ticketed_when_account_keeps_retweets(x, account):
    account.ignore_retweets = False
    account.save()
    x.mentions.append(tweet("RT @alice: @AcmeHelp rocks", BOB, retweet_of=next_id()))
    poll(x, account)
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(("stream", "toggle"), [("mentions", "capture_mentions"), ("dms", "capture_dms"),
                                                 ("likes", "capture_likes")])
def test_capture_off_stores_item_as_not_captured(x, account, stream, toggle):
    setattr(account, toggle, False)
    account.save()
    x.mentions.append(tweet("@AcmeHelp hi", ALICE))
    x.dm_events.append(dm("hi", ALICE, f"{ALICE}-{BRAND_ID}"))
    x.likes.append(tweet("nice", BOB, mentions=()))
    poll(x, account, stream)
    assert Ticket.objects.count() == 0
    assert IncomingItem.objects.get().state == State.NOT_CAPTURED


def test_noise_rule_leaves_item_ignored_with_rule(x, account):
    rule = NoiseRule.objects.create(name="No spam", ignore_keywords="crypto giveaway")
    t = tweet("@AcmeHelp free crypto giveaway", ALICE)
    x.mentions.append(t)
    poll(x, account)
    assert Ticket.objects.count() == 0
    stored = item(t["id"])
    assert stored.state == State.IGNORED
    assert stored.ignored_by_rule_id == rule.pk and "No spam" in stored.state_reason


def test_malformed_item_is_quarantined_and_does_not_block_the_rest(x, account):
    good = tweet("@AcmeHelp fine one", ALICE)
    x.mentions.append(good)
    x.malformed.append({"id": next_id(), "text": "no author"})
    poll(x, account)
    assert Ticket.objects.count() == 1
    bad = IncomingItem.objects.get(state=State.QUARANTINED)
    assert "author_id" in bad.state_reason
    assert item(good["id"]).state == State.TICKETED


def test_conversion_error_quarantines_only_that_item(x, account, monkeypatch):
    one, two = tweet("@AcmeHelp boom", ALICE), tweet("@AcmeHelp fine", BOB)
    x.mentions += [one, two]
    real = conversion.requester_for

    def failing(item):
        if item.x_id == one["id"]:
            raise RuntimeError("database said no")
        return real(item)

    monkeypatch.setattr(conversion, "requester_for", failing)
    poll(x, account)
    assert item(one["id"]).state == State.QUARANTINED
    assert "database said no" in item(one["id"]).state_reason
    assert item(two["id"]).state == State.TICKETED
    assert Ticket.objects.count() == 1


def test_retry_converts_a_quarantined_item_once_the_cause_is_gone(x, account, monkeypatch):
    t = tweet("@AcmeHelp boom", ALICE)
    x.mentions.append(t)
    monkeypatch.setattr(conversion, "requester_for", lambda item: (_ for _ in ()).throw(RuntimeError("down")))
    poll(x, account)
    assert item(t["id"]).state == State.QUARANTINED
    monkeypatch.undo()
    assert conversion.retry_quarantined(item(t["id"])) == State.TICKETED
    assert Ticket.objects.count() == 1


def test_retry_of_unparseable_item_keeps_it_quarantined(x, account):
    x.malformed.append({"id": next_id(), "text": "no author"})
    poll(x, account)
    bad = IncomingItem.objects.get()
    assert conversion.retry_quarantined(bad) == State.QUARANTINED
    bad.refresh_from_db()
    assert bad.attempts == 1 and "author_id" in bad.state_reason


def test_converting_twice_changes_nothing(x, account):
    x.mentions.append(tweet("@AcmeHelp hi", ALICE))
    poll(x, account)
    stored = IncomingItem.objects.get()
    assert conversion.convert_item_by_id(stored.pk) is None
    assert Ticket.objects.count() == 1 and Comment.objects.count() == 1


def test_mention_of_two_brand_accounts_makes_one_ticket(x, account):
    other = XAccount.objects.create(user_id="900000000000000002", username="AcmeShop", access_token="t2")
    t = tweet("@AcmeHelp @AcmeShop where is it", ALICE)
    x.mentions.append(t)
    poll(x, account)
    polling.poll_stream(other.pk, "mentions", client_factory=x.client_for)
    conversion.convert_pending(other.pk)
    assert Ticket.objects.count() == 1
    assert IncomingItem.objects.filter(x_id=t["id"], state=State.TICKETED).count() == 2
