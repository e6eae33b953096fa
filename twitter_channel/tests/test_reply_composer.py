"""The X reply composer: who may use it, what it offers, what it refuses before anything is
recorded, and the ticket page's X reply options (the same path, through tickets.outbound)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.models import Channel, Comment, User
from tickets.tests.factories import TicketFactory, UserFactory
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.intake import bulk_convert
from twitter_channel.models import IncomingItem

from .answering_helpers import make_account, make_item, roles

Kind = IncomingItem.Kind


@pytest.fixture
def account(db):
    return make_account()


@pytest.fixture
def ticket(account):
    item = make_item(account, text="@AcmeHelp my order is late")
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    return item.ticket


@pytest.fixture
def agent(db):
    return UserFactory(role=User.Role.AGENT)


def composer_url(ticket):
    return reverse("twitter_channel:reply", args=[ticket.pk])


def send(client, ticket, body, **fields):
    return client.post(composer_url(ticket), {"body": body, "append_link": "0", **fields})


# --- who may -------------------------------------------------------------------------------


def test_agents_and_admins_may_answer_x_tickets(client, ticket):
    for user in (roles()["admin"], UserFactory(role=User.Role.AGENT)):
        client.force_login(user)
        assert client.get(composer_url(ticket)).status_code == 200


def test_restricted_agent_answers_only_tickets_they_can_see(client, ticket):
    restricted = UserFactory(role=User.Role.RESTRICTED)
    client.force_login(restricted)
    assert client.get(composer_url(ticket)).status_code == 404
    assert send(client, ticket, "hello").status_code == 404
    assert client.post(reverse("twitter_channel:request_email", args=[ticket.pk])).status_code == 404

    restricted.allowed_channels = [Channel.X]
    restricted.save()
    assert client.get(composer_url(ticket)).status_code == 200


def test_anonymous_visitors_are_sent_to_login(client, ticket):
    for response in (client.get(composer_url(ticket)),
                     client.post(reverse("twitter_channel:request_email", args=[ticket.pk]))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert OutgoingMessage.objects.count() == 0


def test_retry_and_status_follow_ticket_visibility(client, ticket, agent):
    client.force_login(agent)
    send(client, ticket, "hello")
    outgoing = OutgoingMessage.objects.get()
    restricted = UserFactory(role=User.Role.RESTRICTED)

    client.force_login(restricted)
    assert client.post(reverse("twitter_channel:retry_outgoing", args=[outgoing.pk])).status_code == 404
    assert client.get(reverse("twitter_channel:outgoing_status", args=[outgoing.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("twitter_channel:outgoing_status", args=[outgoing.pk])).status_code == 302
    client.force_login(agent)
    assert client.get(reverse("twitter_channel:outgoing_status", args=[outgoing.pk])).json()["state"] == "queued"


def test_composer_is_only_for_x_tickets(client, agent):
    client.force_login(agent)
    assert client.get(composer_url(TicketFactory(channel=Channel.EMAIL))).status_code == 404


# --- what it sends -------------------------------------------------------------------------------


def test_public_reply_is_recorded_pending_and_answers_the_requesters_post(client, ticket, agent):
    client.force_login(agent)

    response = send(client, ticket, "We're on it!")

    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    outgoing = OutgoingMessage.objects.get()
    comment = outgoing.comment
    answered = ticket.comments.get(author_requester__isnull=False)
    assert (outgoing.kind, outgoing.account, outgoing.text) == ("tweet", ticket.x_account, "We're on it!")
    assert outgoing.in_reply_to_tweet_id == answered.external_id
    assert (comment.author_user, comment.delivery, comment.channel) == (agent, Comment.Delivery.QUEUED, Channel.X)


def test_only_accounts_allowed_for_replies_are_offered_and_accepted(client, ticket, agent):
    closed = make_account("AcmeLegal", user_id="900000000000000003", allowed_for_replies=False)
    other = make_account("AcmeShop", user_id="900000000000000002")
    client.force_login(agent)

    page = client.get(composer_url(ticket)).content.decode()
    assert "@AcmeShop" in page and "@AcmeLegal" not in page

    assert send(client, ticket, "From legal", account=closed.pk).status_code == 400
    assert send(client, ticket, "From the shop", account=other.pk).status_code == 302
    assert OutgoingMessage.objects.get().account == other


def test_over_long_tweet_is_refused_before_anything_is_recorded(client, ticket, agent):
    client.force_login(agent)

    response = send(client, ticket, "a" * 281)

    assert response.status_code == 400 and "Too long for X: 281 of 280" in response.content.decode()
    assert OutgoingMessage.objects.count() == 0 and ticket.comments.count() == 1


def test_exactly_280_is_accepted(client, ticket, agent):
    client.force_login(agent)
    assert send(client, ticket, "a" * 280).status_code == 302


def test_cjk_characters_count_double(client, ticket, agent):
    client.force_login(agent)
    assert send(client, ticket, "日" * 141).status_code == 400
    assert send(client, ticket, "日" * 140).status_code == 302


def test_the_ticket_link_counts_against_the_limit(client, ticket, agent, settings):
    settings.SITE_URL = "https://help.acme.com"
    client.force_login(agent)
    # 257 + " " + 23 = 281
    assert send(client, ticket, "a" * 257, append_link="1").status_code == 400
    assert send(client, ticket, "a" * 256, append_link="1").status_code == 302
    assert OutgoingMessage.objects.get().text.startswith("a" * 256 + " https://help.acme.com/t/")


def test_append_link_defaults_to_the_accounts_setting(client, account, ticket, agent):
    account.append_ticket_link_default = True
    account.save()
    client.force_login(agent)

    page = client.get(composer_url(ticket)).content.decode()

    assert 'name="append_link" value="1" checked' in page


def test_composer_notes_the_price_of_a_post_with_a_link(client, ticket, agent):
    client.force_login(agent)
    page = client.get(composer_url(ticket)).content.decode()
    assert "$0.20" in page and "$0.015" in page


def test_warns_when_the_requesters_post_did_not_mention_the_brand(client, account, agent):
    liked = make_item(account, kind=Kind.LIKE, text="Loving my new phone", mentions=())
    bulk_convert.convert_by_hand(liked.pk)
    liked.refresh_from_db()
    client.force_login(agent)

    page = client.get(composer_url(liked.ticket)).content.decode()

    assert "did not @mention or quote @AcmeHelp" in page
    assert "Direct message on X to @alice" in page and "Ask for their email" in page


def test_no_warning_when_the_brand_was_mentioned(client, ticket, agent):
    client.force_login(agent)
    assert "did not @mention" not in client.get(composer_url(ticket)).content.decode()


def test_dm_ticket_replies_by_dm_in_its_conversation(client, account, agent):
    dm = make_item(account, kind=Kind.DM, text="card charged twice", conversation="1000001-900000000000000001")
    bulk_convert.convert_by_hand(dm.pk)
    dm.refresh_from_db()
    client.force_login(agent)

    page = client.get(composer_url(dm.ticket)).content.decode()
    assert 'value="dm" checked' in page and 'value="tweet"' not in page  # nothing public to answer

    assert send(client, dm.ticket, "x" * 500, mode="dm").status_code == 302  # DMs are not 280-limited
    outgoing = OutgoingMessage.objects.get()
    assert (outgoing.kind, outgoing.dm_conversation_id, outgoing.recipient_x_id) == (
        "dm", "1000001-900000000000000001", "1000001")
    assert outgoing.comment.channel == Channel.X_DM


def test_public_ticket_can_be_answered_by_dm_instead(client, ticket, agent):
    client.force_login(agent)

    assert send(client, ticket, "Let's continue in private", mode="dm").status_code == 302

    outgoing = OutgoingMessage.objects.get()
    assert (outgoing.kind, outgoing.recipient_x_id, outgoing.dm_conversation_id) == ("dm", "1000001", "")


def confirm(client, url, page):
    """Submit the email request's DM preview as shown: its exact text, confirmed."""
    text = page.split('name="text" value="', 1)[1].split('"', 1)[0]
    return client.post(url, {"confirmed": "1", "text": text}), text


def test_request_email_shows_the_dm_first_and_sends_it_once_confirmed(client, ticket, agent):
    client.force_login(agent)
    url = reverse("twitter_channel:request_email", args=[ticket.pk])

    preview = client.post(url)

    # Nothing goes before the agent has seen the exact text, who receives it and how.
    assert preview.status_code == 200 and OutgoingMessage.objects.count() == 0
    page = preview.content.decode()
    assert "Direct message on X to @alice" in page and "Send the DM" in page
    assert "Post the link publicly instead" in page and "visible to anyone" not in page
    response, text = confirm(client, url, page)
    assert response.status_code == 302
    outgoing = OutgoingMessage.objects.get()
    assert outgoing.text == text
    assert outgoing.kind == "dm" and "/t/" in outgoing.text and "email" in outgoing.text.lower()
    assert outgoing.recipient_x_id == "1000001"


def test_posting_the_email_link_publicly_shows_the_exact_text_and_waits_for_confirmation(client, ticket, agent):
    client.force_login(agent)
    url = reverse("twitter_channel:request_email", args=[ticket.pk])

    response = client.post(url, {"public": "1"})  # "Post the link publicly instead…" on the DM's preview

    assert response.status_code == 200 and OutgoingMessage.objects.count() == 0
    page = response.content.decode()
    assert "visible to anyone on X" in page
    text = page.split('name="text" value="', 1)[1].split('"', 1)[0]
    assert text.startswith("To help you further") and "/t/" in text

    assert client.post(url, {"public": "1", "confirmed": "1", "text": text}).status_code == 302

    outgoing = OutgoingMessage.objects.get()
    assert (outgoing.kind, outgoing.text) == ("tweet", text)


def test_email_link_is_never_posted_publicly_without_confirmation(client, account, agent):
    # A ticket with no DM account: only a public post could carry the link.
    item = make_item(account, text="@AcmeHelp hello")
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    item.ticket.x_account = None
    item.ticket.save()
    client.force_login(agent)

    response = client.post(reverse("twitter_channel:request_email", args=[item.ticket.pk]))

    assert response.status_code == 200 and "Post it publicly" in response.content.decode()
    assert OutgoingMessage.objects.count() == 0


# --- the ticket page --------------------------------------------------------------------------------


def answer_choices(page):
    """The reply box's "How to answer" radios: [(value, label)]."""
    found = []
    for part in page.split('name="kind" value="')[1:]:
        value = part.split('"', 1)[0]
        label = part.split("data-answer-label=", 1)[1].split(">", 1)[1].split("</span>", 1)[0]
        found.append((value, label))
    return found


def chosen_answer(page):
    return next(part.split('"', 1)[0] for part in page.split('name="kind" value="')[1:]
                if " checked" in part.split(">", 1)[0])


def test_ticket_page_offers_one_choice_of_how_to_answer_each_naming_the_recipient(client, ticket, agent):
    client.force_login(agent)

    page = client.get(ticket.get_absolute_url()).content.decode()

    assert answer_choices(page) == [
        ("public:tweet", "Public reply on X to @alice, under their post “@AcmeHelp my order is late”"),
        ("public:dm", "Direct message on X to @alice"),
        ("internal", "Internal note (agents only)"),
    ]
    # The X panel adds only what a post or a DM needs: no second set of reply-type radios.
    assert 'name="reply_option_mode"' not in page and 'name="reply_option_account"' in page
    assert "data-x-counter" in page and "x_counter.js" in page and "twitter-text.min.js" in page
    assert chosen_answer(page) == "public:tweet"


def test_dm_ticket_chooses_the_dm_and_hides_the_price_note(client, account, agent):
    dm = make_item(account, kind=Kind.DM, text="card charged twice", conversation="1000001-900000000000000001")
    bulk_convert.convert_by_hand(dm.pk)
    dm.refresh_from_db()
    client.force_login(agent)

    page = client.get(dm.ticket.get_absolute_url()).content.decode()

    assert [v for v, _ in answer_choices(page)] == ["public:dm", "internal"]
    assert chosen_answer(page) == "public:dm"
    # What X bills for a post, and the /280 of a post, do not apply to a DM.
    price = page.split("data-price", 1)[1].split(">", 1)[0]
    assert "hidden" in price
    assert "0 / 10000" in page and "0 / 280" not in page


def test_internal_note_hides_everything_about_x(client, ticket, agent):
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "", "kind": "internal"})

    page = response.content.decode()
    # Drawn again (the empty text is refused) with the note chosen: the X inputs are hidden.
    assert response.status_code == 400
    assert "hidden" in page.split("data-x-counter", 1)[1].split(">", 1)[0]
    assert "hidden" in page.split("data-x-recipient-fields", 1)[1].split(">", 1)[0]


def test_the_chosen_way_reaches_the_x_sender(client, ticket, agent):
    client.force_login(agent)

    client.post(reverse("tickets:reply", args=[ticket.pk]), {
        "body": "Let's continue in private", "kind": "public:dm", "reply_option_append_link": "0",
        # An older page's own mode field loses to the reply box's choice.
        "reply_option_mode": "tweet",
    })

    outgoing = OutgoingMessage.objects.get()
    assert (outgoing.kind, outgoing.recipient_x_id) == ("dm", "1000001")


def test_ticket_page_reply_box_sends_through_the_x_sender(client, ticket, agent):
    other = make_account("AcmeShop", user_id="900000000000000002")
    client.force_login(agent)

    client.post(reverse("tickets:reply", args=[ticket.pk]), {
        "body": "Thanks!", "kind": "public", "then_status": "",
        "reply_option_mode": "tweet", "reply_option_account": str(other.pk),
        "reply_option_append_link": ["0", "1"],
    })

    outgoing = OutgoingMessage.objects.get()
    assert outgoing.account == other and outgoing.text.startswith("Thanks! http")


def test_failed_delivery_shows_the_reason_and_a_retry_button(client, ticket, agent):
    client.force_login(agent)
    send(client, ticket, "hello")
    outgoing = OutgoingMessage.objects.get()
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(state="failed", error="You are not allowed to reply.")
    Comment.objects.filter(pk=outgoing.comment_id).update(delivery="failed")

    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "You are not allowed to reply." in page
    assert reverse("twitter_channel:retry_outgoing", args=[outgoing.pk]) in page

    client.post(reverse("twitter_channel:retry_outgoing", args=[outgoing.pk]))
    outgoing.refresh_from_db()
    assert outgoing.state == "queued" and outgoing.comment.delivery == Comment.Delivery.QUEUED


def test_ticket_page_refuses_an_over_long_x_reply_with_the_reason(client, ticket, agent):
    client.force_login(agent)

    response = client.post(reverse("tickets:reply", args=[ticket.pk]), {
        "body": "a" * 281, "kind": "public", "then_status": "", "reply_option_mode": "tweet",
        "reply_option_append_link": "0",
    })

    assert response.status_code == 400 and "Too long for X: 281 of 280" in response.content.decode()
    assert OutgoingMessage.objects.count() == 0 and ticket.comments.count() == 1


def test_delivery_badges_never_borrow_a_ticket_status_word(client, ticket, agent):
    # "Pending" on a reply read as the ticket's status: deliveries have words of their own.
    client.force_login(agent)
    for body in ("one", "two", "three", "four", "five"):
        send(client, ticket, body)
    states = [Comment.Delivery.QUEUED, Comment.Delivery.SENDING, Comment.Delivery.SENT, Comment.Delivery.FAILED,
              Comment.Delivery.UNKNOWN]
    for outgoing, state in zip(OutgoingMessage.objects.order_by("pk"), states, strict=True):
        Comment.objects.filter(pk=outgoing.comment_id).update(delivery=state)

    page = client.get(ticket.get_absolute_url()).content.decode()

    badges = {part.split(">", 1)[1].split("<", 1)[0] for part in page.split('class="delivery delivery--')[1:]}
    assert badges == {"Queued", "Sending", "Sent", "Failed", "Outcome unknown"}
    from tickets.models import Ticket
    assert not badges & set(Ticket.Status.labels)
