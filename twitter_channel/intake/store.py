"""Storing what X returned, exactly once.

Every fetched item becomes one `IncomingItem` row holding its raw JSON, before anything
else looks at it. Rows go in with one bulk INSERT ... ON CONFLICT DO NOTHING, so a page
fetched twice (a retried poll, a worker killed after the insert, two polls racing) never
doubles anything: the unique constraint on (account, kind, x_id) is the last word.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from django.db import transaction

from twitter_channel.models import IncomingItem, Stream, XAccount
from twitter_channel.x.types import Malformed, Page, XDMEvent, XMedia, XTweet, XUser

# One INSERT per this many rows keeps statements a reasonable size on big bursts.
BATCH_SIZE = 500


def item_from_tweet(account: XAccount, stream: str, tweet: XTweet, users: dict[str, XUser],
                    media: dict[str, XMedia] | None = None) -> IncomingItem:
    author = users.get(tweet.author_id)
    if stream == Stream.LIKES:
        kind = IncomingItem.Kind.LIKE
    elif tweet.author_id == account.user_id:
        kind = IncomingItem.Kind.OWN_TWEET
    else:
        kind = IncomingItem.Kind.MENTION
    return IncomingItem(
        account=account,
        kind=kind,
        x_id=tweet.id,
        raw=tweet.raw or {"id": tweet.id, "text": tweet.text},
        author_x_id=tweet.author_id or "",
        text=tweet.text,
        urls=[[u.url, u.expanded_url] for u in tweet.urls],
        x_created_at=tweet.created_at,
        conversation_key=tweet.conversation_id or "",
        in_reply_to_id=tweet.replied_to_id or "",
        is_retweet=tweet.is_retweet,
        is_quote=tweet.is_quote,
        mentioned_usernames=list(tweet.mentioned_usernames),
        media=_media_of(tweet.media_keys, media),
        **_author_fields(author),
    )


def item_from_dm(account: XAccount, event: XDMEvent, users: dict[str, XUser],
                 media: dict[str, XMedia] | None = None) -> IncomingItem:
    own = event.sender_id == account.user_id
    return IncomingItem(
        account=account,
        kind=IncomingItem.Kind.OWN_DM if own else IncomingItem.Kind.DM,
        x_id=event.id,
        raw=event.raw or {"id": event.id, "event_type": event.event_type},
        author_x_id=event.sender_id or "",
        text=event.text if event.event_type == "MessageCreate" else "",
        x_created_at=event.created_at,
        conversation_key=event.dm_conversation_id,
        is_group=event.is_group,
        media=_media_of(event.media_keys, media),
        # Join/leave events carry no message; conversion leaves them aside.
        state=IncomingItem.State.NEW if event.event_type == "MessageCreate" else IncomingItem.State.IGNORED,
        state_reason="" if event.event_type == "MessageCreate" else f"{event.event_type} event, not a message",
        **_author_fields(users.get(event.sender_id or "")),
    )


def item_from_malformed(account: XAccount, stream: str, bad: Malformed) -> IncomingItem:
    """An item the adapter could not parse: kept with its raw body, quarantined, never dropped.

    Without a usable id it is keyed on a hash of its raw JSON, so refetching the same broken
    item does not store it twice."""
    raw = bad.raw if isinstance(bad.raw, dict | list) else {"unparsed": repr(bad.raw)}
    x_id = bad.x_id or "malformed:" + hashlib.sha1(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return IncomingItem(
        account=account,
        kind=STREAM_KIND[stream],
        x_id=x_id[:64],
        raw=raw,
        state=IncomingItem.State.QUARANTINED,
        state_reason=f"Could not parse: {bad.reason}"[:2000],
    )


STREAM_KIND = {
    Stream.MENTIONS: IncomingItem.Kind.MENTION,
    Stream.DMS: IncomingItem.Kind.DM,
    Stream.LIKES: IncomingItem.Kind.LIKE,
}


def items_from_page(account: XAccount, stream: str, page: Page) -> list[IncomingItem]:
    rows: list[IncomingItem] = []
    for entry in page.items:
        if isinstance(entry, XDMEvent):
            rows.append(item_from_dm(account, entry, page.users, page.media))
        else:
            rows.append(item_from_tweet(account, stream, entry, page.users, page.media))
    rows.extend(item_from_malformed(account, stream, bad) for bad in page.malformed)
    return rows


def store_items(rows: Iterable[IncomingItem]) -> int:
    """Insert the rows that are not stored yet; returns how many were new.

    Call it inside the transaction that also advances the stream's cursor."""
    return len(insert_new_items(rows))


def insert_new_items(rows: Iterable[IncomingItem]) -> list[IncomingItem]:
    """Insert the rows of one account that are not stored yet (the first of any repeated
    kind and id); returns those rows, in the order given."""
    rows = list(rows)
    if not rows:
        return []
    account_id = rows[0].account_id
    keys = {(r.kind, r.x_id) for r in rows}
    existing = set(
        IncomingItem.objects.filter(account_id=account_id, x_id__in={x for _, x in keys}).values_list("kind", "x_id")
    )
    fresh: dict[tuple[str, str], IncomingItem] = {}
    for row in rows:
        key = (row.kind, row.x_id)
        if key not in existing and key not in fresh:
            fresh[key] = row
    # ignore_conflicts: a concurrent poll may have inserted some of these since the check.
    IncomingItem.objects.bulk_create(fresh.values(), batch_size=BATCH_SIZE, ignore_conflicts=True)
    _count_stored(list(fresh.values()))
    return list(fresh.values())


STREAM_OF_KIND = {IncomingItem.Kind.MENTION: Stream.MENTIONS, IncomingItem.Kind.OWN_TWEET: Stream.MENTIONS,
                  IncomingItem.Kind.LIKE: Stream.LIKES, IncomingItem.Kind.DM: Stream.DMS,
                  IncomingItem.Kind.OWN_DM: Stream.DMS}


def _count_stored(rows: list[IncomingItem]) -> None:
    """Monitoring: items stored, and the intake lag (posted on X → stored here) of each."""
    from monitoring import counters

    if not rows:
        return
    account = rows[0].account
    stored: dict = {}
    lags = []
    for row in rows:
        labels = {"account": account.username, "stream": STREAM_OF_KIND.get(row.kind, "other")}
        key = ("helpdesk_x_items_stored_total", counters.label_key(**labels))
        stored[key] = stored.get(key, 0) + 1
        if row.x_created_at is not None:
            lags.append((labels, (row.fetched_at - row.x_created_at).total_seconds()))
    # After commit: what a rolled-back insert did not store is not counted, and the counters'
    # rows (shared by every poll and push batch) are never locked inside the intake's transaction.
    transaction.on_commit(lambda: (counters.add_many(stored),
                                   counters.observe_lags("helpdesk_x_intake_lag_seconds", lags)))


def _media_of(keys: tuple[str, ...], media: dict[str, XMedia] | None) -> list[dict]:
    """The attached media X included (`includes.media`), in the post's order; a key X did not
    include (a deleted or withheld picture) is left out."""
    return [media[key].stored() for key in keys if media and key in media]


def _author_fields(user: XUser | None) -> dict:
    if user is None:
        return {}
    return {
        "author_handle": user.username[:50],
        "author_name": user.name[:200],
        "author_avatar_url": (user.profile_image_url or "")[:500],
        "author_followers": user.followers_count,
        "author_verified": bool(user.verified),
    }
