"""The one adapter between the helpdesk and X API v2.

It wraps tweepy's Client, speaks the channel's own types (`types.py`) and raises only the
errors declared there. Nothing else in the project imports tweepy.

Three X/tweepy quirks are answered here:
- tweepy builds every URL on "https://api.twitter.com"; a transport adapter mounted on the
  client's session sends those requests to `settings.X_API_BASE_URL` instead (the sandbox in
  development and tests) and puts a timeout on every request (tweepy sets none).
- X is renaming tweet -> post. Requests use `tweet.fields` until a server refuses it with a
  400 naming the vocabulary's parameters; then they switch to `post.fields`, retry once, and
  remember the choice for that base URL. Responses are read in both vocabularies always.
- The rate-limit headers of every response, successful or not, are kept (`last_rate_limit`).

Every answered call is also handed to the client's cost meter (`meter`, see `costs/meter.py`)
with what X bills for it (`pricing.charges_for`): one hook on the session sees them all.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from django.conf import settings
from requests.adapters import HTTPAdapter

from twitter_channel.x.activity_types import Subscription, Webhook, parse_subscription, parse_webhook
from twitter_channel.x.compliance_types import (
    ComplianceChange,
    ComplianceJob,
    parse_compliance_job,
    parse_compliance_line,
)
from twitter_channel.x.oauth import authorization_url, exchange_code, refresh, revoke
from twitter_channel.x.parsing import (
    ParseError,
    decode_json,
    error_from_response,
    parse_dm_event,
    parse_page,
    parse_posted_tweet,
    parse_rate_limit,
    parse_sent_dm,
    parse_tweet,
    parse_user,
    problem_parameters,
)
from twitter_channel.x.pricing import Charge, charges_for
from twitter_channel.x.types import (
    Page,
    PostedTweet,
    RateLimit,
    SentDM,
    XError,
    XNotFound,
    XTransientError,
    XTweet,
    XUser,
)

__all__ = ["XClient", "authorization_url", "exchange_code", "refresh", "revoke", "Vocabulary", "TWEET", "POST"]

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
USER_FIELDS = "name,username,profile_image_url,public_metrics,verified"
# Photos, videos and GIFs of posts and DMs (expansion attachments.media_keys): a photo's image
# is `url`, a video's or GIF's still `preview_image_url`; the thread shows them as thumbnails.
MEDIA_FIELDS = "media_key,type,url,preview_image_url,width,height,alt_text"
DM_EVENT_TYPES = "MessageCreate,ParticipantsJoin,ParticipantsLeave"
MAX_IDS_PER_LOOKUP = 100


@dataclass(frozen=True)
class Vocabulary:
    """The query parameters of one vocabulary (X spec 2.159 "tweet" / 2.167 "post")."""

    name: str
    fields_param: str
    tweet_fields: str
    tweet_expansions: str
    dm_event_fields: str

    def for_tweets(self) -> dict[str, str]:
        return {self.fields_param: self.tweet_fields, "expansions": self.tweet_expansions, "user.fields": USER_FIELDS,
                "media.fields": MEDIA_FIELDS}

    def for_dm_events(self) -> dict[str, str]:
        return {"dm_event.fields": self.dm_event_fields, "expansions": "sender_id,participant_ids,attachments.media_keys",
                "user.fields": USER_FIELDS, "media.fields": MEDIA_FIELDS}


TWEET = Vocabulary(
    name="tweet",
    fields_param="tweet.fields",
    tweet_fields="attachments,author_id,conversation_id,created_at,entities,in_reply_to_user_id,note_tweet,"
    "referenced_tweets",
    tweet_expansions="author_id,referenced_tweets.id,referenced_tweets.id.author_id,entities.mentions.username,"
    "attachments.media_keys",
    dm_event_fields="id,text,event_type,created_at,dm_conversation_id,sender_id,participant_ids,referenced_tweets,"
    "attachments",
)
# 2.167 has no `referenced_posts.id.author_id` expansion, and its dm_event.fields enum lacks
# sender_id/participant_ids: those arrive through the sender_id,participant_ids expansions.
POST = Vocabulary(
    name="post",
    fields_param="post.fields",
    tweet_fields="attachments,author_id,conversation_id,created_at,entities,in_reply_to_user_id,note_post,"
    "referenced_posts",
    tweet_expansions="author_id,referenced_posts,entities.mentions.username,attachments.media_keys",
    dm_event_fields="id,text,event_type,created_at,dm_conversation_id,attachments",
)
_OTHER = {"tweet": POST, "post": TWEET}

# The vocabulary each X server (base URL) accepted last; shared by every client in the
# process, so one refusal teaches all workers' threads at once.
_vocabularies: dict[str, Vocabulary] = {}
_vocabularies_lock = threading.Lock()


def vocabulary_for(base_url: str) -> Vocabulary:
    with _vocabularies_lock:
        return _vocabularies.get(base_url, TWEET)


def remember_vocabulary(base_url: str, vocabulary: Vocabulary) -> None:
    with _vocabularies_lock:
        _vocabularies[base_url] = vocabulary


def forget_vocabularies() -> None:
    """For tests: start again from the default vocabulary everywhere."""
    with _vocabularies_lock:
        _vocabularies.clear()


def refuses_vocabulary(body: Any, sent: dict[str, str], other: dict[str, str]) -> bool:
    """Whether a 400 body refuses something only this vocabulary sends: the fields parameter
    itself (`tweet.fields` unknown to a post-only server) or a value the other vocabulary
    spells differently (`referenced_tweets.id` in `expansions`)."""
    for name, values in problem_parameters(body).items():
        if name not in sent:
            continue
        if name not in other:
            return True
        specific = set(sent[name].split(",")) - set(other[name].split(","))
        refused = {part for value in values if isinstance(value, str) for part in value.split(",")}
        if specific & refused:
            return True
    return False


class _ExpectedParameterWarnings(logging.Filter):
    """tweepy warns "Unexpected parameter" for every query parameter it does not know; the
    post vocabulary's `post.fields` is sent on purpose, so that warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Unexpected parameter: post.fields"


logging.getLogger("tweepy.client").addFilter(_ExpectedParameterWarnings())


class BaseUrlAdapter(HTTPAdapter):
    """Sends tweepy's "https://api.twitter.com/..." requests to `base_url` (scheme, host,
    port and an optional path prefix) and gives each request a timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        target = urlsplit(base_url.rstrip("/"))
        self._scheme, self._netloc, self._prefix = target.scheme, target.netloc, target.path
        self._timeout = timeout

    def send(self, request, timeout=None, proxies=None, **kwargs):  # noqa: D401 - requests' signature
        url = urlsplit(request.url)
        rewritten = urlunsplit((self._scheme, self._netloc, self._prefix + url.path, url.query, url.fragment))
        if rewritten != request.url:
            request.url = rewritten
            # requests chose proxies for api.twitter.com; choose again for the real host
            # (a sandbox on 127.0.0.1 must not go through an HTTPS proxy).
            if proxies and requests.utils.should_bypass_proxies(rewritten, no_proxy=None):
                proxies = {}
        return super().send(request, timeout=timeout if timeout is not None else self._timeout, proxies=proxies,
                            **kwargs)


class XClient:
    """X API v2 as one connected account sees it (an OAuth 2.0 user access token)."""

    def __init__(self, access_token: str, *, base_url: str | None = None, timeout: float = 10.0,
                 meter: Callable[[list[Charge]], None] | None = None) -> None:
        self.base_url = (base_url or settings.X_API_BASE_URL).rstrip("/")
        self.last_rate_limit: RateLimit | None = None
        # Called with what X bills for each answered call; `meter.own_user_id` (the token's X
        # user) tells owned reads from others. None: calls X does not bill (app management).
        self.meter = meter
        # The OAuth 2.0 user token is a bearer token; every call passes user_auth=False so
        # tweepy never tries OAuth 1.0a. Never wait_on_rate_limit: it sleeps inside a worker.
        self._client = tweepy.Client(bearer_token=access_token, return_type=requests.Response,
                                     wait_on_rate_limit=False)
        self._client.session.mount(TWEEPY_HOST, BaseUrlAdapter(self.base_url, timeout))
        self._client.session.hooks["response"].append(self._remember_rate_limit)
        self._client.session.hooks["response"].append(self._bill)

    def __repr__(self) -> str:  # never the token
        return f"<XClient {self.base_url}>"

    def close(self) -> None:
        """Closes the pooled connections; `with XClient(...) as x:` does it on exit."""
        self._client.session.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- users -------------------------------------------------------------------------

    def get_me(self) -> XUser:
        body = self._json(self._call(lambda: self._client.get_me(user_auth=False, user_fields=USER_FIELDS)))
        return self._single(body, parse_user)

    def get_user(self, user_id: str) -> XUser:
        body = self._json(self._call(lambda: self._client.get_user(id=user_id, user_auth=False,
                                                                     user_fields=USER_FIELDS)))
        return self._single(body, parse_user)

    # --- lists ---------------------------------------------------------------------------

    def get_mentions(self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None,
                     max_results: int = 100) -> Page:
        return self._tweet_page(lambda params: self._client.get_users_mentions(
            user_id, user_auth=False, since_id=since_id, pagination_token=pagination_token,
            max_results=max_results, **params))

    def get_liked_tweets(self, user_id: str, *, pagination_token: str | None = None, max_results: int = 100) -> Page:
        return self._tweet_page(lambda params: self._client.get_liked_tweets(
            user_id, user_auth=False, pagination_token=pagination_token, max_results=max_results, **params))

    def get_dm_events(self, *, pagination_token: str | None = None, max_results: int = 100) -> Page:
        body = self._with_vocabulary(
            Vocabulary.for_dm_events,
            lambda params: self._client.get_direct_message_events(
                user_auth=False, event_types=DM_EVENT_TYPES, pagination_token=pagination_token,
                max_results=max_results, **params))
        return self._page(body, parse_dm_event)

    def get_tweets(self, ids: list[str]) -> Page:
        """Posts by id; deleted or hidden ones come back in `page.partial_errors`."""
        ids = [str(i) for i in ids]
        page = Page(rate_limit=self.last_rate_limit)
        # X takes at most 100 ids per lookup: larger batches are split and merged.
        for start in range(0, len(ids), MAX_IDS_PER_LOOKUP):
            chunk = ids[start:start + MAX_IDS_PER_LOOKUP]
            part = self._tweet_page(lambda params, chunk=chunk: self._client.get_tweets(
                chunk, user_auth=False, **params))
            page.items += part.items
            page.malformed += part.malformed
            page.users.update(part.users)
            page.tweets.update(part.tweets)
            page.partial_errors += part.partial_errors
            page.result_count += part.result_count
            page.rate_limit = part.rate_limit
        return page

    def get_tweet(self, tweet_id: str) -> XTweet:
        """One post; XNotFound when X reports it deleted or invisible (a 200 with only errors)."""
        body = self._with_vocabulary(
            Vocabulary.for_tweets, lambda params: self._client.get_tweet(tweet_id, user_auth=False, **params))
        return self._single(body, parse_tweet)

    # --- writes ------------------------------------------------------------------------

    def create_tweet(self, text: str, *, in_reply_to_tweet_id: str | None = None) -> PostedTweet:
        response = self._call(lambda: self._client.create_tweet(
            text=text, in_reply_to_tweet_id=in_reply_to_tweet_id, user_auth=False))
        return self._single(self._json(response), parse_posted_tweet, whole_body=True)

    def delete_tweet(self, tweet_id: str) -> None:
        self._call(lambda: self._client.delete_tweet(tweet_id, user_auth=False))

    def send_dm(self, text: str, *, participant_id: str | None = None,
                dm_conversation_id: str | None = None) -> SentDM:
        if (participant_id is None) == (dm_conversation_id is None):
            raise ValueError("send_dm needs exactly one of participant_id or dm_conversation_id")
        response = self._call(lambda: self._client.create_direct_message(
            participant_id=participant_id, dm_conversation_id=dm_conversation_id, text=text, user_auth=False))
        return self._single(self._json(response), parse_sent_dm, whole_body=True)

    # --- X Activity API (real time) ---------------------------------------------------------
    # tweepy 4.17 has no Activity API methods: these are plain requests on tweepy's own
    # session, so the base-URL rerouting, the timeout and the rate-limit hook apply as well.
    # Webhooks, replay, stream and subscription deletion take the app's bearer token
    # (an XClient made with X_APP_BEARER_TOKEN); creating a subscription takes the account's.

    def list_webhooks(self) -> list[Webhook]:
        body = self._json(self._activity("GET", "/2/webhooks"))
        return [parse_webhook(raw) for raw in body.get("data") or []]

    def create_webhook(self, url: str) -> Webhook:
        """X checks the URL with a CRC before it answers; a failed check is a 400."""
        return self._single(self._json(self._activity("POST", "/2/webhooks", json_body={"url": url})), parse_webhook)

    def validate_webhook(self, webhook_id: str) -> bool:
        body = self._json(self._activity("PUT", f"/2/webhooks/{webhook_id}"))
        return (body.get("data") or {}).get("valid") is True

    def delete_webhook(self, webhook_id: str) -> bool:
        body = self._json(self._activity("DELETE", f"/2/webhooks/{webhook_id}"))
        return (body.get("data") or {}).get("deleted") is True

    def create_activity_subscription(self, event_type: str, user_id: str, *, direction: str = "",
                                     webhook_id: str = "", tag: str = "") -> Subscription:
        request: dict[str, Any] = {"event_type": event_type, "filter": {"user_id": user_id}}
        if direction:
            request["filter"]["direction"] = direction
        if webhook_id:
            request["webhook_id"] = webhook_id
        if tag:
            request["tag"] = tag
        body = self._json(self._activity("POST", "/2/activity/subscriptions", json_body=request))
        return self._single(body, lambda data: parse_subscription((data or {}).get("subscription")))

    def list_activity_subscriptions(self) -> list[Subscription]:
        body = self._json(self._activity("GET", "/2/activity/subscriptions", params={"max_results": 1000}))
        return [parse_subscription(raw) for raw in body.get("data") or []]

    def delete_activity_subscription(self, subscription_id: str) -> bool:
        body = self._json(self._activity("DELETE", f"/2/activity/subscriptions/{subscription_id}"))
        return (body.get("data") or {}).get("deleted") is True

    def replay_webhook(self, webhook_id: str, from_time: datetime, to_time: datetime) -> str:
        """Ask X to deliver again every event of a window (at most the last 24 h); returns the job id."""
        request = {"webhook_id": webhook_id, "from_date": from_time.astimezone(UTC).strftime("%Y%m%d%H%M"),
                   "to_date": to_time.astimezone(UTC).strftime("%Y%m%d%H%M")}
        body = self._json(self._activity("POST", "/2/webhooks/replay", json_body=request))
        job = (body.get("data") or {}).get("job_id")
        if not isinstance(job, str):
            raise XTransientError("X accepted the replay but sent no job id")
        return job

    def activity_stream(self, *, backfill_minutes: int = 0, read_timeout: float = 60.0) -> Iterator[str]:
        """The lines of `GET /2/activity/stream`, each one raw event as X sent it; a keep-alive
        comes through as "" (so the caller can stop between events). A silence longer than
        `read_timeout` ends the stream with XTransientError, as does a dropped connection:
        the caller reconnects."""
        params = {"backfill_minutes": backfill_minutes} if backfill_minutes else None
        response = self._activity("GET", "/2/activity/stream", params=params, stream=True,
                                  timeout=(10.0, read_timeout))
        try:
            for line in response.iter_lines(decode_unicode=False):
                yield line.decode("utf-8").strip()
        except requests.RequestException as e:
            raise XTransientError(f"the activity stream broke ({type(e).__name__})") from e
        finally:
            response.close()
        raise XTransientError("X closed the activity stream")

    # --- Batch compliance jobs (app bearer token) -------------------------------------------
    # Create a job, upload the ids we hold to its pre-signed URL, poll its status, stream the
    # result. The upload and download URLs are cloud storage on X, not the API: no token.

    def create_compliance_job(self, job_type: str, *, name: str = "") -> ComplianceJob:
        request = {"type": job_type, **({"name": name[:64]} if name else {})}
        return self._single(self._json(self._activity("POST", "/2/compliance/jobs", json_body=request)),
                            parse_compliance_job)

    def get_compliance_job(self, job_id: str) -> ComplianceJob:
        return self._single(self._json(self._activity("GET", f"/2/compliance/jobs/{job_id}")), parse_compliance_job)

    def upload_compliance_ids(self, job: ComplianceJob, ids: Iterable[str]) -> int:
        """Upload `ids`, one per line, without holding them in memory: they are spooled to
        a temporary file and the file is streamed (with its length, as storage wants)."""
        count = 0
        with tempfile.TemporaryFile() as spool:
            for x_id in ids:
                spool.write(f"{x_id}\n".encode())
                count += 1
            spool.seek(0)
            try:
                response = requests.put(job.upload_url, data=spool, headers={"Content-Type": "text/plain"},
                                        timeout=(10.0, 600.0))
            except requests.RequestException as e:
                raise XTransientError(f"could not upload the ids ({type(e).__name__})") from e
        if response.status_code >= 400:
            raise error_from_response(response)
        return count

    def compliance_results(self, job: ComplianceJob) -> Iterator[ComplianceChange]:
        """The job's result, one change at a time, read as a stream."""
        try:
            response = requests.get(job.download_url, stream=True, timeout=(10.0, 600.0))
        except requests.RequestException as e:
            raise XTransientError(f"could not download the result ({type(e).__name__})") from e
        if response.status_code >= 400:
            response.close()
            raise error_from_response(response)
        with response:
            try:
                for line in response.iter_lines():
                    change = parse_compliance_line(line)
                    if change is not None:
                        yield change
            except requests.RequestException as e:
                raise XTransientError(f"the result download broke ({type(e).__name__})") from e

    def _activity(self, method: str, path: str, *, params: dict | None = None, json_body: dict | None = None,
                  stream: bool = False, timeout: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._client.bearer_token}", "User-Agent": self._client.user_agent}
        try:
            response = self._client.session.request(method, TWEEPY_HOST + path, params=params, json=json_body,
                                                    headers=headers, stream=stream, timeout=timeout)
        except requests.Timeout as e:
            raise XTransientError(f"X did not answer in time ({type(e).__name__})") from e
        except requests.RequestException as e:
            raise XTransientError(f"could not reach X ({type(e).__name__})") from e
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    # --- plumbing ------------------------------------------------------------------------

    def _remember_rate_limit(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        limit = parse_rate_limit(response.headers)
        if limit is not None:
            self.last_rate_limit = limit

    def _bill(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if self.meter is None:
            return
        path = urlsplit(response.request.url).path
        prefix = urlsplit(self.base_url).path
        if prefix and path.startswith(prefix):
            path = path[len(prefix):]
        if path == "/2/activity/stream" or response.status_code >= 300:
            return  # never read a stream's body here; pushed events are billed when stored
        try:
            charges = charges_for(response.request.method or "GET", path, response.status_code,
                                  response.request.body, response.content,
                                  own_user_id=getattr(self.meter, "own_user_id", None))
            if charges:
                self.meter(charges)
        except Exception:  # the meter must never break the call it meters
            log.exception("could not meter an X call to %s", path)

    def _call(self, call: Callable[[], requests.Response]) -> requests.Response:
        """Runs one tweepy call, turning every failure into the project's errors."""
        try:
            return call()
        except tweepy.errors.HTTPException as e:
            raise error_from_response(e.response) from e
        except requests.Timeout as e:
            raise XTransientError(f"X did not answer in time ({type(e).__name__})") from e
        except requests.ConnectionError as e:
            raise XTransientError(f"could not reach X ({type(e).__name__})") from e
        except requests.RequestException as e:
            raise XTransientError(f"request to X failed ({type(e).__name__})") from e

    def _json(self, response: requests.Response) -> dict:
        try:
            body = decode_json(response.content)
        except ValueError as e:
            raise XTransientError(f"X answered {response.status_code} with a body that is not JSON",
                                  status=response.status_code) from e
        if not isinstance(body, dict):
            raise XTransientError("X answered with JSON that is not an object", status=response.status_code)
        return body

    def _with_vocabulary(self, params_of: Callable[[Vocabulary], dict[str, str]],
                         call: Callable[[dict[str, Any]], requests.Response]) -> dict:
        """Runs `call` with the base URL's current vocabulary; when X refuses that vocabulary
        (400 naming its parameters), switches, retries once and remembers the switch."""
        vocabulary = vocabulary_for(self.base_url)
        other = _OTHER[vocabulary.name]
        try:
            return self._json(self._call(lambda: call(_as_tweepy_kwargs(params_of(vocabulary)))))
        except XError as e:
            body = _body_of(e)
            if e.status != 400 or not refuses_vocabulary(body, params_of(vocabulary), params_of(other)):
                raise
        log.info("X at %s refused the %s vocabulary; retrying with %s", self.base_url, vocabulary.name, other.name)
        body = self._json(self._call(lambda: call(_as_tweepy_kwargs(params_of(other)))))
        remember_vocabulary(self.base_url, other)
        return body

    def _tweet_page(self, call: Callable[[dict[str, Any]], requests.Response]) -> Page:
        return self._page(self._with_vocabulary(Vocabulary.for_tweets, call), parse_tweet)

    def _page(self, body: dict, parse_item: Callable[[Any], Any]) -> Page:
        try:
            return parse_page(body, parse_item, rate_limit=self.last_rate_limit)
        except ParseError as e:
            # The page's frame itself (not one item) is broken: nothing can be trusted.
            raise XTransientError(f"X sent a page of an unexpected shape: {e}") from e

    def _single(self, body: dict, parse: Callable[[Any], Any], *, whole_body: bool = False) -> Any:
        if not whole_body and not body.get("data") and body.get("errors"):
            # X answers a lookup of a deleted post or an unknown user with 200 and only a
            # partial error ("Could not find tweet with id: [...]").
            errors = body["errors"] if isinstance(body["errors"], list) else []
            detail = next((e["detail"] for e in errors if isinstance(e, dict) and isinstance(e.get("detail"), str)), "")
            raise XNotFound(detail or "X found nothing for this id", status=200)
        try:
            return parse(body if whole_body else body.get("data"))
        except ParseError as e:
            raise XTransientError(f"X sent an object of an unexpected shape: {e}") from e


def _as_tweepy_kwargs(params: dict[str, str]) -> dict[str, str]:
    # tweepy maps `tweet_fields` to `tweet.fields` for the parameters it knows and sends
    # unknown names unchanged, so `post.fields` must keep its dot.
    return {name if name == "post.fields" else name.replace(".", "_"): value for name, value in params.items()}


def _body_of(error: XError) -> Any:
    response = getattr(error.__cause__, "response", None)
    if response is None:
        return None
    try:
        return decode_json(response.content)
    except ValueError:
        return None
