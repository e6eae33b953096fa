"""Scenario files: seed users, tokens, posts, DMs and likes, and optionally play timed steps.

Format (every list optional)::

    {"brand": "AcmeSupport",
     "users":  [{"username": "AcmeSupport", "id": "...", "name": "..."}],
     "tokens": [{"user": "AcmeSupport", "access_token": "...", "scopes": [...]}],   # never expire
     "tweets": [{"key": "t1", "author": "alice", "text": "@AcmeSupport help", "in_reply_to": "t0",
                 "quote_of": "...", "retweet_of": "...", "ago_seconds": 600,
                 "media": ["photo", {"type": "video", "alt_text": "..."}]}],   # served by the sandbox
     "groups": [{"key": "g1", "creator": "alice", "participants": ["bob", "AcmeSupport"], "text": "hi"}],
     "dms":    [{"sender": "alice", "recipient": "AcmeSupport", "text": "...", "media": [...]} | {"conversation": "g1", ...}],
     "likes":  [{"user": "AcmeSupport", "tweet": "t1"}],
     "play":   [{"at": 5, "action": "tweet" | "dm" | "group" | "like" | "delete" | "user", ...same fields}]}

``key`` names an item so later entries can point at it; users are named by username or id.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from .clock import parse_time
from .sandbox import ALL_SCOPES, Sandbox


class Scenario:
    def __init__(self, sb: Sandbox, image_url: str = "") -> None:
        """`image_url`: where media made by the steps is served (media_images.image_url);
        by default under the sandbox's public URL."""
        self.sb = sb
        self.keys: dict[str, str] = {}
        self.image_url = image_url or f"{sb.config.public_url.rstrip('/')}/sandbox/media/{{key}}.png"

    def _media(self, step: dict) -> list[str]:
        keys = []
        for entry in step.get("media") or ():
            spec = {"type": entry} if isinstance(entry, str) else dict(entry)
            keys.append(self.sb.store.add_media(spec.get("type", "photo"), self.image_url,
                                                alt_text=spec.get("alt_text", "")).media_key)
        return keys

    def ref(self, value: str | None) -> str | None:
        return None if value is None else self.keys.get(str(value), str(value))

    def _when(self, step: dict) -> float | None:
        if "created_at" in step:
            return parse_time(step["created_at"])
        if "ago_seconds" in step:
            return self.sb.clock.now() - float(step["ago_seconds"])
        return None

    def apply(self, action: str, step: dict) -> str:
        """Run one step and return the id of what it made."""
        store = self.sb.store
        self.sb.dirty = True
        if action == "user":
            fields = {k: v for k, v in step.items() if k not in ("action", "at", "key")}
            made = store.create_user(**fields).id
        elif action == "token":
            user = store.resolve_user(step.get("user") or step.get("user_id"))
            token = store.mint_token(user.id, step.get("scopes") or list(ALL_SCOPES), step.get("expires_in"),
                                     access_token=step.get("access_token"),
                                     with_refresh=bool(step.get("refresh", False)))
            made = token.access_token
        elif action == "tweet":
            author = store.resolve_user(step.get("author") or step.get("author_id") or step.get("username"))
            made = store.create_tweet(author.id, step.get("text", ""), in_reply_to=self.ref(step.get("in_reply_to")),
                                      quote_of=self.ref(step.get("quote_of")),
                                      retweet_of=self.ref(step.get("retweet_of")),
                                      created_at=self._when(step), id=step.get("id"),
                                      media_keys=self._media(step)).id
        elif action == "group":
            made = store.create_group(step.get("creator") or step["creator_id"],
                                      [store.resolve_user(p).id for p in step.get("participants", [])],
                                      text=step.get("text"), id=step.get("id"), created_at=self._when(step)).id
        elif action == "dm":
            sender = store.resolve_user(step.get("sender") or step.get("sender_id"))
            recipient = step.get("recipient") or step.get("recipient_id")
            made = store.send_dm(sender.id, step["text"],
                                 recipient_id=store.resolve_user(recipient).id if recipient else None,
                                 conversation_id=self.ref(step.get("conversation") or step.get("conversation_id")),
                                 created_at=self._when(step), media_keys=self._media(step)).id
        elif action == "like":
            user = store.resolve_user(step.get("user") or step.get("user_id"))
            made = store.like(user.id, self.ref(step.get("tweet") or step.get("tweet_id"))).tweet_id  # type: ignore[arg-type]
        elif action == "delete":
            made = store.delete_tweet(self.ref(step.get("tweet") or step.get("tweet_id"))).id  # type: ignore[arg-type]
        else:
            raise ValueError(f"unknown scenario action {action!r}")
        if step.get("key"):
            self.keys[str(step["key"])] = made
        return made

    def load(self, data: dict) -> dict:
        if "clock" in data:
            clock = data["clock"]
            self.sb.clock.set(parse_time(clock["now"]), frozen=bool(clock.get("frozen", False)))
        for action, section in (("user", "users"), ("token", "tokens"), ("tweet", "tweets"),
                                ("group", "groups"), ("dm", "dms"), ("like", "likes")):
            for step in data.get(section, []):
                self.apply(action, step)
        if data.get("brand"):
            self.sb.store.brand_user_id = self.sb.store.resolve_user(data["brand"]).id
        return {"keys": dict(self.keys), "play_steps": len(data.get("play", []))}

    async def play(self, steps: list[dict]) -> None:
        """Timed steps; 'at' is seconds after the play starts."""
        started = asyncio.get_running_loop().time()
        for step in sorted(steps, key=lambda s: float(s.get("at", 0))):
            delay = started + float(step.get("at", 0)) - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.apply(step["action"], step)


BUNDLED = Path(__file__).parent / "scenarios"


def scenario_path(name: str | Path) -> Path:
    """A scenario file, or the name of one bundled in xsandbox/scenarios/ ("demo")."""
    path = Path(name)
    bundled = BUNDLED / f"{name}.json"
    if not path.exists() and path.parent == Path(".") and bundled.exists():
        return bundled
    return path


def read_scenario(name: str | Path) -> dict:
    """The scenario `name` names (see scenario_path); ValueError when there is none to read,
    so the control API answers 400 and the command line stops with the reason."""
    path = scenario_path(name)
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        bundled = sorted(p.stem for p in BUNDLED.glob("*.json"))
        raise ValueError(f"cannot read scenario {str(name)!r} ({exc.strerror}); bundled: {bundled}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"scenario {str(name)!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"scenario {str(name)!r} must be a JSON object")
    return data
