"""Converting a batch with what was looked up once for it: stored comments by id, requesters."""

from __future__ import annotations

import pytest

from tickets.models import Comment, Ticket
from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount

from .intake_helpers import BRAND_ID, FakeX, dm, tweet

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


def test_new_mentions_cost_a_few_queries_per_batch(x, account, django_assert_max_num_queries,
                                                   noise_rules_version_read_once):
    # Authors already known, as during a burst from regular customers.
    x.mentions.extend(tweet(f"@AcmeHelp hello {n}", str(500 + n % 5)) for n in range(5))
    store(x, account, "mentions")
    conversion.convert_pending(account.pk)
    x.mentions.extend(tweet(f"@AcmeHelp burst {n}", str(500 + n % 5)) for n in range(40))
    store(x, account, "mentions")

    # Per batch: the requesters, the claim, the stored comments, the deletions, two INSERTs
    # (tickets, comments), one UPDATE of the items, and the next (empty) round; nothing per
    # item. 7 of the 18 are SAVEPOINT/RELEASE, a test's stand-ins for BEGIN and COMMIT.
    with django_assert_max_num_queries(18):
        stats = conversion.convert_pending(account.pk)

    assert stats.converted == 40
    assert Ticket.objects.filter(comment_count=1).count() == 45


def converting_costs(x, account, n: int, django_capture_on_commit_callbacks) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = len(x.mentions)
    for i in range(n):
        author = str(10_000 + first + i)  # never seen before: a requester and an identity each
        x.add_user(author, f"newcomer{first + i}")
        x.mentions.append(tweet(f"@AcmeHelp burst {first + i}", author))
    store(x, account, "mentions")
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        stats = conversion.convert_pending(account.pk)
    assert stats.converted == n
    return len(queries)


@pytest.mark.parametrize("looked_ahead", [True, False], ids=["looked-ahead", "stored-after-the-look-ahead"])
def test_a_burst_of_new_people_costs_the_same_queries_for_ten_and_for_a_hundred(
        x, account, django_capture_on_commit_callbacks, noise_rules_version_read_once, monkeypatch, looked_ahead):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite (development) saves items with bulk_update, in chunks of its variable limit")
    if not looked_ahead:
        # Items stored after the look-ahead read the pending ones (a push worker storing while
        # this one converts): their authors are prepared with the claim, set-based, not looked
        # up and opened one by one.
        monkeypatch.setattr(conversion, "requesters_ahead", lambda pending, size: {} if pending.exists() else None)
    # Everything included: the people created, the tickets, the items, and what listens to new
    # tickets after commit (SLA clocks, triggers, live events, dashboard rollups).
    converting_costs(x, account, 1, django_capture_on_commit_callbacks)  # the rules' caches filled
    ten = converting_costs(x, account, 10, django_capture_on_commit_callbacks)
    hundred = converting_costs(x, account, 100, django_capture_on_commit_callbacks)
    assert hundred == ten
    assert Ticket.objects.count() == 111
    assert Ticket.objects.values("requester").distinct().count() == 111


def test_a_reply_in_the_same_batch_joins_the_ticket_its_thread_opened(x, account):
    root = tweet("@AcmeHelp my order is late", ALICE)
    answer = tweet("@AcmeHelp any news?", "500", reply_to=root["id"], conversation_id=root["id"])
    x.mentions.extend([root, answer])
    store(x, account, "mentions")

    conversion.convert_pending(account.pk)

    ticket = Ticket.objects.get()
    assert ticket.comment_count == 2
    assert list(IncomingItem.objects.values_list("state", "ticket")) == [(State.TICKETED, ticket.pk)] * 2


def test_dms_of_one_conversation_in_one_batch_make_one_ticket(x, account):
    x.dm_events.extend([dm("hello", ALICE, "c-1"), dm("are you there?", ALICE, "c-1"), dm("hi", "500", "c-2")])
    store(x, account, "dms")

    conversion.convert_pending(account.pk)

    assert sorted(Ticket.objects.values_list("comment_count", flat=True)) == [1, 2]
    assert not IncomingItem.objects.filter(state=State.NEW).exists()


def test_a_dm_joins_the_ticket_its_conversation_already_has(x, account):
    x.dm_events.append(dm("hello", ALICE, "c-1"))
    store(x, account, "dms")
    conversion.convert_pending(account.pk)
    x.dm_events.append(dm("still there?", ALICE, "c-1"))
    store(x, account, "dms")

    conversion.convert_pending(account.pk)

    assert Ticket.objects.get().comment_count == 2


def test_items_left_aside_are_decided_in_the_batch(x, account):
    account.capture_likes = False
    account.save()
    x.mentions.append(tweet("RT @AcmeHelp news", ALICE, retweet_of="42"))
    x.likes.append(tweet("nice", "500"))
    store(x, account, "mentions", "likes")

    conversion.convert_pending(account.pk)

    assert sorted(IncomingItem.objects.values_list("state", flat=True)) == [State.NOT_CAPTURED, State.RETWEET]
    assert not Ticket.objects.exists()


def test_converting_reads_no_account_token(x, account, monkeypatch, django_capture_on_commit_callbacks):
    # A token read is a token decrypted (Fernet): once per item, when each item brought its
    # account along, and again in the dashboard's count of the new tickets' intake lag.
    from twitter_channel import crypto

    root = tweet("@AcmeHelp my order is late", ALICE)
    x.mentions.extend([root, tweet("@AcmeHelp any news?", "500", reply_to=root["id"], conversation_id=root["id"]),
                       tweet("@AcmeHelp hello", "501")])
    store(x, account, "mentions")
    decrypted = []
    decrypt = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda value: decrypted.append(value) or decrypt(value))

    with django_capture_on_commit_callbacks(execute=True):
        conversion.convert_pending(account.pk)

    assert Ticket.objects.count() == 2 and not IncomingItem.objects.filter(state=State.NEW).exists()
    assert decrypted == []


def replying_costs(x, account, n: int, django_capture_on_commit_callbacks) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    roots = [tweet(f"@AcmeHelp where is order {i}?", str(500 + i % 5)) for i in range(n)]
    x.mentions.extend(roots)
    store(x, account, "mentions")
    with django_capture_on_commit_callbacks(execute=True):
        conversion.convert_pending(account.pk)
    x.mentions.extend(tweet("@AcmeHelp any news?", str(500 + i % 5), reply_to=root["id"], conversation_id=root["id"])
                      for i, root in enumerate(roots))
    store(x, account, "mentions")
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        stats = conversion.convert_pending(account.pk)
    assert stats.converted == n
    return len(queries)


def test_replies_joining_their_threads_cost_the_same_queries_for_ten_and_for_a_hundred(
        x, account, django_capture_on_commit_callbacks, noise_rules_version_read_once):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite (development) saves items with bulk_update, in chunks of its variable limit")
    # Everything included: which replies must wait, their tickets, the comments, the items,
    # and what listens to new messages after commit (SLA clocks, triggers, live events).
    replying_costs(x, account, 1, django_capture_on_commit_callbacks)  # the rules' caches filled
    ten = replying_costs(x, account, 10, django_capture_on_commit_callbacks)
    hundred = replying_costs(x, account, 100, django_capture_on_commit_callbacks)
    assert hundred == ten
    assert set(Ticket.objects.values_list("comment_count", flat=True)) == {2}
    assert not IncomingItem.objects.exclude(state=State.TICKETED).exists()


def test_replies_to_replies_of_one_batch_join_in_order(x, account):
    root = tweet("@AcmeHelp my order is late", ALICE)
    first = tweet("@AcmeHelp any news?", "500", reply_to=root["id"], conversation_id=root["id"])
    second = tweet("@AcmeHelp hello?", "501", reply_to=first["id"], conversation_id=root["id"])
    elsewhere = tweet("@AcmeHelp and mine?", "502", reply_to="404", conversation_id="404")  # thread never seen
    third = tweet("@AcmeHelp still nothing", ALICE, reply_to=root["id"], conversation_id=root["id"])
    x.mentions.extend([root, first, second, elsewhere, third])
    store(x, account, "mentions")

    conversion.convert_pending(account.pk)

    thread, alone = Ticket.objects.order_by("pk")
    assert list(thread.comments.order_by("pk").values_list("external_id", flat=True)) == \
        [root["id"], first["id"], second["id"], third["id"]]
    assert thread.comment_count == 4 and alone.comments.get().external_id == elsewhere["id"]
    assert not IncomingItem.objects.exclude(state=State.TICKETED).exists()
