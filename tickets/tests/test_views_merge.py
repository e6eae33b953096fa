"""The merge picker and its confirmation, from the ticket page: who may, what the preview
says, and what a refusal or an edit conflict shows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.lifecycle import update_ticket
from tickets.models import Channel, Ticket

from .factories import RequesterFactory, UserFactory, XIdentityFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    requester = RequesterFactory(name="Alice Moss")
    XIdentityFactory(requester=requester, handle="alice")
    return requester


def opened(requester, subject, channel=Channel.X, **fields) -> Ticket:
    return open_ticket_with_comment(requester=requester, subject=subject, body=subject, channel=channel,
                                    **fields).ticket


def merge_page(ticket, **params):
    url = reverse("tickets:merge", args=[ticket.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def confirm(client, source, target, seen=None):
    return client.post(reverse("tickets:merge_confirm", args=[source.pk]),
                       {"target": target.pk, "source_status_seen": seen or source.status})


def test_the_ticket_page_offers_the_merge(client, agent, alice):
    ticket = opened(alice, "Order 123 late")
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Merge into another ticket…" in page and merge_page(ticket) in page
    assert "js/merge.js" in page


def test_the_picker_lists_the_requesters_open_tickets_and_searches(client, agent, alice):
    source = opened(alice, "Order 123 late")
    dm = opened(alice, "About my order", channel=Channel.X_DM)
    closed = opened(alice, "Old question")
    update_ticket(closed, status=Ticket.Status.CLOSED)
    other = opened(RequesterFactory(name="Bob"), "Refund please")
    client.force_login(agent)

    page = client.get(merge_page(source, partial=1)).content.decode()
    assert f"#{dm.pk}</strong> About my order" in page
    assert f"#{closed.pk}<" not in page and f"#{other.pk}<" not in page
    assert "<html" not in page  # the dialog's panel alone

    found = client.get(merge_page(source, q="refund")).content.decode()
    assert f"#{other.pk}</strong> Refund please" in found and "<html" in found


def test_the_preview_says_what_moves_and_carries_the_status_seen(client, agent, alice):
    source = opened(alice, "Order 123 late")
    add_comment(source, body="any news?", author_requester=alice)
    target = opened(alice, "About my order", channel=Channel.X_DM)
    client.force_login(agent)

    page = client.get(merge_page(source, target=target.pk, partial=1)).content.decode()

    assert f"2 messages move to #{target.pk}, which will hold 4" in page
    assert "Alice Moss on both." in page
    assert 'name="source_status_seen" value="new"' in page
    assert reverse("tickets:merge_confirm", args=[source.pk]) in page


def test_confirming_merges_and_lands_on_the_target(client, agent, alice):
    source, target = opened(alice, "Order 123 late"), opened(alice, "About my order", channel=Channel.X_DM)
    client.force_login(agent)

    response = confirm(client, source, target)

    assert response.status_code == 302 and response.url == target.get_absolute_url()
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk
    source_page = client.get(source.get_absolute_url()).content.decode()
    assert f"Merged into <a href=\"{target.get_absolute_url()}\">#{target.pk} About my order</a>" in source_page
    assert "Merge into another ticket…" not in source_page  # closed now
    target_page = client.get(target.get_absolute_url()).content.decode()
    assert f"merged <a href=\"{source.get_absolute_url()}\">#{source.pk} Order 123 late</a> into this ticket" in target_page
    assert "Order 123 late" in target_page


def test_a_refusal_is_shown_and_nothing_moves(client, agent, alice, settings):
    settings.TICKET_COMMENT_LIMIT = 2
    source, target = opened(alice, "a"), opened(alice, "b")
    client.force_login(agent)

    preview = client.get(merge_page(source, target=target.pk)).content.decode()
    assert "more than the limit of 2" in preview and "Merge into #" not in preview
    response = confirm(client, source, target)
    assert response.status_code == 302
    assert "more than the limit of 2" in client.get(response.url).content.decode()
    assert Ticket.objects.get(pk=source.pk).merged_into is None


def test_a_status_changed_since_the_preview_is_refused_with_who_changed_it(client, agent, alice):
    source, target = opened(alice, "a"), opened(alice, "b")
    update_ticket(source, status=Ticket.Status.PENDING, actor=UserFactory(username="ben", first_name="Ben"))
    client.force_login(agent)

    response = confirm(client, source, target, seen="new")

    page = client.get(response.url).content.decode()
    assert "Nothing was merged" in page and "Ben" in page and "Pending" in page
    assert Ticket.objects.get(pk=source.pk).merged_into is None


def test_a_restricted_agent_cannot_merge_into_a_ticket_they_cannot_see(client, restricted, allowed_ticket,
                                                                        forbidden_ticket):
    client.force_login(restricted)
    assert client.get(merge_page(allowed_ticket, target=forbidden_ticket.pk)).status_code == 404
    assert confirm(client, allowed_ticket, forbidden_ticket).status_code == 404
    assert client.get(merge_page(forbidden_ticket)).status_code == 404
    assert Ticket.objects.get(pk=allowed_ticket.pk).merged_into is None


def test_anonymous_visitors_are_sent_to_log_in(client, alice):
    source, target = opened(alice, "a"), opened(alice, "b")
    assert client.get(merge_page(source)).status_code == 302
    assert confirm(client, source, target).status_code == 302
    assert Ticket.objects.get(pk=source.pk).merged_into is None


def test_merging_needs_a_post(client, agent, alice):
    source, target = opened(alice, "a"), opened(alice, "b")
    client.force_login(agent)
    assert client.get(reverse("tickets:merge_confirm", args=[source.pk]) + f"?target={target.pk}").status_code == 405
