"""Hold the X Activity API stream open and record its events (the `stream` process of the
Procfile). Idles, holding no connection, while no account is in stream mode; stops cleanly on
SIGTERM/SIGINT."""

from __future__ import annotations

import math
import signal

from django.core.management.base import BaseCommand

from twitter_channel.realtime.stream_consumer import StreamConsumer


def seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse turns the ValueError into a usage error)."""
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(text)
    return value


class Stopped(Exception):
    """SIGTERM or SIGINT arrived."""


class Command(BaseCommand):
    help = "Consume GET /2/activity/stream for the accounts in stream mode, reconnecting with backfill."

    def add_arguments(self, parser):
        parser.add_argument("--exit-when-idle", action="store_true",
                            help="Exit when no account is in stream mode (default: wait for one).")
        parser.add_argument("--max-seconds", type=seconds, help="Stop after this long (benchmarks, checks).")
        parser.add_argument("--backoff-base", type=seconds, default=1.0, help="First reconnect delay (s).")
        parser.add_argument("--read-timeout", type=seconds, default=60.0,
                            help="Silence (s) after which the stream counts as dropped; X sends keep-alives.")

    def handle(self, *args, exit_when_idle=False, max_seconds=None, backoff_base=1.0, read_timeout=60.0, **options):
        consumer = StreamConsumer(backoff_base=backoff_base, read_timeout=read_timeout)

        def stop(signum, frame):
            consumer.stop.set()
            # Python retries a read interrupted by a signal (PEP 475) unless the handler raises:
            # without this, a quiet stream would hold the process until X's next keep-alive.
            raise Stopped

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            stats = consumer.run(exit_when_idle=exit_when_idle, max_seconds=max_seconds)
        except Stopped:
            stats = consumer.stats  # an event being recorded just then was rolled back; backfill brings it again
        self.stdout.write(f"x_stream: {stats.connections} connection(s), {stats.drops} drop(s), "
                          f"{stats.recorded} new event(s) of {stats.lines} line(s)")
