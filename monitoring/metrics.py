"""The figures `/metrics` (Prometheus) and the system page show, gathered at scrape time.

Counters come from the database-backed `MetricCounter` rows (see `counters.py` for why) and
from the cost meter's daily rows; gauges (queue lengths, backlogs, pending work) are counted
from the database and the broker when asked, so no process has to keep them up to date.
Every query here is a GROUP BY over an indexed column or a small table.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from .counters import LAG_BUCKETS, parse_labels
from .models import MetricCounter

log = logging.getLogger(__name__)

HISTOGRAM_DOCS = {"helpdesk_x_intake_lag_seconds": "Seconds from a post or DM on X to its row in the helpdesk."}
COUNTER_DOCS = {
    "helpdesk_x_items_stored": "Items fetched from X (polled or pushed) and stored, once each.",
    "helpdesk_x_rate_limited": "Polls X answered 429 Too Many Requests.",
    "helpdesk_x_backoffs": "Polls that failed (5xx, timeout) and backed off.",
    "helpdesk_x_webhook_deliveries": "POSTs to the X webhook, accepted or refused.",
}
CELERY_QUEUES: tuple[str, ...] = ()  # the queues whose lengths are reported; empty: settings.WORK_QUEUES


class HelpdeskCollector:
    def collect(self) -> Iterator[Metric]:
        yield from self._stored_counters()
        yield from self._costs()
        yield from self._intake_gauges()
        yield from self._outboxes()
        yield from self._heartbeats()
        yield from self._tickets()
        yield from self._queues()

    # --- counters ------------------------------------------------------------------------
    def _stored_counters(self) -> Iterator[Metric]:
        histograms: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(lambda: {"buckets": {}}))
        counters: dict[str, list[tuple[dict, float]]] = defaultdict(list)
        for name, key, value in MetricCounter.objects.values_list("name", "labels", "value"):
            labels = parse_labels(key)
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAM_DOCS:
                    base = name[: -len(suffix)]
                    le = labels.pop("le", None)
                    series = histograms[base][",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
                    series["labels"] = labels
                    if suffix == "_bucket":
                        series["buckets"][le] = value
                    elif suffix == "_sum":
                        series["sum"] = value
                    break
            else:
                counters[name.removesuffix("_total")].append((labels, value))
        for base, series_by_key in histograms.items():
            label_names = sorted({k for s in series_by_key.values() for k in s.get("labels", {})})
            family = HistogramMetricFamily(base, HISTOGRAM_DOCS[base], labels=label_names)
            for series in series_by_key.values():
                buckets = [(str(float(b)) if b != "+Inf" else "+Inf", series["buckets"].get(str(b), 0))
                           for b in (*LAG_BUCKETS, "+Inf")]
                family.add_metric([series["labels"].get(n, "") for n in label_names], buckets,
                                  sum_value=series.get("sum", 0.0))
            yield family
        for name, values in counters.items():
            label_names = sorted({k for labels, _ in values for k in labels})
            family = CounterMetricFamily(name, COUNTER_DOCS.get(name, name), labels=label_names)
            for labels, value in values:
                family.add_metric([labels.get(n, "") for n in label_names], value)
            yield family

    def _costs(self) -> Iterator[Metric]:
        from twitter_channel.costs.models import XCostDay

        dollars = CounterMetricFamily("helpdesk_x_cost_dollars", "What X billed, by the cost meter's count.",
                                      labels=["account", "kind"])
        items = CounterMetricFamily("helpdesk_x_billed_items", "Items and requests X billed.",
                                    labels=["account", "kind"])
        rows = XCostDay.objects.values("account__username", "kind").annotate(c=Sum("cost_micros"), n=Sum("items"))
        for row in rows.order_by("account__username", "kind"):
            dollars.add_metric([row["account__username"], row["kind"]], row["c"] / 1_000_000)
            items.add_metric([row["account__username"], row["kind"]], row["n"])
        yield dollars
        yield items

    # --- gauges --------------------------------------------------------------------------
    def _intake_gauges(self) -> Iterator[Metric]:
        from twitter_channel.models import ActivityEvent, IncomingItem

        states = GaugeMetricFamily("helpdesk_x_items", "Items held, by account and state (converted, "
                                   "quarantined, new = waiting to be converted …).", labels=["account", "state"])
        quarantined = GaugeMetricFamily("helpdesk_x_quarantined_items", "Items that could not be converted.",
                                        labels=["account"])
        rows = IncomingItem.objects.values("account__username", "state").annotate(n=Count("pk"))
        for row in rows.order_by("account__username", "state"):
            states.add_metric([row["account__username"], row["state"]], row["n"])
            if row["state"] == IncomingItem.State.QUARANTINED:
                quarantined.add_metric([row["account__username"]], row["n"])
        yield states
        yield quarantined
        events = GaugeMetricFamily("helpdesk_x_activity_events", "Pushed X events held, by state.",
                                   labels=["state"])
        for row in ActivityEvent.objects.values("state").annotate(n=Count("pk")).order_by("state"):
            events.add_metric([row["state"]], row["n"])
        yield events

    def _outboxes(self) -> Iterator[Metric]:
        """Every outbox (X posts and DMs, emails, notifications): rows by state, and the age
        of the oldest message not yet delivered (queued or being sent)."""
        from tickets.outbox import Outbox, registered_outboxes

        depth = GaugeMetricFamily("helpdesk_outbox_messages", "Outgoing messages by outbox and state.",
                                  labels=["outbox", "state"])
        age = GaugeMetricFamily("helpdesk_outbox_oldest_undelivered_seconds",
                                "Age of the oldest message not yet delivered, per outbox (0: none).",
                                labels=["outbox"])
        undelivered = [Outbox.State.QUEUED, Outbox.State.SENDING]
        for model in sorted(registered_outboxes(), key=lambda m: m._meta.label):
            name = model._meta.label
            for row in model.objects.values("state").annotate(n=Count("pk")).order_by("state"):
                depth.add_metric([name, row["state"]], row["n"])
            oldest = model.objects.filter(state__in=undelivered).aggregate(t=Min("created_at"))["t"]
            age.add_metric([name], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield depth
        yield age

    def _heartbeats(self) -> Iterator[Metric]:
        from helpdesk.models import Heartbeat

        family = GaugeMetricFamily("helpdesk_heartbeat_age_seconds",
                                   "Seconds since beat / a worker last stamped its heartbeat.", labels=["process"])
        now = timezone.now()
        for name, at in Heartbeat.objects.values_list("name", "at").order_by("name"):
            family.add_metric([name], (now - at).total_seconds())
        yield family

    def _tickets(self) -> Iterator[Metric]:
        from tickets.models import Ticket

        backlog = GaugeMetricFamily("helpdesk_tickets", "Tickets by status.", labels=["status"])
        for row in Ticket.objects.values("status").annotate(n=Count("pk")).order_by("status"):
            backlog.add_metric([row["status"]], row["n"])
        yield backlog

    def _queues(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("helpdesk_celery_queue_length", "Tasks waiting in the broker, per queue.",
                                   labels=["queue"])
        for queue, length in celery_queue_lengths().items():
            family.add_metric([queue], length)
        yield family


def celery_queue_lengths() -> dict[str, int]:
    """Tasks waiting per queue, read from Redis (LLEN of each queue's list, priorities included);
    empty when the broker is not Redis."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        lengths = {}
        for queue in CELERY_QUEUES or settings.WORK_QUEUES:
            # kombu keeps priority levels in sibling lists named "<queue>\x06\x16<n>".
            names = [queue] + [f"{queue}\x06\x16{n}" for n in range(1, 10)]
            lengths[queue] = sum(client.llen(name) for name in names)
        return lengths
    except redis.RedisError:
        log.warning("could not read the Celery queue lengths from Redis")
        return {}
