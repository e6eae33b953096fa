"""The cast of the UI tests: one user per role, and tickets inside and outside a restricted
agent's reach. Imported by the test_views_*/test_access_* modules (`from .ui_fixtures import *`)."""

import pytest

from tickets.models import Channel, User

from .factories import AdminFactory, GroupFactory, TicketFactory, UserFactory


@pytest.fixture
def support_group(db):
    return GroupFactory(name="Support")


@pytest.fixture
def billing_group(db):
    return GroupFactory(name="Billing")


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="ada")


@pytest.fixture
def agent(db):
    return UserFactory(username="alan", role=User.Role.AGENT)


@pytest.fixture
def restricted(db, support_group):
    """Sees the Support group's tickets and X tickets, nothing else."""
    user = UserFactory(username="rita", role=User.Role.RESTRICTED, allowed_channels=[Channel.X])
    user.allowed_groups.add(support_group)
    return user


@pytest.fixture
def allowed_ticket(db, support_group):
    """A ticket the restricted agent may see (through its group)."""
    return TicketFactory(subject="Printer on fire", group=support_group, channel=Channel.EMAIL)


@pytest.fixture
def forbidden_ticket(db, billing_group):
    """A ticket outside the restricted agent's groups and channels."""
    return TicketFactory(subject="Refund for invoice 42", group=billing_group, channel=Channel.EMAIL)
