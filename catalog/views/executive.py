"""The executive dashboard and the items behind each figure. (Stub: being built.)"""

from django.http import Http404


def dashboard(request):
    raise Http404


def items(request):
    raise Http404


def export(request, fmt: str):
    raise Http404
