"""Photos, videos and GIFs of posts and DMs, and who wrote each X comment, in the ticket's
thread: parsed once by the adapter (real recorded shapes), stored on the item, shown as
thumbnails that open full size, with the author's @handle and a "view on X" link for every X
comment. End to end through the sandbox, which serves the pictures itself."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from live.audience import render_comments
from tickets.models import User
from tickets.tests.factories import UserFactory
from twitter_channel.intake import bulk_convert, store
from twitter_channel.intake.deletions import redact_deleted
from twitter_channel.models import IncomingItem
from twitter_channel.x.parsing import parse_page, parse_tweet

from .answering_helpers import make_account, make_item
from .answering_sandbox import poll
from .fakes import example

Kind = IncomingItem.Kind


@pytest.fixture
def agent(db):
    return UserFactory(role=User.Role.AGENT)


def media_block(page: str) -> str:
    return page.split('<ul class="media">', 1)[1].split("</ul>", 1)[0] if '<ul class="media">' in page else ""


# --- parsing X's real shapes ------------------------------------------------------------------


def test_a_recorded_post_with_a_video_keeps_its_still(db):
    body = example("Single_Tweet__200_Success_-_Request_Media_Fields.json")["response"]["body"]
    page = parse_page({"data": [body["data"]], "includes": body["includes"]}, parse_tweet)

    (item,) = store.items_from_page(make_account(), "mentions", page)

    assert item.media == [{"key": "13_1263145212760805376", "type": "video",
                           "image_url": "https://pbs.twimg.com/media/EYeX7akWsAIP1_1.jpg",
                           "width": 1920, "height": 1080, "alt": ""}]


def test_media_x_did_not_include_is_left_out_and_a_bad_entry_does_not_lose_the_post(db):
    page = parse_page({
        "data": [{"id": "5", "text": "look", "author_id": "1", "attachments": {"media_keys": ["3_1", "3_2", "3_3"]}}],
        "includes": {"media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"},
                               {"media_key": "3_2", "type": "photo"}]},  # neither url nor preview
    }, parse_tweet)

    (item,) = store.items_from_page(make_account(), "mentions", page)

    assert [m["key"] for m in item.media] == ["3_1"]


# --- the thread ---------------------------------------------------------------------------------


def test_photo_mention_from_the_sandbox_shows_as_a_thumbnail_that_opens_full_size(client, sb, brand, alice, agent):
    post = sb.post_tweet(alice["id"], "@AcmeHelp the box arrived crushed", media=[{"type": "photo",
                                                                                     "alt_text": "A crushed box"}])
    (item,) = poll(brand)
    photo = post["media"][0]["url"]
    assert photo.startswith(sb.base_url + "/sandbox/media/")
    assert item.media[0]["image_url"] == photo and item.ticket_id
    client.force_login(agent)

    page = client.get(item.ticket.get_absolute_url()).content.decode()

    media = media_block(page)
    assert f'href="{photo}"' in media and f'src="{photo}"' in media and 'alt="A crushed box"' in media


def test_a_dm_with_a_photo_shows_it_too(client, sb, brand, alice, agent):
    dm = sb.send_dm(alice["id"], "here is my receipt", recipient=brand.user_id, media=["photo"])
    items = poll(brand, "dms")
    ticket = next(i.ticket for i in items if i.x_id == dm["id"])
    client.force_login(agent)

    page = client.get(ticket.get_absolute_url()).content.decode()

    assert f'src="{dm["media"][0]["url"]}"' in media_block(page)


def test_a_video_plays_on_x_and_x_cdn_pictures_come_in_the_right_size(client, agent):
    account = make_account()
    item = make_item(account, media=[{"key": "7_1", "type": "video", "image_url": "https://pbs.twimg.com/media/v.jpg",
                                      "width": 1280, "height": 720, "alt": ""}])
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    client.force_login(agent)

    media = media_block(client.get(item.ticket.get_absolute_url()).content.decode())

    assert 'src="https://pbs.twimg.com/media/v.jpg?name=small"' in media
    assert f'href="https://x.com/alice/status/{item.x_id}"' in media and "Video" in media


def test_every_x_comment_names_its_author_and_links_to_x(client, sb, brand, alice, agent):
    post = sb.post_tweet(alice["id"], "@AcmeHelp where is my parcel?")
    (item,) = poll(brand)
    client.force_login(agent)

    page = client.get(item.ticket.get_absolute_url()).content.decode()

    comment = page.split(f'id="comment-{item.comment_id}"', 1)[1].split("</header>", 1)[0]
    assert '<a class="handle" href="https://x.com/alice"' in comment and "@alice</a>" in comment
    assert f'href="https://x.com/alice/status/{post["id"]}"' in comment and "view on X" in comment


def test_the_brands_reply_names_the_account_it_went_out_from(client, sb, brand, alice, agent,
                                                               django_capture_on_commit_callbacks):
    sb.post_tweet(alice["id"], "@AcmeHelp hello")
    (item,) = poll(brand)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tickets/{item.ticket_id}/reply/", {"body": "Hi Alice", "kind": "public:tweet",
                                                          "reply_option_append_link": "0"})

    page = client.get(item.ticket.get_absolute_url()).content.decode()

    reply = page.split("Hi Alice", 1)[0].rsplit('<li class="comment', 1)[1]
    assert "@AcmeHelp</a>" in reply and 'href="https://x.com/AcmeHelp/status/' in reply


def test_avatars_carry_initials_under_the_picture(client, agent):
    account = make_account()
    item = make_item(account, author_avatar_url="https://pbs.twimg.com/profile_images/1/a.jpg")
    bulk_convert.convert_by_hand(item.pk)
    client.force_login(agent)

    page = client.get(IncomingItem.objects.get(pk=item.pk).ticket.get_absolute_url()).content.decode()

    avatar = page.split('class="avatar avatar--initials"', 1)[1].split("</span>", 1)[0]
    assert 'data-initials="A"' in avatar and 'src="https://pbs.twimg.com/profile_images/1/a.jpg"' in avatar
    assert "thread.js" in page


def test_media_urls_that_are_not_http_are_never_put_in_the_page(client, agent):
    account = make_account()
    item = make_item(account, media=[{"key": "3_9", "type": "photo", "image_url": "javascript:alert(1)",
                                      "width": 1, "height": 1, "alt": ""}],
                     author_avatar_url="")
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    client.force_login(agent)

    page = client.get(item.ticket.get_absolute_url()).content.decode()

    assert "javascript:" not in page


def test_a_post_deleted_on_x_loses_its_pictures(client, agent):
    account = make_account()
    item = make_item(account, media=[{"key": "3_1", "type": "photo", "image_url": "https://pbs.twimg.com/media/p.jpg",
                                      "width": 10, "height": 10, "alt": ""}])
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    client.force_login(agent)
    assert "p.jpg" in client.get(item.ticket.get_absolute_url()).content.decode()

    redact_deleted(item.x_id)

    item.refresh_from_db()
    assert item.media == [] and "p.jpg" not in client.get(item.ticket.get_absolute_url()).content.decode()


def test_comments_pushed_live_carry_the_handle_and_media_too(agent):
    account = make_account()
    item = make_item(account, media=[{"key": "3_1", "type": "photo", "image_url": "https://pbs.twimg.com/media/p.jpg",
                                      "width": 10, "height": 10, "alt": ""}])
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()

    (pushed,) = render_comments(item.ticket_id, 0)

    assert "@alice</a>" in pushed["html"] and "https://pbs.twimg.com/media/p.jpg?name=small" in pushed["html"]


def test_the_thread_costs_the_same_queries_however_many_x_comments_and_pictures(client, agent):
    account = make_account()
    first = make_item(account, text="@AcmeHelp one")
    bulk_convert.convert_by_hand(first.pk)
    first.refresh_from_db()
    client.force_login(agent)

    def add_replies(n):
        for _ in range(n):
            make_item(account, text="@AcmeHelp more", reply_to=first.x_id, conversation=first.x_id,
                      media=[{"key": "3_1", "type": "photo", "image_url": "https://pbs.twimg.com/media/p.jpg",
                              "width": 10, "height": 10, "alt": ""}])
        from twitter_channel.intake import conversion
        conversion.convert_pending()

    add_replies(1)
    client.get(first.ticket.get_absolute_url())  # the session's first page saves it once
    with CaptureQueriesContext(connection) as few:
        client.get(first.ticket.get_absolute_url())
    add_replies(10)
    with CaptureQueriesContext(connection) as many:
        page = client.get(first.ticket.get_absolute_url()).content.decode()
    assert page.count("p.jpg?name=small") == 11
    assert len(many.captured_queries) == len(few.captured_queries)
