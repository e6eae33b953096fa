"""Requesters' profiles follow X in real time: the helpdesk holds `profile.update.*`
subscriptions (one user id each, as X allows) for requesters with a ticket not yet solved,
within the app's subscription limit, and their identity's name, handle and picture change
when X's events arrive. Over HTTP against the sandbox, which emits the events to the
helpdesk's signed webhook."""

from __future__ import annotations

from tickets.lifecycle import update_ticket
from tickets.models import Identity, Requester, Ticket
from tickets.privacy import erase_requester
from tickets.tests.factories import AdminFactory
from twitter_channel.models import ActivityEvent, IncomingItem, RequesterProfileSubscription, XAccount
from twitter_channel.realtime import subscriptions
from twitter_channel.realtime.requester_profiles import TAG, sync_requester_profile_subscriptions

from .test_realtime_sandbox import account, eventually, sandbox_server, sb, webhook_account  # noqa: F401

PROFILE_EVENTS = {"profile.update.screenname", "profile.update.handle", "profile.update.profile_picture"}


def requester_subscriptions(sandbox) -> set[tuple[str, str, str]]:
    """(user id, event type, webhook id) of the subscriptions the sandbox holds for requesters."""
    return {(s["filter"]["user_id"], s["event_type"], s.get("webhook_id", ""))
            for s in sandbox.activity_state()["subscriptions"] if s.get("tag") == TAG}


def ticket_from(sandbox, username: str, text: str) -> Ticket:
    post = sandbox.post_tweet(username, text)
    assert eventually(lambda: IncomingItem.objects.filter(x_id=post["id"], ticket__isnull=False).exists()), \
        list(IncomingItem.objects.values("state", "state_reason"))
    return IncomingItem.objects.get(x_id=post["id"]).ticket


def test_requesters_with_open_tickets_are_subscribed_and_their_profile_follows_x(sb, webhook_account):  # noqa: F811
    ticket = ticket_from(sb, "alice", "@AcmeSupport my order is late")
    alice = Identity.objects.get(requester=ticket.requester, kind="x")

    stats = sync_requester_profile_subscriptions()

    webhook_id = sb.activity_state()["webhooks"][0]["id"]
    assert requester_subscriptions(sb) == {(alice.value, t, webhook_id) for t in PROFILE_EVENTS}
    assert stats.created == 3 and RequesterProfileSubscription.objects.count() == 3
    assert sync_requester_profile_subscriptions().created == 0  # in step: nothing more to do

    sb.update_user(alice.value, name="Alice Liddell", username="alice_l",
                   profile_image_url="https://pbs.twimg.com/profile_images/alice2.jpg")

    def updated():
        alice.refresh_from_db()
        return (alice.display_name, alice.handle, alice.avatar_url) == (
            "Alice Liddell", "alice_l", "https://pbs.twimg.com/profile_images/alice2.jpg")

    assert eventually(updated), list(ActivityEvent.objects.values("event_type", "state", "detail"))
    webhook_account.refresh_from_db()
    assert webhook_account.username == "AcmeSupport"  # the brand's own profile is not touched


def test_a_requester_whose_tickets_are_solved_is_unsubscribed(sb, webhook_account):  # noqa: F811
    ticket = ticket_from(sb, "alice", "@AcmeSupport where is my parcel?")
    sync_requester_profile_subscriptions()
    assert requester_subscriptions(sb)

    update_ticket(ticket, status=Ticket.Status.SOLVED, actor=AdminFactory())
    stats = sync_requester_profile_subscriptions()

    assert stats.deleted == 3 and requester_subscriptions(sb) == set()
    assert not RequesterProfileSubscription.objects.exists()


def test_the_subscription_limit_bounds_how_many_requesters_are_followed(sb, webhook_account, settings):  # noqa: F811
    sb.create_user("bob", name="Bob")
    ticket_from(sb, "alice", "@AcmeSupport first")
    bobs = ticket_from(sb, "bob", "@AcmeSupport second")
    # Room for the brand's own 8 subscriptions and one requester's 3.
    settings.X_ACTIVITY_SUBSCRIPTION_LIMIT = 8 + 3

    sync_requester_profile_subscriptions()

    bob = Identity.objects.get(requester=bobs.requester, kind="x").value
    assert {user for user, _, _ in requester_subscriptions(sb)} == {bob}  # the most recently updated


def test_changes_per_run_are_bounded_and_the_next_run_goes_on(sb, webhook_account):  # noqa: F811
    ticket_from(sb, "alice", "@AcmeSupport hello")

    first = sync_requester_profile_subscriptions(per_run=2)
    second = sync_requester_profile_subscriptions(per_run=2)

    assert (first.created, first.unfinished, second.created, second.unfinished) == (2, True, 1, False)
    assert len(requester_subscriptions(sb)) == 3


def test_an_erased_requesters_profile_is_no_longer_followed_nor_kept(sb, webhook_account):  # noqa: F811
    ticket = ticket_from(sb, "alice", "@AcmeSupport please forget me later")
    alice_id = Identity.objects.get(requester=ticket.requester, kind="x").value
    sync_requester_profile_subscriptions()

    erase_requester(ticket.requester, by=AdminFactory())
    assert not RequesterProfileSubscription.objects.filter(x_user_id=alice_id).exists()
    # Before the next sync X still sends her events: nothing of them is kept.
    sb.update_user(alice_id, name="Alice Secretname")
    assert eventually(lambda: ActivityEvent.objects.filter(event_type="profile.update.screenname",
                                                           state="ignored").exists())
    assert not ActivityEvent.objects.filter(body__contains="Secretname").exists()
    assert not Identity.objects.filter(display_name="Alice Secretname").exists()

    sync_requester_profile_subscriptions()

    assert requester_subscriptions(sb) == set() and not RequesterProfileSubscription.objects.exists()


def test_with_every_account_polling_no_requester_is_subscribed(sb, webhook_account):  # noqa: F811
    ticket_from(sb, "alice", "@AcmeSupport hi")
    sync_requester_profile_subscriptions()
    subscriptions.switch_intake_mode(webhook_account, XAccount.IntakeMode.POLLING)

    sync_requester_profile_subscriptions()

    assert requester_subscriptions(sb) == set()



def test_with_an_account_streaming_the_subscriptions_name_no_webhook(sb, account):  # noqa: F811
    subscriptions.switch_intake_mode(account, XAccount.IntakeMode.STREAM)
    carol = sb.create_user("carol", name="Carol")
    requester = Requester.objects.create(name="Carol")
    Identity.objects.create(requester=requester, kind="x", value=carol["id"], handle="carol")
    Ticket.objects.create(subject="Where is my parcel?", requester=requester, status=Ticket.Status.OPEN)

    sync_requester_profile_subscriptions()

    assert requester_subscriptions(sb) == {(carol["id"], t, "") for t in PROFILE_EVENTS}
