"""The feed's cursor over the event table: nothing read twice, nothing lost to a late commit."""

import pytest

from live.feed import read_new
from live.models import LiveEvent

pytestmark = pytest.mark.django_db


def _event(pk):
    return LiveEvent.objects.create(pk=pk, kind=LiveEvent.Kind.TICKET, ticket_id=1, data={})


def test_reads_each_event_once_in_order():
    _event(11), _event(12)
    events, cursor, gaps = read_new(10, {})
    assert [e.pk for e in events] == [11, 12] and cursor == 12 and gaps == {}
    events, cursor, gaps = read_new(cursor, gaps)
    assert events == [] and cursor == 12


def test_an_id_committed_late_is_still_delivered():
    # 13 was handed out first but its transaction committed after 14's.
    _event(12), _event(14)
    events, cursor, gaps = read_new(11, {})
    assert [e.pk for e in events] == [12, 14] and set(gaps) == {13}
    _event(13)
    events, cursor, gaps = read_new(cursor, gaps)
    assert [e.pk for e in events] == [13] and gaps == {} and cursor == 14


def test_old_events_and_forgotten_viewers_are_pruned():
    from datetime import timedelta

    from django.utils import timezone

    from live.feed import prune
    from live.models import Viewer
    from tickets.tests.factories import UserFactory

    old = timezone.now() - timedelta(hours=2)
    stale, fresh = _event(21), _event(22)
    LiveEvent.objects.filter(pk=stale.pk).update(created_at=old)
    user = UserFactory()
    Viewer.objects.create(ticket_id=1, user=user, channel_name="gone", seen_at=old)
    Viewer.objects.create(ticket_id=1, user=user, channel_name="here", seen_at=timezone.now())
    prune()
    assert list(LiveEvent.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(Viewer.objects.values_list("channel_name", flat=True)) == ["here"]
