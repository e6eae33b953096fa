"""The endpoint X delivers Activity API events to.

GET ?crc_token= answers X's challenge-response check; POST takes one event or a batch. A POST whose
signature does not verify is refused before anything is read or written. A signed event is
stored raw, once (keyed on its event id), and processed by Celery afterwards: the answer goes
back to X within milliseconds, so a burst never makes X time out and give up on a delivery.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from twitter_channel.realtime.models import ActivityEvent
from twitter_channel.realtime.signatures import SIGNATURE_HEADER, NotACrcToken, crc_response_token, is_signed_by_x
from twitter_channel.realtime.tasks import record_and_queue
from twitter_channel.x.activity_events import MAX_EVENT_NESTING, nested_deeper_than

log = logging.getLogger(__name__)


@csrf_exempt  # X cannot send a CSRF token; the HMAC signature authenticates every POST instead
@require_http_methods(["GET", "POST"])
def x_webhook(request: HttpRequest) -> HttpResponse:
    if not settings.X_WEBHOOK_CONSUMER_SECRET:
        log.error("X webhook called but X_WEBHOOK_CONSUMER_SECRET is not set")
        return HttpResponse(status=503)
    if request.method == "GET":
        try:
            return JsonResponse({"response_token": crc_response_token(request.GET.get("crc_token", ""))})
        except NotACrcToken:
            log.warning("Refused to answer a CRC whose token is not shaped like X's")
            return HttpResponseBadRequest("crc_token missing or not shaped like X's")

    body = request.body
    if not is_signed_by_x(body, request.headers.get(SIGNATURE_HEADER)):
        log.warning("Refused an X webhook delivery with a missing or wrong signature")
        return HttpResponseForbidden("bad signature")
    if not body.lstrip().startswith(b"{"):
        # X delivers JSON objects. A correctly signed body of another shape means the consumer
        # secret signed something it should not have: keep it out of the event store.
        log.error("Refused a signed X webhook delivery that is not a JSON object")
        return HttpResponseBadRequest("an event is a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return HttpResponseBadRequest("body is not UTF-8")
    if nested_deeper_than(text):
        # No event is shaped like this; it is refused rather than kept, so a sender looping on
        # it costs one linear scan per delivery, never a parse.
        log.warning("Refused a signed X webhook body of %d bytes nested deeper than %d", len(body), MAX_EVENT_NESTING)
        return HttpResponseBadRequest("body nested too deeply")
    # Stored before anything else happens; processing is queued after the commit, and if the
    # broker is away the sweeper processes the event instead: 200 either way.
    record_and_queue(text, ActivityEvent.Source.WEBHOOK)
    # 200 for a duplicate as well: X must not redeliver what we already hold.
    return HttpResponse(status=200)
