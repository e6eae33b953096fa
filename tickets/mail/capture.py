"""Taking a requester's email address from the public form, and its owner's confirmation.

An agent's "ask for their email" makes an `EmailRequest` (bound to the ticket's requester)
whose link leads to the form. The first address posted there uses the link up and becomes
an `EmailConfirmation`: a mail with a confirmation link goes to it, and that is the only
mail it gets. When its owner confirms, it becomes a confirmed email identity of the
requester (primary if they had none). A link can therefore not be used to point a
requester's mail at somebody else's address, nor be replayed, nor serve another requester.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from ..comments import TicketFull, add_comment
from ..links import confirmation_link
from ..models import Identity, Ticket, User
from .addresses import AddressBelongsToAnotherRequester, set_requester_email
from .models import EmailConfirmation, EmailRequest
from .notifications import queue_notification

log = logging.getLogger(__name__)

CONFIRMED = "confirmed"
ALREADY_CONFIRMED = "already_confirmed"
TAKEN = "taken"


def new_email_request(ticket: Ticket, created_by: User | None) -> EmailRequest:
    return EmailRequest.objects.create(ticket=ticket, requester_id=ticket.requester_id, created_by=created_by)


def open_request(request_id: int) -> EmailRequest | None:
    """The request behind a form link, while it may still be used: not used yet, and its
    ticket still belongs to the requester it was made for."""
    found = EmailRequest.objects.select_related("ticket").filter(pk=request_id, used_at__isnull=True).first()
    if found is None or found.ticket.requester_id != found.requester_id:
        return None
    return found


def take_address(request_id: int, address: str) -> EmailConfirmation | None:
    """Use the request up for `address` (already validated) and mail it a confirmation link
    after commit. None when the link was used (or voided) meanwhile."""
    address = address.strip().lower()
    with transaction.atomic():
        # The row lock makes a burst of posts with one link yield a single address.
        email_request = EmailRequest.objects.select_for_update().filter(pk=request_id, used_at__isnull=True).first()
        if email_request is None or open_request(request_id) is None:
            return None
        email_request.used_at = timezone.now()
        email_request.save(update_fields=["used_at"])
        confirmation = EmailConfirmation.objects.create(request=email_request, address=address)
        _note(email_request.ticket, (
            f"An email address was left on the form: {address}. A confirmation link was mailed to it; nothing "
            "else goes to it until its owner confirms."
        ))
        # In the outbox with the address: sent after commit, and swept up if the broker was
        # down when the requester posted the form (which must not fail for it).
        queue_notification([address], *confirmation_mail(confirmation))
    return confirmation


def confirmation_mail(confirmation: EmailConfirmation) -> tuple[str, str]:
    """The confirmation mail's subject and body."""
    ticket_id = confirmation.request.ticket_id
    return (
        f"Confirm your email address for request #{ticket_id}",
        f"Someone asked us to continue support request #{ticket_id} by email at this address.\n\n"
        f"If that was you, confirm it here:\n{confirmation_link(confirmation)}\n\n"
        "If it was not you, ignore this message: we will not write to you again.",
    )


def send_confirmation(confirmation_id: int) -> None:
    """For a confirmation task queued before confirmations went through the outbox."""
    confirmation = EmailConfirmation.objects.select_related("request").filter(pk=confirmation_id).first()
    if confirmation is None or confirmation.confirmed_at is not None:
        return
    subject, body = confirmation_mail(confirmation)
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                 to=[confirmation.address]).send(fail_silently=False)


def confirm(confirmation_id: int) -> str:
    """The owner of the address clicked the link: the address becomes the requester's.
    Returns CONFIRMED, ALREADY_CONFIRMED or TAKEN (it belongs to another requester: not
    added, and the agents are told without being shown who that is)."""
    with transaction.atomic():
        confirmation = (
            EmailConfirmation.objects.select_for_update().select_related("request__ticket", "request__requester")
            .get(pk=confirmation_id)
        )
        if confirmation.confirmed_at is not None:
            return ALREADY_CONFIRMED
        confirmation.confirmed_at = timezone.now()
        confirmation.save(update_fields=["confirmed_at"])
        email_request = confirmation.request
        try:
            identity = set_requester_email(email_request.requester, confirmation.address, actor=None)
        except AddressBelongsToAnotherRequester:
            _note(email_request.ticket, (
                f"The owner of {confirmation.address} confirmed it, but it already belongs to another requester, "
                "so it was not added. An admin can merge the two if they are the same person."
            ))
            return TAKEN
        if identity.is_primary:
            note = f"{identity.value} was confirmed by its owner and is now the requester's address for replies by email."
        else:
            primary = (Identity.objects.filter(requester_id=identity.requester_id, kind=Identity.Kind.EMAIL,
                                               is_primary=True).values_list("value", flat=True).first())
            note = (f"{identity.value} was confirmed by its owner. Replies by email still go to the primary address "
                    f"{primary}; make {identity.value} primary on the requester card if they prefer it.")
        _note(email_request.ticket, note)
    return CONFIRMED


def _note(ticket: Ticket, body: str) -> None:
    try:
        add_comment(ticket, body=body, is_public=False)
    except TicketFull:
        log.warning("Ticket #%s is full; note not added: %s", ticket.pk, body)
