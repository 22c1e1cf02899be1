"""The fulfilment queue in the Wagtail admin. (Stub: the pages are being built.)"""

from django.http import Http404


def queue(request):
    raise Http404


def queue_assign(request):
    raise Http404


def queue_item(request, item_id: int):
    raise Http404


def queue_item_action(request, item_id: int, action: str):
    raise Http404


def calendar_preview(request):
    raise Http404
