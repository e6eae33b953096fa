"""Items stored before the quoted id, an edit's versions and a DM event's type were columns
get them from their raw JSON (migration 0016), so nothing past the adapter reads raw JSON."""

from __future__ import annotations

import importlib

from django.apps import apps

from twitter_channel.models import IncomingItem

from .answering_helpers import make_account, make_item

Kind = IncomingItem.Kind
backfill = importlib.import_module("twitter_channel.migrations.0016_backfill_quoted_id_edit_history_event_type").backfill


def test_columns_are_filled_from_the_raw_json_of_items_stored_before(db):
    account = make_account()
    quote = make_item(account, is_quote=True, raw={"id": "21", "referenced_tweets": [{"type": "quoted", "id": "7"}]})
    edit = make_item(account, x_id="23", raw={"id": "23", "edit_history_tweet_ids": ["22", "23"]})
    unedited = make_item(account, x_id="24", raw={"id": "24", "edit_history_tweet_ids": ["24"]})
    joined = make_item(account, kind=Kind.DM, conversation="1-2", raw={"id": "25", "event_type": "ParticipantsJoin"})
    message = make_item(account, kind=Kind.DM, conversation="1-2", raw={"id": "26", "event_type": "MessageCreate"})

    backfill(apps, None)

    for item in (quote, edit, unedited, joined, message):
        item.refresh_from_db()
    assert quote.quoted_id == "7"
    assert edit.edit_history_ids == ["22", "23"] and unedited.edit_history_ids == []
    assert joined.event_type == "ParticipantsJoin" and not joined.is_message
    assert message.is_message
