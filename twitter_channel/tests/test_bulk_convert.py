"""Converting incoming items by hand: one, many, in the background, items already on
tickets, replies landing on their thread's ticket, ignoring and un-ignoring."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.models import Channel, Comment, Ticket
from twitter_channel.intake import bulk_convert
from twitter_channel.intake.models import BulkConversion
from twitter_channel.models import IncomingItem

from .answering_helpers import make_account, make_item, roles

Kind = IncomingItem.Kind
State = IncomingItem.State


@pytest.fixture
def account(db):
    return make_account()


@pytest.fixture
def admin_client(client, db):
    client.force_login(roles()["admin"])
    return client


def convert(client, item):
    return client.post(reverse("twitter_channel:convert_item", args=[item.pk]), follow=True)


def test_converting_an_item_a_noise_rule_ignored_opens_a_ticket(admin_client, account):
    item = make_item(account, text="@AcmeHelp buy followers now", state=State.IGNORED, rule="Spam words",
                     ignored_by_rule_id=3)

    response = convert(admin_client, item)

    item.refresh_from_db()
    assert item.state == State.TICKETED and item.ticket is not None
    ticket = item.ticket
    assert ticket.channel == Channel.X and ticket.x_account == account
    comment = ticket.comments.get()
    assert (comment.external_source, comment.external_id) == (Comment.Source.TWEET, item.x_id)
    assert comment.author_requester == ticket.requester
    assert f"Ticket #{ticket.pk} created" in response.content.decode()


def test_not_captured_dm_becomes_a_dm_ticket(account):
    item = make_item(account, kind=Kind.DM, text="my card was charged twice", state=State.NOT_CAPTURED,
                     conversation="1000001-900000000000000001")

    result = bulk_convert.convert_by_hand(item.pk)

    assert result.outcome == bulk_convert.Outcome.CREATED
    assert Ticket.objects.get(pk=result.ticket_id).channel == Channel.X_DM


def test_converting_twice_reports_the_ticket_instead_of_doubling(account):
    item = make_item(account, state=State.RETWEET)
    first = bulk_convert.convert_by_hand(item.pk)

    second = bulk_convert.convert_by_hand(item.pk)

    assert second.outcome == bulk_convert.Outcome.ALREADY and second.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 1 and Comment.objects.count() == 1


def test_reply_in_thread_lands_on_existing_ticket(admin_client, account):
    root = make_item(account, text="@AcmeHelp the app crashes")
    assert bulk_convert.convert_by_hand(root.pk).outcome == bulk_convert.Outcome.CREATED
    reply = make_item(account, text="@AcmeHelp still crashing", reply_to=root.x_id, conversation=root.x_id,
                      state=State.IGNORED)

    response = convert(admin_client, reply)

    reply.refresh_from_db()
    root.refresh_from_db()
    assert reply.ticket_id == root.ticket_id and Ticket.objects.count() == 1
    assert root.ticket.comments.count() == 2
    assert "which holds its thread" in response.content.decode()


def test_item_whose_tweet_is_already_a_comment_is_linked_not_doubled(account):
    other_account = make_account("AcmeShop", user_id="900000000000000002")
    first = make_item(account)
    bulk_convert.convert_by_hand(first.pk)
    same_tweet_seen_by_other_account = make_item(other_account, x_id=first.x_id, state=State.NOT_CAPTURED)

    result = bulk_convert.convert_by_hand(same_tweet_seen_by_other_account.pk)

    assert result.outcome == bulk_convert.Outcome.ALREADY
    assert Comment.objects.count() == 1


def test_group_dms_and_the_brands_own_posts_are_refused(account):
    group = make_item(account, kind=Kind.DM, state=State.GROUP_DM, conversation="555", is_group=True)
    own = make_item(account, kind=Kind.OWN_TWEET, author_id=account.user_id, state=State.OWN)

    assert bulk_convert.convert_by_hand(group.pk).outcome == bulk_convert.Outcome.FAILED
    assert bulk_convert.convert_by_hand(own.pk).outcome == bulk_convert.Outcome.FAILED
    assert Ticket.objects.count() == 0


def test_bulk_convert_reports_created_and_already_on_ticket(admin_client, account):
    fresh = [make_item(account, text=f"@AcmeHelp problem {n}", handle=f"user{n}", author_id=str(2000 + n),
                       state=State.NOT_CAPTURED) for n in range(3)]
    on_ticket = make_item(account, text="@AcmeHelp old one")
    bulk_convert.convert_by_hand(on_ticket.pk)

    response = admin_client.post(reverse("twitter_channel:bulk_convert"),
                                 {"item_ids": [i.pk for i in [*fresh, on_ticket]]}, follow=True)

    run = BulkConversion.objects.get()
    assert (run.status, run.total, run.done) == ("finished", 4, 4)
    assert (run.created, run.already_on_ticket, run.added, run.failed) == (3, 1, 0, 0)
    assert Ticket.objects.count() == 4
    assert [r["item"] for r in run.results_with("already_on_ticket")] == [on_ticket.pk]
    html = response.content.decode()
    assert "3 tickets created" in html
    assert 'id="bulk-already"' in html and f"Item {on_ticket.pk}" in html


def test_bulk_convert_of_a_thread_puts_the_replies_on_the_roots_ticket(account):
    root = make_item(account, state=State.IGNORED)
    replies = [make_item(account, text=f"@AcmeHelp more {n}", reply_to=root.x_id, conversation=root.x_id,
                         state=State.IGNORED) for n in range(2)]

    run = bulk_convert.start_bulk_conversion([r.pk for r in reversed(replies)] + [root.pk], None)

    assert (run.created, run.added) == (1, 2)
    assert Ticket.objects.count() == 1 and Ticket.objects.get().comments.count() == 3


def test_large_selection_runs_in_a_celery_task_with_progress(admin_client, account,
                                                             django_capture_on_commit_callbacks):
    items = [make_item(account, text=f"@AcmeHelp issue {n}", author_id=str(3000 + n), handle=f"u{n}",
                       state=State.NOT_CAPTURED) for n in range(bulk_convert.INLINE_LIMIT + 5)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(reverse("twitter_channel:bulk_convert"), {"item_ids": [i.pk for i in items]})
    run = BulkConversion.objects.get()
    # Not converted inside the request: the task is queued for after the commit.
    assert run.done == 0 and Ticket.objects.count() == 0 and len(callbacks) == 1
    progress_url = reverse("twitter_channel:bulk_progress", args=[run.pk])
    assert admin_client.get(progress_url).json()["status"] == "running"
    page = admin_client.get(response["Location"]).content.decode()
    assert "updates by itself" in page

    callbacks[0]()  # the worker (eager in unit tests) runs the task

    progress = admin_client.get(progress_url).json()
    assert progress == {"status": "finished", "total": 25, "done": 25, "percent": 100, "created": 25, "added": 0,
                        "already_on_ticket": 0, "failed": 0}
    assert Ticket.objects.count() == 25


def test_bulk_conversion_rerun_carries_on_where_it_stopped(account):
    items = [make_item(account, author_id=str(4000 + n), handle=f"v{n}", state=State.NOT_CAPTURED)
             for n in range(3)]
    run = BulkConversion.objects.create(item_ids=[i.pk for i in items], total=3)
    bulk_convert.convert_by_hand(items[0].pk)
    run.done = 1
    run.created = 1
    run.results = [{"item": items[0].pk, "ticket": 1, "outcome": "created", "detail": ""}]
    run.save()

    bulk_convert.run_bulk_conversion(run.pk)

    run.refresh_from_db()
    assert (run.done, run.created, run.already_on_ticket) == (3, 3, 0)
    assert Ticket.objects.count() == 3


def test_ignore_and_unignore(admin_client, account):
    item = make_item(account, state=State.NOT_CAPTURED)

    admin_client.post(reverse("twitter_channel:ignore_item", args=[item.pk]))
    item.refresh_from_db()
    assert item.state == State.IGNORED and item.state_reason.startswith("Ignored by")

    admin_client.post(reverse("twitter_channel:unignore_item", args=[item.pk]))
    item.refresh_from_db()
    # Back through the intake's own rules: this account captures mentions, so it is ticketed.
    assert item.state == State.TICKETED and item.ticket is not None


def test_unignore_with_a_noise_rule_still_matching_says_so(admin_client, account):
    from business_rules.models import NoiseRule

    NoiseRule.objects.create(name="No giveaways", ignore_keywords="giveaway")
    item = make_item(account, text="@AcmeHelp giveaway!!", state=State.IGNORED, rule="No giveaways")

    response = admin_client.post(reverse("twitter_channel:unignore_item", args=[item.pk]), follow=True)

    item.refresh_from_db()
    assert item.state == State.IGNORED and item.rule == "No giveaways"
    assert "still ignores this item" in response.content.decode()


def test_items_on_tickets_cannot_be_ignored(admin_client, account):
    item = make_item(account)
    bulk_convert.convert_by_hand(item.pk)

    admin_client.post(reverse("twitter_channel:ignore_item", args=[item.pk]))

    item.refresh_from_db()
    assert item.state == State.TICKETED
