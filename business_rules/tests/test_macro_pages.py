"""Macros from the agent's side: the picker's data, the reply that applies a macro, the
agent's own macros page and the admin's shared ones (business_rules/macros/views.py)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from business_rules.models import Macro
from tickets.models import Channel, Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, RequesterFactory, TicketFactory, UserFactory

from .macro_helpers import make_macro

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(username="dana", first_name="Dana")


@pytest.fixture
def ticket():
    return TicketFactory(subject="Where is my parcel", requester=RequesterFactory(name="Alice Walker"),
                         channel=Channel.WEB, status=Ticket.Status.OPEN)


def picker(client, ticket, **params):
    return client.get(reverse("macros:for_ticket", args=[ticket.pk]), params)


# --- the picker's data ---------------------------------------------------------------------

def test_picker_previews_each_usable_macro_most_used_first(client, agent, ticket):
    make_macro("Thanks", "Thanks {{requester.first_name}}!")
    busy = make_macro("Parcel", "Hi {{requester.first_name}}, #{{ticket.id}} is on its way.", set_status="pending")
    Macro.objects.filter(pk=busy.pk).update(usage_count=7)
    make_macro("Dana's", "Cheers", owner=agent)
    client.force_login(agent)

    data = picker(client, ticket).json()

    assert [m["title"] for m in data["macros"]] == ["Parcel", "Dana's", "Thanks"]
    parcel = data["macros"][0]
    assert parcel["text"] == f"Hi Alice, #{ticket.pk} is on its way."
    assert parcel["changes"] == [{"text": "Status: Open → Pending", "skipped": ""}]
    assert parcel["seen"] == {"status": "open"} and parcel["usage"] == 7 and parcel["shared"] is True
    assert parcel["fit"] is None  # a web ticket: no length limit


def test_picker_never_shows_other_agents_personal_macros(client, ticket):
    rita = UserFactory(username="rita", role=User.Role.RESTRICTED)
    rita.allowed_channels = [Channel.WEB]
    rita.save()
    make_macro("Walter's", "x", owner=UserFactory(username="walter"))
    make_macro("Rita's", "y", owner=rita)
    make_macro("Shared", "z")
    client.force_login(rita)
    assert sorted(m["title"] for m in picker(client, ticket).json()["macros"]) == ["Rita's", "Shared"]


def test_picker_of_a_ticket_outside_the_agents_reach_is_a_404(client, ticket):
    rita = UserFactory(username="rita", role=User.Role.RESTRICTED)
    rita.allowed_groups.add(GroupFactory(name="Elsewhere"))
    client.force_login(rita)
    assert picker(client, ticket).status_code == 404


def test_picker_needs_a_login(client, ticket):
    response = picker(client, ticket)
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- applying with the reply ---------------------------------------------------------------

def reply(client, ticket, body, *, macros=(), kind="public", then_status=""):
    data = {"body": body, "kind": kind, "then_status": then_status, "status_seen": ticket.status,
            "macro": [str(m.pk) for m, _ in macros]}
    data.update({f"macro_seen_{m.pk}": json.dumps(seen) for m, seen in macros})
    return client.post(reverse("tickets:reply", args=[ticket.pk]), data, follow=True)


def test_reply_with_a_macro_applies_its_actions_and_counts_the_use(client, agent, ticket):
    macro = make_macro("Parcel", "On its way", set_status="pending", add_tags="shipping")
    client.force_login(agent)
    seen = picker(client, ticket).json()["macros"][0]["seen"]

    response = reply(client, ticket, "On its way", macros=[(macro, seen)])

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    assert list(ticket.tags.values_list("name", flat=True)) == ["shipping"]
    assert ticket.comments.get().body == "On its way"
    macro.refresh_from_db()
    assert macro.usage_count == 1
    assert "Macro “Parcel” applied: Status: Open → Pending; Tags: +shipping." in response.content.decode()


def test_and_set_status_to_wins_over_the_macros_status(client, agent, ticket):
    macro = make_macro("Parcel", "", set_status="pending", set_priority="3")
    client.force_login(agent)
    reply(client, ticket, "Done", macros=[(macro, {"status": "open", "priority": 2})], then_status="solved")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED and ticket.priority == Ticket.Priority.HIGH


def test_several_macros_apply_in_the_order_chosen(client, agent, ticket):
    first = make_macro("Tag", "", add_tags="one", set_priority="3")
    second = make_macro("Urgent", "", set_priority="4")
    client.force_login(agent)
    reply(client, ticket, "Both", macros=[(first, {"priority": 2}), (second, {"priority": 2})])
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT and list(ticket.tags.values_list("name", flat=True)) == ["one"]
    assert Macro.objects.filter(usage_count=1).count() == 2


def test_an_internal_note_can_carry_a_macro_too(client, agent, ticket):
    macro = make_macro("Escalate", "Escalating to billing", set_priority="4")
    client.force_login(agent)
    reply(client, ticket, "Escalating to billing", macros=[(macro, {"priority": 2})], kind="internal")
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.URGENT and not ticket.comments.get().is_public


def test_a_reply_held_because_someone_answered_meanwhile_keeps_its_macro_for_the_next_submit(client, agent, ticket):
    from tickets.comments import add_comment

    macro = make_macro("Parcel", "", set_status="pending")
    seen_id = add_comment(ticket, body="Where is it?", author_requester=ticket.requester).pk
    add_comment(ticket, body="Checking!", author_user=UserFactory(username="walter"), is_public=True)
    client.force_login(agent)
    post = {"body": "On its way", "kind": "public", "seen_comment_id": str(seen_id), "macro": str(macro.pk),
            f"macro_seen_{macro.pk}": json.dumps({"status": "open"})}

    held = client.post(reverse("tickets:reply", args=[ticket.pk]), post)

    assert held.status_code == 409
    page = held.content.decode()
    assert f'<input type="hidden" name="macro" value="{macro.pk}">' in page
    assert f'name="macro_seen_{macro.pk}" value="{{&quot;status&quot;: &quot;open&quot;}}"' in page
    assert "Status: Open → Pending" in page
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN

    newest = ticket.comments.order_by("-pk").first().pk
    client.post(reverse("tickets:reply", args=[ticket.pk]), {**post, "seen_comment_id": str(newest)})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING


def test_a_refused_reply_applies_nothing(client, agent, ticket):
    macro = make_macro("Parcel", "", set_status="pending")
    client.force_login(agent)
    response = client.post(reverse("tickets:reply", args=[ticket.pk]),
                           {"body": "", "kind": "public", "macro": str(macro.pk)})
    assert response.status_code == 400
    ticket.refresh_from_db()
    macro.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and macro.usage_count == 0


def test_another_agents_personal_macro_cannot_be_applied(client, agent, ticket):
    theirs = make_macro("Walter's", "", set_status="solved", owner=UserFactory(username="walter"))
    client.force_login(agent)
    response = reply(client, ticket, "Hello", macros=[(theirs, {})])
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert "no longer available" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.usage_count == 0


def test_the_reply_box_offers_the_picker(client, agent, ticket):
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    url = reverse("macros:for_ticket", args=[ticket.pk])
    assert f'data-macros data-url="{url}"' in page
    assert "business_rules/macros/picker.js" in page


# --- the agent's own macros ----------------------------------------------------------------

def test_agent_creates_edits_and_deletes_a_personal_macro(client, agent):
    group = GroupFactory(name="Billing")
    client.force_login(agent)
    response = client.post(reverse("macros:new"), {"title": "Mine", "body": "Hi {{requester.first_name}}",
                                                   "active": "on", "set_group": str(group.pk), "add_tags": "a b"})
    assert response.status_code == 302
    macro = Macro.objects.get(title="Mine")
    assert macro.owner == agent
    assert sorted((a.action, a.value) for a in macro.actions.all()) == [("add_tags", "a b"), ("set_group", str(group.pk))]

    page = client.get(reverse("macros:edit", args=[macro.pk])).content.decode()
    assert f'<option value="{group.pk}" selected>Billing</option>' in page
    client.post(reverse("macros:edit", args=[macro.pk]), {"title": "Mine", "body": "Hello", "active": "on",
                                                          "set_group": "-"})
    macro.refresh_from_db()
    assert macro.body == "Hello" and [(a.action, a.value) for a in macro.actions.all()] == [("set_group", "")]

    assert "Mine" in client.get(reverse("macros:mine")).content.decode()
    assert "Delete the macro “Mine”?" in client.get(reverse("macros:delete", args=[macro.pk])).content.decode()
    assert Macro.objects.filter(pk=macro.pk).exists()  # asking deletes nothing
    client.post(reverse("macros:delete", args=[macro.pk]))
    assert not Macro.objects.filter(pk=macro.pk).exists()


def test_agent_cannot_touch_shared_or_other_agents_macros(client, agent):
    shared = make_macro("Shared", "x")
    theirs = make_macro("Theirs", "y", owner=UserFactory(username="walter"))
    client.force_login(agent)
    for macro in (shared, theirs):
        assert client.get(reverse("macros:edit", args=[macro.pk])).status_code == 404
        assert client.get(reverse("macros:delete", args=[macro.pk])).status_code == 404
        assert client.post(reverse("macros:delete", args=[macro.pk])).status_code == 404
    assert Macro.objects.count() == 2
    page = client.get(reverse("macros:mine")).content.decode()
    assert "Shared" in page and "Theirs" not in page


def test_restricted_agent_is_offered_only_their_own_groups(client):
    mine, theirs = GroupFactory(name="Mine"), GroupFactory(name="Theirs")
    rita = UserFactory(username="rita", role=User.Role.RESTRICTED)
    rita.allowed_groups.add(mine)
    client.force_login(rita)
    response = client.post(reverse("macros:new"), {"title": "Move", "active": "on", "set_group": str(theirs.pk)})
    assert response.status_code == 400 and not Macro.objects.exists()
    assert "Theirs" not in client.get(reverse("macros:new")).content.decode()


def test_agent_pages_need_a_login(client):
    for url in (reverse("macros:mine"), reverse("macros:new")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- shared macros in the admin ------------------------------------------------------------

def test_admin_creates_a_shared_macro_with_actions(client):
    client.force_login(AdminFactory(username="root"))
    response = client.post(reverse("admin:business_rules_macro_add"), {
        "title": "Refund", "body": "Refunded, {{requester.first_name}}.", "owner": "", "active": "on",
        "set_status": "solved", "add_tags": "refund",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    macro = Macro.objects.get()
    assert macro.is_shared
    assert sorted((a.action, a.value) for a in macro.actions.all()) == [("add_tags", "refund"), ("set_status", "solved")]
    assert "Refund" in client.get(reverse("admin:business_rules_macro_changelist")).content.decode()
    change = client.get(reverse("admin:business_rules_macro_change", args=[macro.pk])).content.decode()
    assert '<option value="solved" selected>Solved</option>' in change and 'value="refund"' in change


def test_agents_cannot_manage_macros_in_the_admin(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:business_rules_macro_changelist")).status_code == 302
