"""The meter agrees with what X would bill: the sandbox counts by X's rules on its side
(`xsandbox/billing.py`) and the helpdesk's records, made over real HTTP by the poller and the
sender, add up to the same items and dollars per kind."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from twitter_channel.accounts import connection
from twitter_channel.answering import sending
from twitter_channel.costs.models import XCostDay

from .answering_sandbox import poll


def metered(account) -> dict[str, dict]:
    rows = XCostDay.objects.filter(account=account).values("kind").annotate(n=Sum("items"), c=Sum("cost_micros"))
    return {r["kind"]: {"items": r["n"], "usd": str(Decimal(r["c"]) / 1_000_000)} for r in rows}


def billed_by_sandbox(sb, account) -> dict[str, dict]:
    kinds = sb.billing()["by_user"].get(account.user_id, {}).get("kinds", {})
    return {kind: {"items": v["items"], "usd": str(Decimal(v["usd"]).normalize())} for kind, v in kinds.items()}


def normalized(kinds: dict[str, dict]) -> dict[str, dict]:
    return {k: {"items": v["items"], "usd": str(Decimal(v["usd"]).normalize())} for k, v in kinds.items()}


def test_polling_and_replying_are_metered_as_the_sandbox_bills_them(sb, brand, alice):
    bob = sb.create_user("bob", name="Bob")
    first = sb.post_tweet(alice["id"], "@AcmeHelp my order is late")
    sb.post_tweet(bob["id"], "@AcmeHelp same here", in_reply_to_tweet_id=first["id"])
    sb.like(brand.user_id, sb.post_tweet(bob["id"], "love @AcmeHelp")["id"])
    sb.send_dm(alice["id"], "order 42 please", recipient=brand.user_id)
    sb.clear_billing()

    for stream in ("mentions", "likes", "dms"):
        poll(brand, stream)
    poll(brand, "mentions")  # nothing new: since_id keeps X from returning anything
    client = sending.client_for(brand)
    client.create_tweet("@alice sorted, see https://help.example.com/t/1", in_reply_to_tweet_id=first["id"])
    client.create_tweet("@alice sorted now", in_reply_to_tweet_id=first["id"])
    connection.client_for(brand).get_tweets([first["id"]])  # read again today: billed once

    expected = billed_by_sandbox(sb, brand)
    assert {"owned_read", "user_read", "dm_event_read", "post_write", "post_url_write"} <= set(expected)
    assert normalized(metered(brand)) == expected
    assert expected["post_url_write"] == {"items": 1, "usd": "0.2"}
