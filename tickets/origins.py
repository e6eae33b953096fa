"""Where a message came from, as the channel that brought it knows it: shown in the thread.

`tickets` knows nothing of X; the X app tells the thread who wrote a post (their @handle,
profile and picture), where to see it on X, and the photos, videos and GIFs it carried, by
registering a provider from its AppConfig.ready:

    register_origins(x_origins)

A provider takes the comments of a page and returns {comment id: Origin} for those it knows,
in a few queries for the whole page (never one per comment). The comments carry only the
columns the thread shows (`tickets.thread.COLUMNS`): a provider that needs more reads it
itself, for the whole page at once. The ticket page and the live
workspace's pushed comments both draw `tickets/_comment.html` from `tickets.thread`'s
messages, which ask `origins_of` once for all their comments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import Comment


@dataclass(frozen=True)
class Media:
    """A picture shown as a thumbnail that opens `open_url` (the picture full size, or the
    post for a video, which plays there). URLs come from outside: templates pass them
    through `http_url`."""

    kind: str  # "photo" | "video" | "animated_gif"
    image_url: str
    open_url: str
    alt: str = ""
    width: int | None = None
    height: int | None = None

    @property
    def label(self) -> str:
        return {"video": "Video", "animated_gif": "GIF"}.get(self.kind, "Photo")


@dataclass(frozen=True)
class Origin:
    handle: str = ""  # shown as "@handle"
    profile_url: str = ""
    avatar_url: str = ""
    view_url: str = ""  # the message where it came from ("view on X")
    view_label: str = ""
    media: tuple[Media, ...] = ()


Provider = Callable[[list[Comment]], dict[int, Origin]]
_providers: list[Provider] = []


def register_origins(provider: Provider) -> None:
    if provider not in _providers:  # ready() may run twice in tests
        _providers.append(provider)


def origins_of(comments: list[Comment]) -> dict[int, Origin]:
    """{comment id: Origin} for the comments some channel knows more of."""
    found: dict[int, Origin] = {}
    for provider in _providers:
        found.update(provider(comments))
    return found

