"""Converting a batch with what was looked up once for it: stored comments by id, requesters."""

from __future__ import annotations

import pytest

from tickets.models import Comment, Ticket
from twitter_channel import conversion, polling
from twitter_channel.models import IncomingItem, XAccount

from .intake_helpers import BRAND_ID, FakeX, tweet

State = IncomingItem.State
ALICE = "111"


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def x(account):
    fake = FakeX()
    fake.add_user(ALICE, "alice", name="Alice A")
    for n in range(5):
        fake.add_user(str(500 + n), f"customer{n}")
    return fake


def store(x, account, *streams):
    for stream in streams:
        polling.poll_stream(account.pk, stream, client_factory=x.client_for)


def test_mention_and_like_of_one_post_in_one_batch_make_one_ticket(x, account):
    post = tweet("@AcmeHelp the app crashes", ALICE)
    x.mentions.append(post)
    x.likes.append(post)
    store(x, account, "mentions", "likes")

    conversion.convert_pending(account.pk)

    ticket = Ticket.objects.get()
    assert ticket.comments.count() == 1 and ticket.comment_count == 1
    like = IncomingItem.objects.get(kind=IncomingItem.Kind.LIKE)
    assert like.state == State.TICKETED and like.ticket == ticket
    assert like.state_reason == "Already on a ticket"


def test_post_stored_as_comment_after_the_batch_looked_links_instead_of_quarantining(x, account, monkeypatch):
    # A parallel converter (the same post fetched as a like) stores the comment between the
    # batch's lookup and this item's turn; the unique constraint catches it.
    post = tweet("@AcmeHelp the app crashes", ALICE)
    x.likes.append(post)
    store(x, account, "likes")
    conversion.convert_pending(account.pk)
    x.mentions.append(post)
    store(x, account, "mentions")
    monkeypatch.setattr(conversion, "stored_comments", lambda items: {
        (source, i.x_id): None for i in items for source in (Comment.Source.TWEET, Comment.Source.DM)
    })

    conversion.convert_pending(account.pk)

    mention = IncomingItem.objects.get(kind=IncomingItem.Kind.MENTION)
    assert mention.state == State.TICKETED
    assert mention.ticket == Ticket.objects.get()
    assert Comment.objects.count() == 1


def test_new_mentions_cost_a_few_queries_each(x, account, django_assert_max_num_queries, noise_rules_version_read_once):
    # Authors already known, as during a burst from regular customers.
    x.mentions.extend(tweet(f"@AcmeHelp hello {n}", str(500 + n % 5)) for n in range(5))
    store(x, account, "mentions")
    conversion.convert_pending(account.pk)
    x.mentions.extend(tweet(f"@AcmeHelp burst {n}", str(500 + n % 5)) for n in range(40))
    store(x, account, "mentions")

    # Per item: savepoint, ticket INSERT, comment INSERT, release, item UPDATE; per batch a handful.
    with django_assert_max_num_queries(40 * 5 + 10):
        stats = conversion.convert_pending(account.pk)

    assert stats.converted == 40
    assert Ticket.objects.filter(comment_count=1).count() == 45
