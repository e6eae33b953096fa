"""What the ticket thread shows of X with each comment (`tickets.origins`): the author's
@handle, profile and picture, a "view on X" link, and the photos, videos and GIFs of the
post or DM. Two queries for a whole page of comments, whatever its size.

Media URLs are X's (pbs.twimg.com) or the sandbox's: the agent's browser loads them (CSP
img-src lists X's media hosts), the helpdesk never fetches them.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from tickets.models import X_CHANNELS, Comment
from tickets.origins import Media, Origin
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem

Kind = IncomingItem.Kind
DM_KINDS = (Kind.DM, Kind.OWN_DM)
VIEW_ON_X = "view on X"


def x_origins(comments: list[Comment]) -> dict[int, Origin]:
    ids = [c.pk for c in comments if c.channel in X_CHANNELS]
    if not ids:
        return {}
    found: dict[int, Origin] = {}
    # The brand's replies sent from here: the account they went out from.
    for message in (OutgoingMessage.objects.filter(comment_id__in=ids).select_related("account")
                    .only("comment_id", "kind", "dm_conversation_id", "comment__external_url",
                          "account__username", "account__avatar_url")):
        account = message.account
        view = message.comment.external_url if message.is_tweet else _dm_url(message.dm_conversation_id)
        found[message.comment_id] = Origin(handle=account.username, profile_url=_profile(account.username),
                                           avatar_url=account.avatar_url, view_url=view, view_label=VIEW_ON_X)
    # Everything that came from X: customers' posts and DMs, and the brand's own from X itself.
    items = (IncomingItem.objects.filter(comment_id__in=[i for i in ids if i not in found])
             .exclude(state=IncomingItem.State.QUARANTINED)
             .only("comment_id", "kind", "x_id", "author_handle", "author_avatar_url", "conversation_key", "media",
                   "redacted_at")
             .order_by("id"))
    for item in items:
        if item.comment_id in found and not item.media:
            continue  # a like and a mention of one post: the first says it all
        found[item.comment_id] = _origin_of(item)
    return found


def _origin_of(item: IncomingItem) -> Origin:
    is_dm = item.kind in DM_KINDS
    view = _dm_url(item.conversation_key) if is_dm else item.tweet_url
    media = () if item.redacted_at else tuple(_media(m, post_url=view, is_dm=is_dm) for m in item.media or ()
                                               if isinstance(m, dict) and m.get("image_url"))
    return Origin(handle=item.author_handle, profile_url=_profile(item.author_handle),
                  avatar_url=item.author_avatar_url, view_url=view, view_label=VIEW_ON_X, media=media)


def _media(stored: dict, *, post_url: str, is_dm: bool) -> Media:
    kind = stored.get("type") or "photo"
    image = stored["image_url"]
    # A photo opens full size; a video or a GIF plays on X (the post), and in a DM, where
    # there is no public post, its still opens full size.
    opens = _sized(image, "orig") if kind == "photo" or is_dm or not post_url else post_url
    return Media(kind=kind, image_url=_sized(image, "small"), open_url=opens, alt=stored.get("alt") or "",
                 width=stored.get("width"), height=stored.get("height"))


def _sized(url: str, name: str) -> str:
    """X's CDN serves a picture in several sizes (`?name=small|medium|large|orig`); other hosts
    (the sandbox) get the URL as it is."""
    parts = urlsplit(url)
    if parts.hostname != "pbs.twimg.com" or parts.query:
        return url
    return f"{url}?name={name}"


def _profile(handle: str) -> str:
    return f"https://x.com/{quote(handle)}" if handle else ""


def _dm_url(conversation_id: str) -> str:
    # Opens the conversation on X for whoever is logged in there as the brand.
    return f"https://x.com/messages/{quote(conversation_id)}" if conversation_id else ""
