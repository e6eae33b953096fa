"""Demo data for `make run`: people of every role, groups, requesters with email and X
identities, and a few tickets on the web, email and X channels.

`make run` calls this on every start, so it is idempotent (everything is looked up by a
natural key before it is created) and cheap when the data is already there: no password is
hashed again, no ticket doubled. Events are not sent (notify=False): a demo start must not
make business rules or the X channel act on make-believe tickets.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tickets.comments import add_comment
from tickets.lifecycle import open_ticket, update_ticket
from tickets.models import Channel, Comment, Group, Identity, Requester, Ticket, User

PEOPLE = [
    # username, password, role, first name, groups
    ("admin", "admin-demo-pass", User.Role.ADMIN, "Ada Admin", ["Support", "Billing", "Social"]),
    ("alice", "alice-demo-pass", User.Role.AGENT, "Alice Agent", ["Support"]),
    ("bob", "bob-demo-pass", User.Role.AGENT, "Bob Agent", ["Billing"]),
    ("rita", "rita-demo-pass", User.Role.RESTRICTED, "Rita Restricted", ["Social"]),
]
# Rita sees the Social group's tickets and anything arriving over X.
RESTRICTED_REACH = {"rita": (["Social"], [Channel.X, Channel.X_DM])}

REQUESTERS = [
    # name, email, X (user id, handle, display name, followers, verified)
    ("Grace Hopper", "grace@example.com", ("900000001", "gracehopper_demo", "Grace H.", 15230, True)),
    ("Alan Turing", "alan@example.com", None),
    ("Katherine Johnson", None, ("900000003", "kjohnson_demo", "Katherine", 87, False)),
]


class Command(BaseCommand):
    help = "Create (or keep) the demo users, groups, requesters and tickets, and print the logins."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("Support", "Billing", "Social")}
            users = {username: self._user(username, *rest, groups) for username, *rest in PEOPLE}
            requesters = {r[0]: self._requester(*r) for r in REQUESTERS}
            created = self._tickets(users, groups, requesters)
        self.stdout.write(f"Demo data ready ({created} new tickets, {Ticket.objects.count()} in all).")
        self.stdout.write("Log in at /login/ with:")
        for username, password, role, *_ in PEOPLE:
            self.stdout.write(f"  {User.Role(role).label:<17} {username} / {password}")

    def _user(self, username, password, role, full_name, group_names, groups) -> User:
        first, _, last = full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "first_name": first, "last_name": last, "email": f"{username}@helpdesk.localhost"},
        )
        if created:
            user.set_password(password)
            user.save()
            user.groups_member_of.set([groups[g] for g in group_names])
            if username in RESTRICTED_REACH:
                allowed_groups, channels = RESTRICTED_REACH[username]
                user.allowed_groups.set([groups[g] for g in allowed_groups])
                user.allowed_channels = list(channels)
                user.save(update_fields=["allowed_channels"])
        return user

    def _requester(self, name, email, x) -> Requester:
        key = (Identity.Kind.EMAIL, email) if email else (Identity.Kind.X, x[0])
        identity = Identity.objects.filter(kind=key[0], value=key[1]).select_related("requester").first()
        if identity:
            return identity.requester
        requester = Requester.objects.create(name=name)
        if email:
            # The demo requesters wrote from these: confirmed, and where replies by email go.
            Identity.objects.create(requester=requester, kind=Identity.Kind.EMAIL, value=email,
                                    confirmed_at=timezone.now(), is_primary=True)
        if x:
            user_id, handle, display_name, followers, verified = x
            Identity.objects.create(
                requester=requester, kind=Identity.Kind.X, value=user_id, handle=handle,
                display_name=display_name, followers=followers, verified=verified,
            )
        return requester

    def _tickets(self, users, groups, requesters) -> int:
        grace, alan, kath = (requesters[n] for n in ("Grace Hopper", "Alan Turing", "Katherine Johnson"))
        alice, bob = users["alice"], users["bob"]
        specs = [
            dict(
                requester=alan, subject="Cannot log in after password reset", channel=Channel.EMAIL,
                group=groups["Support"], fields={"priority": Ticket.Priority.HIGH},
                thread=[
                    (None, "Hi, I reset my password yesterday and now the login page just reloads.", True),
                    (alice, "Checked the auth logs: his session cookie is rejected. Looks like the clock bug.", False),
                    (alice, "Sorry about that, Alan. Could you try clearing cookies and logging in again?", True),
                ],
            ),
            dict(
                requester=grace, subject="@support_demo my order #1042 never arrived", channel=Channel.X,
                group=groups["Social"], tweet_ids=["1790000000000000001", "1790000000000000002"],
                thread=[
                    (None, "@support_demo my order #1042 never arrived and nobody answers my emails", True),
                    (None, "@support_demo still waiting…", True),
                ],
            ),
            dict(
                requester=kath, subject="Direct message from @kjohnson_demo", channel=Channel.X_DM,
                group=groups["Social"], dm_ids=["dm-demo-1"],
                thread=[(None, "Hello, is there a student discount on the annual plan?", True)],
            ),
            dict(
                requester=grace, subject="Invoice shows the wrong VAT number", channel=Channel.EMAIL,
                group=groups["Billing"], fields={"assignee": bob},
                thread=[
                    (None, "Our invoice for March shows our old VAT number. Can you re-issue it?", True),
                    (bob, "Re-issued with the new VAT number, it is attached to this message.", True),
                ],
                then={"status": Ticket.Status.SOLVED},
            ),
            dict(
                requester=alan, subject="Feature request: dark mode", channel=Channel.WEB, group=None,
                thread=[(None, "Would love a dark mode for the dashboard <3", True)],
                tags=["feature-request"],
            ),
        ]
        created = 0
        for spec in specs:
            if Ticket.objects.filter(subject=spec["subject"], requester=spec["requester"]).exists():
                continue
            created += 1
            self._ticket(spec)
        return created

    def _ticket(self, spec) -> None:
        ticket = open_ticket(
            requester=spec["requester"], subject=spec["subject"], channel=spec["channel"], group=spec["group"],
            notify=False, **spec.get("fields", {}),
        )
        external = [(Comment.Source.TWEET, i) for i in spec.get("tweet_ids", [])]
        external += [(Comment.Source.DM, i) for i in spec.get("dm_ids", [])]
        handle = next((i.handle for i in spec["requester"].identities.all() if i.kind == Identity.Kind.X), "")
        for author, body, public in spec["thread"]:
            source, external_id = external.pop(0) if author is None and external else ("", None)
            comment = add_comment(
                ticket, body=body, author_user=author, author_requester=None if author else spec["requester"],
                is_public=public, external_source=source, external_id=external_id, notify=False,
            )
            if source == Comment.Source.TWEET:
                Comment.objects.filter(pk=comment.pk).update(external_url=f"https://x.com/{handle}/status/{external_id}")
        ticket.refresh_from_db()
        if spec.get("tags") or spec.get("then"):
            update_ticket(ticket, tags=spec.get("tags"), notify=False, **spec.get("then", {}))
