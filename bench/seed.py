"""Fill the database with a production-sized helpdesk, fast: PostgreSQL COPY, not the ORM.

100,000 tickets and 1,000,000 comments through `add_comment` would take hours; COPY
writes them in minutes. The rows are what the app itself would write (consistent
`comment_count`, `solved_at`, external ids on X and email comments), so the views see
realistic data, but no signal, trigger or lifecycle rule runs: this is a data fixture,
not a replay.

Deterministic: the same `Scale` and seed give the same rows, so runs compare.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from tickets.models import Channel, Comment, Group, Identity, Requester, Tag, Ticket, User
from twitter_channel.models import XAccount

BENCH_AGENT = "bench-agent"
BENCH_RESTRICTED = "bench-restricted"
BENCH_ADMIN = "bench-admin"
BENCH_PASSWORD = "bench-pass-123"
BIG_TICKET_SUBJECT = "Bench: a conversation at the comment limit"
# A word planted in a known share of comments, so a search has a realistic hit rate.
RARE_WORD = "chargeback"
RARE_WORD_SHARE = 0.002
RESTRICTED_CHANNELS = [Channel.X]


@dataclass(frozen=True)
class Scale:
    tickets: int = 100_000
    comments: int = 1_000_000
    big_ticket_comments: int = 5_000
    requesters: int = 30_000
    agents: int = 40
    groups: int = 12
    tags: int = 60

    def __post_init__(self) -> None:
        # Every ticket carries at least one comment, the big one carries its own count.
        if self.comments < self.big_ticket_comments + self.tickets - 1:
            raise ValueError("comments must cover the big ticket plus one per other ticket")
        if self.tickets < 2 or self.requesters < 1 or self.agents < 1 or self.groups < 2 or self.tags < 1:
            raise ValueError("scale too small to be a helpdesk")


FULL = Scale()

STATUS_WEIGHTS = {
    Ticket.Status.NEW: 10,
    Ticket.Status.OPEN: 25,
    Ticket.Status.PENDING: 10,
    Ticket.Status.ON_HOLD: 5,
    Ticket.Status.SOLVED: 15,
    Ticket.Status.CLOSED: 35,
}
CHANNEL_WEIGHTS = {
    Channel.X: 35,
    Channel.X_DM: 10,
    Channel.X_LIKE: 5,
    Channel.EMAIL: 30,
    Channel.WEB: 15,
    Channel.API: 5,
}
PRIORITY_WEIGHTS = {1: 15, 2: 60, 3: 20, 4: 5}

FIRST_NAMES = (
    "Ada Alan Amara Ana Aiko Bea Ben Carlos Chen Dana Diego Elif Emma Eva Farah Femi Grace Hana Ines Ivan "
    "Jamal Jonas Kai Kofi Lea Leo Lina Luca Maya Mei Mila Nadia Noah Omar Priya Rafael Rosa Sami Sara Tariq "
    "Tomas Uma Vera Wei Yara Yusuf Zoe Zara Nils Ola"
).split()
LAST_NAMES = (
    "Abara Novak Okafor Silva Tanaka Weber Kowalski Haddad Jensen Moreau Rossi Kim Nguyen Patel Garcia Smith "
    "Müller Ivanova Dubois Larsen Costa Ahmed Cohen Schmidt Yilmaz Fischer Lopez Martin Brown Wilson Mendes "
    "Hoang Sato Berg Nowak Popescu Horvat Eriksson Fernandes Oliveira Kaya Demir Ito Park Lee Chan Singh Ali"
).split()
WORDS = (
    "account order delivery refund payment card invoice login password app update error crash screen "
    "shipping tracking package late missing broken replace return exchange size colour store online "
    "subscription cancel renew plan price discount coupon code email phone address change help please "
    "thanks urgent still waiting again since yesterday today week month support agent reply answer "
    "problem issue question working not cannot why how when where stock available battery charger cable "
    "screen headphones speaker camera photo upload download sync settings notification message link "
    "website checkout basket cart voucher gift receipt bank transfer pending failed declined charged "
    "twice wrong item colour damaged box courier driver doorstep neighbour pickup locker branch hours"
).split()
SUBJECT_OPENERS = (
    "Problem with", "Question about", "Still waiting for", "Help with", "Complaint about", "Where is my",
    "Cannot find my", "Issue with", "Refund for", "Update on",
)


@dataclass
class SeedResult:
    tickets: int
    comments: int
    big_ticket_id: int
    seconds: float


def seed(scale: Scale = FULL, *, seed: int = 1, log: Callable[[str], None] = print) -> SeedResult:
    """Replace every helpdesk row with a generated helpdesk of `scale`. PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise RuntimeError(f"the bench seeder writes with PostgreSQL COPY; this database is {connection.vendor}")
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    # One transaction: an interrupted seed leaves the previous data and every index intact.
    with transaction.atomic(), connection.cursor() as cursor:
        # Check foreign keys as each COPY ends rather than queue a million checks for COMMIT
        # (Django creates them DEFERRABLE INITIALLY DEFERRED); TRUNCATE also refuses to run
        # while checks are pending, as they are in a test's transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _truncate(cursor)
        groups = _create_named(Group, [f"Team {i + 1:02d}" for i in range(scale.groups)])
        tags = _create_named(Tag, [f"tag-{i + 1:03d}" for i in range(scale.tags)])
        accounts = _seed_x_accounts()
        agents = _seed_users(scale, groups, now)
        log(f"  people: {scale.agents} agents, admin, restricted agent ({time.perf_counter() - started:.1f} s)")
        with _secondary_indexes_dropped(cursor, [Requester, Identity, Ticket, Ticket.tags.through, Comment]) as n:
            _seed_requesters(cursor, scale, rng, now)
            log(f"  requesters: {scale.requesters:,} with identities ({time.perf_counter() - started:.1f} s)")
            tickets = _seed_tickets(cursor, scale, rng, now, agents, groups, accounts, tags)
            log(f"  tickets: {scale.tickets:,} with tags ({time.perf_counter() - started:.1f} s)")
            _seed_comments(cursor, scale, rng, tickets, agents)
            log(f"  comments: {scale.comments:,} ({time.perf_counter() - started:.1f} s); rebuilding {n} indexes")
        log(f"  indexes rebuilt ({time.perf_counter() - started:.1f} s)")
        _reset_sequences(cursor)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default
    return SeedResult(scale.tickets, scale.comments, tickets.big_ticket_id, time.perf_counter() - started)


def is_seeded(scale: Scale = FULL) -> bool:
    """True if the database holds a seeded helpdesk of this scale (cheap checks, not a full audit)."""
    big = Ticket.objects.filter(subject=BIG_TICKET_SUBJECT).values_list("comment_count", flat=True).first()
    return (
        big == scale.big_ticket_comments
        and Ticket.objects.count() == scale.tickets
        and User.objects.filter(username=BENCH_AGENT).exists()
    )


def big_ticket() -> Ticket:
    return Ticket.objects.get(subject=BIG_TICKET_SUBJECT)


# --- tables -----------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _copy(cursor, model, columns: list[str], rows: Iterable[tuple]) -> None:
    """COPY rows into a model's table. Columns not listed get the field's default, so a
    field another engineer adds (with a default, or nullable) does not break the seeder."""
    extra_columns, extra_values = defaults_for_other_columns(model, columns)
    table = _table(model)
    column_list = ", ".join(connection.ops.quote_name(c) for c in [*columns, *extra_columns])
    # cursor.copy is psycopg 3's COPY FROM STDIN: rows stream in one round trip.
    with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
        if not extra_values:
            for row in rows:
                copy.write_row(row)
        else:
            for row in rows:
                copy.write_row((*row, *extra_values))


def defaults_for_other_columns(model, columns: list[str]) -> tuple[list[str], tuple]:
    """The model's columns not in `columns`, and a value for each: its field's default (now
    for auto_now fields, NULL for a nullable one). A NOT NULL field without a default stops
    the seeder with its name."""
    names, values = [], []
    now = datetime.now(UTC)
    for field in model._meta.concrete_fields:
        if field.column in columns:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            raise RuntimeError(
                f"bench seeder: {model.__name__}.{field.name} has no default; give it a value in the seeder"
            )
        names.append(field.column)
        values.append(field.get_db_prep_save(value, connection))
    return names, tuple(values)


@contextmanager
def _secondary_indexes_dropped(cursor, models) -> Iterator[int]:
    """Drop the tables' indexes that back no constraint, and rebuild them afterwards.

    Building an index once over loaded rows is several times faster than updating it row
    by row, above all the trigram GIN index on comment bodies. Primary keys and unique
    constraints stay, so the load is still checked.
    """
    tables = [model._meta.db_table for model in models]
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield len(indexes)
    # More memory than the server's default makes the GIN build several times faster.
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        cursor.execute(definition)


def _truncate(cursor) -> None:
    tables = [
        Comment,
        Ticket.tags.through,
        Ticket,
        Identity,
        Requester,
        Tag,
        User.groups_member_of.through,
        User.allowed_groups.through,
        User,
        Group,
        XAccount,
    ]
    # CASCADE also empties other apps' rows pointing at these (rules logs, sessions' users...):
    # the bench database belongs to the bench. RESTART IDENTITY lets us write ids ourselves.
    cursor.execute(
        f"TRUNCATE {', '.join(_table(t) for t in tables)} RESTART IDENTITY CASCADE"
    )


def _reset_sequences(cursor) -> None:
    # Rows were copied with explicit ids; move each sequence past them so the app's
    # own inserts (a bench that adds a comment) do not collide.
    for model in (Group, Tag, XAccount, User, Requester, Identity, Ticket, Comment, Ticket.tags.through):
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {_table(model)}), 0) + 1, false)",
            [table],
        )


def _create_named(model, names: list[str]) -> list[int]:
    # Small tables go through the ORM: it fills every column other apps add.
    return [row.pk for row in model.objects.bulk_create(model(name=name) for name in names)]


def _seed_x_accounts() -> list[int]:
    accounts = XAccount.objects.bulk_create(
        XAccount(user_id=str(900_000_000 + i), username=f"brand_support{i}", display_name=f"Brand Support {i}")
        for i in range(1, 4)
    )
    return [account.pk for account in accounts]


def _seed_users(scale: Scale, groups: list[int], now: datetime) -> list[int]:
    # A handful of rows: the ORM is fine here, and it fills every auth column correctly.
    password = make_password(BENCH_PASSWORD)
    users = [
        User(username=BENCH_AGENT if i == 0 else f"agent{i:03d}", first_name=f"Agent {i:03d}",
             email=f"agent{i}@helpdesk.example", role=User.Role.AGENT, password=password, date_joined=now)
        for i in range(scale.agents)
    ]
    admin = User(username=BENCH_ADMIN, role=User.Role.ADMIN, is_staff=True, password=password, date_joined=now)
    restricted = User(username=BENCH_RESTRICTED, role=User.Role.RESTRICTED, password=password,
                      date_joined=now, allowed_channels=list(RESTRICTED_CHANNELS))
    created = User.objects.bulk_create([*users, admin, restricted])
    agents = [u.pk for u in created[: scale.agents]]
    membership = User.groups_member_of.through
    membership.objects.bulk_create(
        membership(user_id=pk, group_id=groups[i % len(groups)]) for i, pk in enumerate(agents)
    )
    # The restricted agent sees one team's tickets plus every X mention.
    created[-1].allowed_groups.set([groups[0]])
    return agents


def _seed_requesters(cursor, scale: Scale, rng: random.Random, now: datetime) -> None:
    names = [f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(scale.requesters)]
    since = now - timedelta(days=900)
    _copy(cursor, Requester, ["id", "name", "created_at"],
          ((i + 1, name, since) for i, name in enumerate(names)))

    def identities():
        identity_id = 0
        for i, name in enumerate(names):
            requester_id = i + 1
            slug = name.lower().replace(" ", ".")
            # Everyone has an email (confirmed, their primary: they wrote from it); about half
            # also write from X, a few from two X accounts.
            identity_id += 1
            yield (identity_id, requester_id, "email", f"{slug}.{requester_id}@example.com", "", name, "",
                   None, False, now, since, True)
            for n in range(2 if i % 20 == 0 else 1 if i % 2 == 0 else 0):
                identity_id += 1
                handle = f"{slug.replace('.', '_')}{requester_id}{'_alt' if n else ''}"[:50]
                yield (identity_id, requester_id, "x", str(10**15 + requester_id * 10 + n), handle, name,
                       f"https://pbs.example.com/{handle}.jpg", rng.randrange(0, 50_000), rng.random() < 0.02, now,
                       None, False)

    _copy(cursor, Identity, ["id", "requester_id", "kind", "value", "handle", "display_name", "avatar_url",
                             "followers", "verified", "updated_at", "confirmed_at", "is_primary"], identities())


@dataclass
class SeededTickets:
    # Parallel lists indexed by ticket id - 1: what comments need to know about their ticket.
    channels: list[str]
    requesters: list[int]
    assignees: list[int | None]
    created: list[datetime]
    updated: list[datetime]
    comment_counts: list[int]
    big_ticket_id: int


def _comment_counts(scale: Scale, rng: random.Random, big_index: int) -> list[int]:
    others = scale.tickets - 1
    extra = scale.comments - scale.big_ticket_comments - others
    # One comment each, the rest spread at random: most tickets get a few, some a few dozen.
    spread = Counter(rng.choices(range(others), k=extra))
    counts = [1 + spread[i] for i in range(others)]
    counts.insert(big_index, scale.big_ticket_comments)
    return counts


def _seed_tickets(cursor, scale, rng, now, agents, groups, accounts, tags) -> SeededTickets:
    n = scale.tickets
    big_index = n // 2  # in the middle of the id range, like a real long-lived ticket
    statuses = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=n)
    channels = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()), k=n)
    priorities = rng.choices(list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()), k=n)
    counts = _comment_counts(scale, rng, big_index)
    history = timedelta(days=730).total_seconds()
    requesters, assignees, created, updated = [], [], [], []
    rows = []
    for i in range(n):
        ticket_id = i + 1
        status = statuses[i]
        # Ids grow with time, as they do in production: newer tickets have higher ids.
        created_at = now - timedelta(seconds=history * (1 - i / n) + rng.randrange(3600))
        updated_at = min(now, created_at + timedelta(seconds=rng.randrange(30 * 86400)))
        # New tickets are usually unassigned; a quarter of the rest wait in a group unassigned.
        assignee = None if status == Ticket.Status.NEW or rng.random() < 0.2 else rng.choice(agents)
        group = None if rng.random() < 0.1 else rng.choice(groups)
        channel = channels[i]
        subject = f"{rng.choice(SUBJECT_OPENERS)} {' '.join(rng.choices(WORDS, k=rng.randrange(2, 6)))}"
        if i == big_index:
            status, channel, assignee, group = Ticket.Status.OPEN, Channel.X, agents[0], groups[0]
            subject, created_at, updated_at = BIG_TICKET_SUBJECT, now - timedelta(days=200), now - timedelta(hours=1)
        solved_at = updated_at if status in (Ticket.Status.SOLVED, Ticket.Status.CLOSED) else None
        requester = rng.randrange(1, scale.requesters + 1)
        x_account = rng.choice(accounts) if channel in (Channel.X, Channel.X_DM, Channel.X_LIKE) else None
        # The "when" columns automations count from: the status changed at the last update
        # (when solved, for solved tickets); the requester wrote first; the assignee answered
        # at the last update of a ticket they hold past New.
        answered = updated_at if assignee is not None and status != Ticket.Status.NEW else None
        rows.append((ticket_id, subject, status, priorities[i], requester, assignee, group, channel, x_account,
                     None, counts[i], created_at, updated_at, solved_at, solved_at or updated_at, created_at,
                     answered, answered))
        channels[i] = channel
        requesters.append(requester)
        assignees.append(assignee)
        created.append(created_at)
        updated.append(updated_at)
    _copy(cursor, Ticket, ["id", "subject", "status", "priority", "requester_id", "assignee_id", "group_id",
                           "channel", "x_account_id", "follow_up_of_id", "comment_count", "created_at",
                           "updated_at", "solved_at", "status_changed_at", "requester_replied_at",
                           "agent_replied_at", "assignee_replied_at"], rows)
    del rows

    def ticket_tags():
        row_id = 0
        for ticket_id in range(1, n + 1):
            for tag in rng.sample(tags, rng.choice((0, 1, 1, 2, 2, 3))) if len(tags) >= 3 else tags:
                row_id += 1
                yield (row_id, ticket_id, tag)

    _copy(cursor, Ticket.tags.through, ["id", "ticket_id", "tag_id"], ticket_tags())
    return SeededTickets(channels, requesters, assignees, created, updated, counts, big_index + 1)


EXTERNAL_SOURCE = {
    Channel.X: Comment.Source.TWEET,
    Channel.X_LIKE: Comment.Source.TWEET,
    Channel.X_DM: Comment.Source.DM,
    Channel.EMAIL: Comment.Source.EMAIL,
}


def _seed_comments(cursor, scale: Scale, rng: random.Random, tickets: SeededTickets, agents: list[int]) -> None:
    random_ = rng.random
    choices = rng.choices
    randrange = rng.randrange

    def rows():
        comment_id = 0
        for index, count in enumerate(tickets.comment_counts):
            ticket_id = index + 1
            channel = tickets.channels[index]
            requester = tickets.requesters[index]
            agent = tickets.assignees[index] or agents[index % len(agents)]
            start = tickets.created[index]
            step = (tickets.updated[index] - start) / count
            source = EXTERNAL_SOURCE.get(channel, "")
            for n in range(count):
                comment_id += 1
                body = " ".join(choices(WORDS, k=randrange(6, 30)))
                if random_() < RARE_WORD_SHARE:
                    body += f" {RARE_WORD}"
                if random_() < 0.05:
                    body += f" order #{randrange(10**6, 10**7)}"
                from_requester = n % 2 == 0
                is_public = from_requester or random_() > 0.1
                # Inbound messages carry the id the channel gave them; replies were sent out.
                external_id = (
                    f"{source}-{comment_id}" if source and from_requester else None
                )
                delivery = "" if from_requester or not is_public or not source else "sent"
                yield (comment_id, ticket_id, None if from_requester else agent,
                       requester if from_requester else None, body, is_public, channel,
                       source if external_id else "", external_id, delivery, "", "", start + step * n)

    _copy(cursor, Comment, ["id", "ticket_id", "author_user_id", "author_requester_id", "body", "is_public",
                            "channel", "external_source", "external_id", "delivery", "delivery_error",
                            "external_url", "created_at"], rows())
