"""Approvals waiting for me, deciding them, and naming a substitute. (Stub: the
pages are being built.)"""

from django.http import Http404


def approval_list(request):
    raise Http404


def approval_step_decide(request, step_id: int):
    raise Http404


def approval_request_decide(request, request_id: int):
    raise Http404


def substitutes(request):
    raise Http404


def substitute_remove(request, delegation_id: int):
    raise Http404
