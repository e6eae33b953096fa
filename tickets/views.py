from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .access import visible_tickets


@login_required
def queue(request):
    tickets = visible_tickets(request.user).select_related("requester", "assignee")[:50]
    return render(request, "tickets/queue.html", {"tickets": tickets})


@login_required
def detail(request, pk):
    ticket = get_object_or_404(visible_tickets(request.user), pk=pk)
    return render(request, "tickets/detail.html", {"ticket": ticket})
