"""The Activity API's management objects (webhooks, subscriptions), parsed by the adapter.

Shapes from X's spec 2.167: `WebhookConfig` (`id`, `url`, `valid`, `created_at`) and the
subscription objects of `/2/activity/subscriptions` (`subscription_id`, `event_type`,
`filter` {`user_id`, `direction`}, `webhook_id`, `tag`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twitter_channel.x.parsing import ParseError


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    valid: bool


@dataclass(frozen=True)
class Subscription:
    id: str
    event_type: str
    user_id: str
    direction: str = ""
    webhook_id: str = ""
    tag: str = ""


def parse_webhook(raw: Any) -> Webhook:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ParseError("webhook config has no id")
    return Webhook(id=raw["id"], url=str(raw.get("url") or ""), valid=raw.get("valid") is True)


def parse_subscription(raw: Any) -> Subscription:
    if not isinstance(raw, dict) or not isinstance(raw.get("subscription_id"), str):
        raise ParseError("subscription has no subscription_id")
    event_filter = raw.get("filter") if isinstance(raw.get("filter"), dict) else {}
    return Subscription(
        id=raw["subscription_id"],
        event_type=str(raw.get("event_type") or ""),
        user_id=str(event_filter.get("user_id") or ""),
        direction=str(event_filter.get("direction") or ""),
        webhook_id=str(raw.get("webhook_id") or ""),
        tag=str(raw.get("tag") or ""),
    )
