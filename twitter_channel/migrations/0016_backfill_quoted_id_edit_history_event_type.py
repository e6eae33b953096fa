"""Fill the columns 0015 added from the raw JSON of the items stored before, so nothing past
the adapter reads raw JSON any more: a quote post's quoted id, an edited post's versions
(only where there are earlier ones: a history of the post alone changes nothing), a DM
event's type. Reads the raw JSON the way the adapter's parser does."""

from django.db import migrations

POST_KINDS = ("mention", "like", "own_tweet")
DM_KINDS = ("dm", "own_dm")
CHUNK = 2000


def _quoted(raw):
    refs = raw.get("referenced_tweets") or raw.get("referenced_posts") or []
    if not isinstance(refs, list):
        return ""
    return next((str(r.get("id")) for r in refs if isinstance(r, dict) and r.get("type") == "quoted"), "")[:25]


def _history(raw):
    ids = raw.get("edit_history_tweet_ids") or raw.get("edit_history_post_ids") or []
    return [str(i) for i in ids if isinstance(i, str | int)] if isinstance(ids, list) else []


def _flush(Item, rows, fields):
    if rows:
        Item.objects.bulk_update(rows, fields, batch_size=500)
        rows.clear()


def backfill(apps, schema_editor):
    Item = apps.get_model("twitter_channel", "IncomingItem")
    quotes = []
    for pk, raw in Item.objects.filter(kind__in=POST_KINDS, is_quote=True).values_list("pk", "raw").iterator(CHUNK):
        quoted = _quoted(raw) if isinstance(raw, dict) else ""
        if quoted:
            quotes.append(Item(pk=pk, quoted_id=quoted))
        if len(quotes) >= CHUNK:
            _flush(Item, quotes, ["quoted_id"])
    _flush(Item, quotes, ["quoted_id"])

    edits = []
    posts = Item.objects.filter(kind__in=POST_KINDS, raw__has_any_keys=["edit_history_tweet_ids",
                                                                          "edit_history_post_ids"])
    for pk, x_id, raw in posts.values_list("pk", "x_id", "raw").iterator(CHUNK):
        history = _history(raw) if isinstance(raw, dict) else []
        if any(i != x_id for i in history):
            edits.append(Item(pk=pk, edit_history_ids=history))
        if len(edits) >= CHUNK:
            _flush(Item, edits, ["edit_history_ids"])
    _flush(Item, edits, ["edit_history_ids"])

    events = {}
    for pk, raw in Item.objects.filter(kind__in=DM_KINDS).values_list("pk", "raw").iterator(CHUNK):
        event_type = raw.get("event_type") if isinstance(raw, dict) else None
        if isinstance(event_type, str) and event_type:
            events.setdefault(event_type[:30], []).append(pk)
    for event_type, pks in events.items():
        for start in range(0, len(pks), CHUNK):
            Item.objects.filter(pk__in=pks[start:start + CHUNK]).update(event_type=event_type)


class Migration(migrations.Migration):
    dependencies = [
        ("twitter_channel", "0015_item_quoted_id_edit_history_event_type"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
