"""The service review: rarely and often requested services. (Stub: being built.)"""

from django.http import Http404


def service_review(request):
    raise Http404


def service_suspend(request, service_id: int):
    raise Http404
