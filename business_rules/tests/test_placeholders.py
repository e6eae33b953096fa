import pytest
from django.core.exceptions import ValidationError

from business_rules.placeholders import KNOWN, check_placeholders, placeholder_values, render
from tickets.models import Channel, Comment, Identity
from tickets.tests.factories import GroupFactory, RequesterFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def values(settings):
    settings.SITE_URL = "https://help.example.com"
    requester = RequesterFactory(name="Alice Doe")
    identities = [
        Identity.objects.create(requester=requester, kind="x", value="1", handle="alice"),
        Identity.objects.create(requester=requester, kind="email", value="alice@example.com"),
    ]
    ticket = TicketFactory(
        requester=requester,
        subject="Parcel",
        channel=Channel.X_DM,
        group=GroupFactory(name="Social"),
        assignee=UserFactory(first_name="Bob", last_name="Agent"),
    )
    comment = Comment.objects.create(ticket=ticket, body="Where is it?", author_requester=requester)
    agent = UserFactory(username="cora", first_name="Cora", last_name="Agent")
    return ticket, placeholder_values(ticket, tags={"vip", "dm"}, identities=identities, comment=comment,
                                      current_user=agent)


def test_every_known_placeholder_renders(values):
    ticket, vals = values
    assert set(vals) == set(KNOWN)
    text = " | ".join(f"{{{{{name}}}}}" for name in KNOWN)
    assert render(text, vals) == " | ".join(
        [
            str(ticket.pk),
            f"https://help.example.com{ticket.get_absolute_url()}",
            "Parcel",
            "New",
            "Normal",
            "X DM",
            "dm vip",
            "Social",
            "Bob Agent",
            "Alice Doe",
            "Alice",
            "@alice",
            "alice@example.com",
            "Where is it?",
            "Alice Doe",
            "Cora Agent",
            "Cora",
        ]
    )


def test_spacing_inside_braces_is_allowed(values):
    ticket, vals = values
    assert render("#{{ ticket.id }}", vals) == f"#{ticket.pk}"


def test_template_syntax_is_not_evaluated(values):
    """Admin-typed text is not a template: tags, filters and attribute walks stay literal."""
    _, vals = values
    text = "{% debug %} {{ ticket.subject|upper }} {{ ticket.requester.identities }}"
    assert render(text, vals) == text


def test_untrusted_values_are_inserted_as_they_are(values):
    ticket, vals = values
    vals["comment.body"] = "{{ticket.id}} <script>"
    assert render("Said: {{comment.body}}", vals) == "Said: {{ticket.id}} <script>"


def test_unknown_placeholders_are_refused_on_save():
    with pytest.raises(ValidationError, match="ticket.password"):
        check_placeholders("Hi {{ticket.password}} from {{requester.name}}")
    check_placeholders("Hi {{requester.name}}, see {{ticket.url}}")


def test_missing_values_render_empty():
    ticket = TicketFactory(requester=RequesterFactory(name="Nobody"))
    vals = placeholder_values(ticket, tags=set(), identities=[], comment=None)
    assert render("[{{requester.email}}][{{ticket.group}}][{{comment.body}}][{{current_user.name}}]", vals) == "[][][][]"


def test_first_names_are_the_first_word_or_the_agents_own():
    ticket = TicketFactory(requester=RequesterFactory(name="  Ada   Lovelace "))
    agent = UserFactory(username="grace", first_name="", last_name="")
    vals = placeholder_values(ticket, tags=set(), identities=[], comment=None, current_user=agent)
    assert render("{{requester.first_name}}/{{current_user.first_name}}", vals) == "Ada/grace"
