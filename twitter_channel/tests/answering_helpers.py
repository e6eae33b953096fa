"""Small builders for the incoming-stream and answering tests."""

from __future__ import annotations

import itertools

from tickets.models import User
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.models import IncomingItem, XAccount

_ids = itertools.count(1_900_000_000_000_000_000)


def next_x_id() -> str:
    return str(next(_ids))


def make_account(username: str = "AcmeHelp", user_id: str = "900000000000000001", **fields) -> XAccount:
    fields.setdefault("access_token", "token-" + username)
    return XAccount.objects.create(user_id=user_id, username=username, **fields)


def make_item(account: XAccount, *, kind: str = IncomingItem.Kind.MENTION, text: str = "@AcmeHelp my order is late",
              author_id: str = "1000001", handle: str = "alice", state: str = IncomingItem.State.NEW,
              x_id: str | None = None, reply_to: str = "", conversation: str = "", mentions=("AcmeHelp",),
              **fields) -> IncomingItem:
    x_id = x_id or next_x_id()
    is_dm = kind in (IncomingItem.Kind.DM, IncomingItem.Kind.OWN_DM)
    fields.setdefault("raw", {"id": x_id, "text": text})
    return IncomingItem.objects.create(
        account=account, kind=kind, x_id=x_id,
        author_x_id=author_id, author_handle=handle, author_name=handle.title(), text=text,
        conversation_key=conversation or ("" if is_dm else x_id), in_reply_to_id=reply_to,
        mentioned_usernames=[] if is_dm else list(mentions), state=state, **fields,
    )


def roles() -> dict[str, User]:
    """One user per role, for permission matrices."""
    return {
        "admin": AdminFactory(),
        "agent": UserFactory(role=User.Role.AGENT),
        "restricted": UserFactory(role=User.Role.RESTRICTED),
    }
