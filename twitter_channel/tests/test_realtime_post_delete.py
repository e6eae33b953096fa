"""Real time compliance over the sandbox's signed webhook: a post deleted on X arrives as a
`post.delete` event and is redacted from the ticket it made; the brand's profile follows its
`profile.update.*` events."""

from __future__ import annotations

from twitter_channel.models import ActivityEvent, IncomingItem, XDeletion

from .test_realtime_sandbox import account, eventually, sandbox_server, sb, webhook_account  # noqa: F401


def test_post_deleted_on_x_is_redacted_from_its_ticket(sb, webhook_account):  # noqa: F811
    mention = sb.post_tweet("alice", "@AcmeSupport my PIN is 4321, please help")
    assert eventually(lambda: IncomingItem.objects.filter(x_id=mention["id"], comment__isnull=False).exists())
    item = IncomingItem.objects.select_related("comment", "ticket").get(x_id=mention["id"])
    assert "4321" in item.comment.body

    sb.delete_tweet(mention["id"])

    assert eventually(lambda: ActivityEvent.objects.filter(event_type="post.delete", state="processed").exists()), \
        list(ActivityEvent.objects.values("event_type", "state", "detail"))
    item.refresh_from_db()
    item.comment.refresh_from_db()
    item.ticket.refresh_from_db()
    assert item.comment.body.startswith("[Deleted on X on ")
    assert item.comment.external_id == mention["id"]
    assert item.redacted_at is not None and "4321" not in str(item.raw) + item.text
    assert "4321" not in item.ticket.subject
    assert not any("4321" in e.body for e in ActivityEvent.objects.all())
    assert XDeletion.objects.get(x_id=mention["id"]).source == XDeletion.Source.REALTIME


def test_a_deletion_that_overtakes_its_post_keeps_the_post_out(sb, webhook_account):  # noqa: F811
    # X's events are not ordered: the deletion may be processed before the post's own event.
    mention = sb.post_tweet("alice", "@AcmeSupport delete me soon")
    XDeletion.objects.create(x_id=mention["id"], source=XDeletion.Source.REALTIME)

    assert eventually(lambda: IncomingItem.objects.filter(x_id=mention["id"], state="ignored").exists()), \
        list(IncomingItem.objects.values("state", "state_reason"))
    item = IncomingItem.objects.get(x_id=mention["id"])
    assert item.ticket_id is None and item.text == "" and item.redacted_at is not None


def test_the_brands_profile_follows_its_profile_update_events(sb, webhook_account):  # noqa: F811
    sb.update_user(webhook_account.user_id, name="Acme Care", username="AcmeCare",
                   profile_image_url="https://pbs.twimg.com/profile_images/new.jpg")

    def updated():
        webhook_account.refresh_from_db()
        return (webhook_account.display_name, webhook_account.username, webhook_account.avatar_url) == (
            "Acme Care", "AcmeCare", "https://pbs.twimg.com/profile_images/new.jpg")

    assert eventually(updated), list(ActivityEvent.objects.values("event_type", "state", "detail"))
    assert set(ActivityEvent.objects.values_list("event_type", flat=True)) == {
        "profile.update.screenname", "profile.update.handle", "profile.update.profile_picture"}
