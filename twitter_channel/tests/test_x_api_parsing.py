"""Parsing X payloads into the channel's types: real recordings and examples, both
vocabularies, and items that must be quarantined without breaking their page."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from twitter_channel.x.parsing import (
    ParseError,
    parse_dm_event,
    parse_page,
    parse_posted_tweet,
    parse_rate_limit,
    parse_sent_dm,
    parse_tweet,
    parse_user,
    problem_kind,
)
from twitter_channel.x.types import XDMEvent, XTweet, XUser

from .fakes import dm_event, example, recorded, shared_x_api, tweet


def _default_tweet(raw):
    return parse_tweet(raw, complete=False)


def _default_dm(raw):
    return parse_dm_event(raw, complete=False)


def _item_parser_for(uri: str):
    """Which parser a recorded GET response needs, from its route."""
    path = uri.split("?")[0]
    if "dm_events" in path:
        return _default_dm
    if path.endswith(("/mentions", "/liked_tweets", "/reverse_chronological", "/search/recent", "/2/tweets")):
        return _default_tweet
    if path.startswith("https://api.twitter.com/2/users"):
        return parse_user
    raise AssertionError(f"no parser for {uri}")


def _recorded_lists():
    for path in sorted((shared_x_api() / "recorded").glob("*.json")):
        for exchange in json.loads(path.read_text("utf-8")):
            body = exchange["response"]["body"]
            if exchange["request"]["method"] == "GET" and isinstance(body.get("data", []), list):
                yield pytest.param(exchange, id=f"{path.stem}:{exchange['request']['uri'][23:70]}")


@pytest.mark.parametrize("exchange", list(_recorded_lists()))
def test_every_recorded_list_page_parses_without_malformed_items(exchange):
    body = exchange["response"]["body"]
    page = parse_page(body, _item_parser_for(exchange["request"]["uri"]),
                      rate_limit=parse_rate_limit(exchange["response"]["headers"]))

    assert page.malformed == []
    assert [item.id for item in page.items] == [raw["id"] for raw in body.get("data", [])]
    assert all(isinstance(item.id, str) for item in page.items)
    meta = body.get("meta", {})
    assert page.result_count == meta.get("result_count", len(body.get("data", [])))
    assert page.next_token == meta.get("next_token")
    assert page.rate_limit.limit == int(exchange["response"]["headers"]["x-rate-limit-limit"])


def test_recorded_single_objects_parse():
    me = parse_user(recorded("client_get_me.json")[0]["response"]["body"]["data"])
    assert me == XUser(id="1072250532645998596", username="TweepyDev", name="Tweepy Testing")

    one = parse_tweet(recorded("client_get_tweet.json")[0]["response"]["body"]["data"], complete=False)
    assert one.id == "1293593516040269825" and one.text.startswith("It’s finally here!")

    created, _deleted = recorded("client_create_and_delete_tweet.json")
    assert parse_posted_tweet(created["response"]["body"]).id == "1456012973835788293"

    sent = recorded("manage_and_lookup_direct_messages.json")[0]["response"]["body"]
    dm = parse_sent_dm(sent)
    assert (dm.dm_conversation_id, dm.dm_event_id) == ("750362064426721281-1072250532645998596", "1585800613253812228")


def test_recorded_empty_dm_page_is_an_empty_page():
    empty = recorded("manage_and_lookup_direct_messages.json")[3]["response"]["body"]
    assert empty == {"meta": {"result_count": 0}}

    page = parse_page(empty, parse_dm_event)

    assert (page.items, page.malformed, page.result_count, page.next_token) == ([], [], 0, None)


def test_example_with_requested_fields_gives_urls_and_aware_time():
    body = example("Single_Tweet__200_Success_-_Request_Tweet_fields.json")["response"]["body"]

    post = parse_tweet(body["data"])

    assert post.author_id == "2244994945"
    assert post.created_at == datetime(2020, 6, 24, 16, 28, 14, tzinfo=UTC)
    assert post.urls[0].url == "https://t.co/IKM3zo6ngu"
    assert post.urls[0].expanded_url.startswith("https://blog.twitter.com/developer/")


@pytest.mark.parametrize("name", [
    "User_by_ID__200_Success_-_Request_Fields_for_User_and_Expanded_Pinned_Tweet.json",
    "Users_by_Username__200_Success_-_Request_Fields_for_Users_and_Expanded_Pinned_Tweet.json",
])
def test_example_user_pages_keep_their_included_posts(name):
    body = example(name)["response"]["body"]
    if isinstance(body["data"], dict):
        body = {**body, "data": [body["data"]]}

    page = parse_page(body, parse_user)

    assert page.malformed == []
    assert {t["id"] for t in body["includes"]["tweets"]} == set(page.tweets)


@pytest.mark.parametrize("name", [
    "Users_by_ID__200_Success_-_Multiple_Users,_1_Not_Found.json",
    "Users_by_Username__200_Success_-_Some_Users_Not_Found.json",
])
def test_example_missing_users_are_partial_errors_not_items(name):
    body = example(name)["response"]["body"]

    page = parse_page(body, parse_user)

    assert len(page.items) == len(body["data"])
    assert page.partial_errors == body["errors"]


@pytest.mark.parametrize("host", ["https://api.twitter.com", "https://api.x.com"])
def test_partial_error_is_read_under_either_problem_host(host):
    # Live X is moving its problem types from api.twitter.com (spec 2.159) to api.x.com (2.167).
    body = {"data": [tweet("5")], "errors": [{
        "value": "7", "detail": "Could not find tweet with ids: [7].", "title": "Not Found Error",
        "resource_type": "tweet", "parameter": "ids", "resource_id": "7",
        "type": f"{host}/2/problems/resource-not-found"}]}

    page = parse_page(body, parse_tweet)

    assert [t.id for t in page.items] == ["5"]
    assert page.partial_errors == body["errors"]
    assert [problem_kind(e) for e in page.partial_errors] == ["resource-not-found"]


def test_only_xs_hosts_name_problem_kinds():
    assert problem_kind({"type": "https://api.x.com/2/problems/usage-capped"}) == "usage-capped"
    assert problem_kind({"type": "https://example.com/2/problems/usage-capped"}) == ""
    assert problem_kind({"type": "about:blank", "title": "Forbidden"}) == ""
    assert problem_kind("Rate limit exceeded\n") == ""


def test_every_example_user_payload_parses():
    for path in sorted((shared_x_api() / "examples").glob("User*_200_*.json")):
        body = json.loads(path.read_text("utf-8"))["response"]["body"]
        data = body.get("data")
        for raw in data if isinstance(data, list) else [data] if data else []:
            assert isinstance(parse_user(raw), XUser), path.name


def test_post_vocabulary_fields_are_read_like_tweet_ones():
    as_tweet = parse_tweet(tweet("10", referenced_tweets=[{"type": "replied_to", "id": "9"}],
                                note_tweet={"text": "the whole long text"}))
    as_post = parse_tweet({**{k: v for k, v in tweet("10").items() if k != "edit_history_tweet_ids"},
                           "edit_history_post_ids": ["10"],
                           "referenced_posts": [{"type": "replied_to", "id": "9"}],
                           "note_post": {"text": "the whole long text"}})

    assert as_tweet == as_post
    assert as_post.replied_to_id == "9"
    assert as_post.text == "the whole long text"


def test_included_posts_are_read_from_either_key():
    for key in ("tweets", "posts"):
        page = parse_page({"data": [tweet("10")], "includes": {key: [{"id": "9", "text": "parent"}]}}, parse_tweet)
        assert page.tweets["9"].text == "parent"


def test_note_text_replaces_the_cut_text():
    post = parse_tweet(tweet("1", text="cut at 280…", note_tweet={"text": "x" * 600, "entities": {}}))

    assert post.text == "x" * 600


def test_thread_fields_mentions_and_media_are_kept():
    post = parse_tweet(tweet(
        "11", conversation_id="5", in_reply_to_user_id="77",
        referenced_tweets=[{"type": "quoted", "id": "6"}, {"type": "replied_to", "id": "10"}],
        entities={"mentions": [{"start": 0, "end": 5, "username": "acme", "id": "77"},
                               {"start": 6, "end": 10, "username": "bob"}]},
        attachments={"media_keys": ["3_1", "3_2"]}))

    assert (post.conversation_id, post.in_reply_to_user_id, post.replied_to_id) == ("5", "77", "10")
    assert post.is_quote and not post.is_retweet
    assert post.mentioned_user_ids == ("77",)
    assert post.mentioned_usernames == ("acme", "bob")
    assert post.media_keys == ("3_1", "3_2")


def test_one_malformed_item_is_quarantined_and_the_page_goes_on():
    body = {"data": [tweet("1"), {"id": "2", "text": "no author"}, {"id": 3.0, "text": "float id"}, "junk",
                     tweet("4", created_at="yesterday"), tweet("5")],
            "meta": {"result_count": 6, "newest_id": "5", "oldest_id": "1"}}

    page = parse_page(body, parse_tweet)

    assert [t.id for t in page.items] == ["1", "5"]
    assert [(m.x_id, m.raw) for m in page.malformed] == [
        ("2", body["data"][1]), (None, body["data"][2]), (None, "junk"), ("4", body["data"][4])]
    assert "author_id" in page.malformed[0].reason
    assert "timestamp" in page.malformed[3].reason
    assert (page.newest_id, page.oldest_id, page.result_count) == ("5", "1", 6)


def test_integer_ids_become_strings_without_losing_digits():
    post = parse_tweet({"id": 1578516295611748353, "text": "t", "author_id": 2244994945})

    assert (post.id, post.author_id) == ("1578516295611748353", "2244994945")


def test_a_malformed_included_user_is_skipped_not_fatal():
    page = parse_page({"data": [tweet("1")], "includes": {"users": [{"id": "2"}, {"id": "3", "username": "c",
                                                                                  "name": "C"}]}}, parse_tweet)

    assert list(page.users) == ["3"] and len(page.items) == 1


def test_dm_events_of_every_kind_parse():
    message = parse_dm_event(dm_event("1", participant_ids=None))
    joined = parse_dm_event({"id": "2", "event_type": "ParticipantsJoin", "dm_conversation_id": "1234",
                             "participant_ids": ["42", "43", "44"], "created_at": "2024-05-01T12:00:00.000Z"})

    assert isinstance(message, XDMEvent) and message.sender_id == "42" and not message.is_group
    assert joined.text == "" and joined.is_group and joined.participant_ids == ("42", "43", "44")


@pytest.mark.parametrize("broken, reason", [
    ({"id": "1", "event_type": "MessageCreate", "text": "x", "dm_conversation_id": "1-2"}, "sender_id"),
    ({"id": "1", "event_type": "MessageCreate", "text": "x", "sender_id": "2"}, "dm_conversation_id"),
    ({"id": "1", "event_type": "Typing", "dm_conversation_id": "1-2"}, "unknown DM event type"),
])
def test_dm_events_missing_what_a_ticket_needs_are_refused(broken, reason):
    with pytest.raises(ParseError, match=reason):
        parse_dm_event(broken)


def test_user_public_metrics_and_verified():
    user = parse_user({"id": "1", "username": "a", "name": "A", "verified": True,
                       "profile_image_url": "https://pbs.twimg.com/a.png",
                       "public_metrics": {"followers_count": 12, "following_count": 3}})

    assert (user.followers_count, user.verified, user.profile_image_url) == (12, True, "https://pbs.twimg.com/a.png")


def test_rate_limit_headers_absent_give_none():
    assert parse_rate_limit({"content-type": "application/json"}) is None


def test_returned_types_are_the_projects_own():
    assert isinstance(parse_tweet(tweet("1")), XTweet)
