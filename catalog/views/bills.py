"""The monthly IT bill per cost centre, its exports and closing. (Stub: being built.)"""

from django.http import Http404


def bill(request):
    raise Http404


def bill_export(request, fmt: str):
    raise Http404
