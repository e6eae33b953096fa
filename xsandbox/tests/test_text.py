"""Weighted length and entity extraction (pure functions)."""

from __future__ import annotations

from xsandbox.clock import SnowflakeIds, format_time, parse_time, snowflake_time
from xsandbox.text import parse_text, weighted_length


def test_weighted_length():
    assert weighted_length("hello") == 5
    assert weighted_length("日本") == 4
    assert weighted_length("😀") == 2
    assert weighted_length("👍🏽") == 2  # emoji + skin tone counts once
    assert weighted_length("👨‍👩‍👧") == 2  # ZWJ family counts once
    assert weighted_length("see https://example.com/" + "a" * 100) == 4 + 23
    assert weighted_length("café – ok") == 9


def test_entities_offsets_are_on_the_shortened_text():
    parsed = parse_text("hi @Alice_1 and @bob: https://ex.com/x?y=1, thx #Ship2", salt="1")
    assert [m["username"] for m in parsed.mentions] == ["Alice_1", "bob"]
    for m in parsed.mentions:
        assert parsed.text[m["start"]:m["end"]] == "@" + m["username"]
    url = parsed.urls[0]
    assert url["expanded_url"] == "https://ex.com/x?y=1"
    assert parsed.text[url["start"]:url["end"]] == url["url"]
    assert parsed.hashtags[0]["tag"] == "Ship2"
    assert "email@example.com" == parse_text("email@example.com", salt="2").text
    assert parse_text("email@example.com", salt="2").mentions == []


def test_snowflakes_and_times():
    ids = SnowflakeIds()
    t = parse_time("2022-10-07T22:27:08.000Z")
    a, b = ids.make(t), ids.make(t)
    assert len(a) == 19 and int(b) > int(a)
    assert abs(snowflake_time(a) - t) < 0.001
    assert format_time(t) == "2022-10-07T22:27:08.000Z"
    assert int(ids.make(t + 1)) > int(b)
