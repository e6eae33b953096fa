"""Photos, videos and GIFs: a user attaches them to a post or a DM, X's endpoints answer
`attachments.media_keys` and `includes.media` as X does (a photo's `url`, a video's or GIF's
`preview_image_url`, only the fields asked for), and the sandbox serves the pictures."""

from __future__ import annotations

import pytest

from xsandbox.testing import SandboxError

MEDIA_FIELDS = "media_key,type,url,preview_image_url,width,height,alt_text"


def mentions(sandbox, brand, **params):
    r = sandbox.http.get(sandbox.base_url + f"/2/users/{brand['id']}/mentions",
                         headers=sandbox.auth_headers(brand["token"]), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_post_with_a_photo_and_a_video_answers_as_x_does(sandbox, brand):
    alice = sandbox.create_user("alice")
    post = sandbox.post_tweet(alice["id"], "@AcmeSupport look", media=[{"type": "photo", "alt_text": "A box"}, "video"])
    photo, video = post["media"]

    body = mentions(sandbox, brand, **{"tweet.fields": "attachments", "expansions": "attachments.media_keys",
                                       "media.fields": MEDIA_FIELDS})

    assert body["data"][0]["attachments"] == {"media_keys": [photo["media_key"], video["media_key"]]}
    assert photo["media_key"].startswith("3_") and video["media_key"].startswith("7_")
    assert body["includes"]["media"] == [
        {"media_key": photo["media_key"], "type": "photo", "url": photo["url"], "width": 1200, "height": 800,
         "alt_text": "A box"},
        {"media_key": video["media_key"], "type": "video", "preview_image_url": video["preview_image_url"],
         "width": 1200, "height": 800},
    ]


def test_media_comes_only_when_asked(sandbox, brand):
    alice = sandbox.create_user("alice")
    sandbox.post_tweet(alice["id"], "@AcmeSupport look", media=["photo"])

    plain = mentions(sandbox, brand)
    keys_only = mentions(sandbox, brand, **{"tweet.fields": "attachments", "expansions": "attachments.media_keys"})

    assert "attachments" not in plain["data"][0] and "includes" not in plain
    assert set(keys_only["includes"]["media"][0]) == {"media_key", "type"}  # no media.fields: X's defaults


def test_the_sandbox_serves_the_pictures(sandbox):
    alice = sandbox.create_user("alice")
    post = sandbox.post_tweet(alice["id"], "look", media=["photo"])

    r = sandbox.http.get(post["media"][0]["url"])

    assert post["media"][0]["url"].startswith(sandbox.base_url + "/sandbox/media/")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"
    assert sandbox.http.get(sandbox.base_url + "/sandbox/media/3_404.png").status_code == 404


def test_a_dm_with_a_photo(sandbox, brand):
    alice = sandbox.create_user("alice")
    event = sandbox.send_dm(alice["id"], "my receipt", recipient=brand["id"], media=["photo"])

    r = sandbox.http.get(sandbox.base_url + "/2/dm_events", headers=sandbox.auth_headers(brand["token"]), params={
        "dm_event.fields": "attachments,sender_id", "expansions": "attachments.media_keys", "media.fields": "url,type"})

    (data,) = [e for e in r.json()["data"] if e["id"] == event["id"]]
    assert data["attachments"] == {"media_keys": [event["media"][0]["media_key"]]}
    assert r.json()["includes"]["media"] == [{"media_key": event["media"][0]["media_key"], "type": "photo",
                                              "url": event["media"][0]["url"]}]


def test_an_unknown_media_type_is_refused(sandbox):
    alice = sandbox.create_user("alice")
    with pytest.raises(SandboxError):
        sandbox.post_tweet(alice["id"], "look", media=["hologram"])


def test_scenario_steps_attach_pictures_served_by_the_sandbox(sandbox):
    result = sandbox.load_scenario({
        "users": [{"username": "brand"}, {"username": "carol"}],
        "tweets": [{"key": "t1", "author": "carol", "text": "@brand broken", "media": ["photo"]}],
    })
    post = sandbox.get_tweet(result["keys"]["t1"])

    assert sandbox.http.get(post["media"][0]["url"]).status_code == 200
