"""Domain errors. Each carries a message fit to show the person who caused it."""

from django.core.exceptions import PermissionDenied
from django.http import Http404


class CatalogError(Exception):
    """A refused action; ``message`` is in the customer's words."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class NotFoundForUser(Http404):
    """The thing doesn't exist, or this person may not know it exists."""


class NotAllowed(PermissionDenied):
    """The person is known to see the thing but may not do this to it."""


class ServiceNotOrderable(CatalogError):
    pass


class InvalidAnswers(CatalogError):
    """``errors`` maps form field name (``q_<question key>``, or "quantity") to
    messages; ``form`` is the bound request form, to show them again."""

    def __init__(self, errors: dict[str, list[str]], form=None):
        super().__init__("Some answers need your attention.")
        self.errors = errors
        self.form = form


class BasketEmpty(CatalogError):
    pass


class BasketChanged(CatalogError):
    """Prices or availability changed since the person last looked."""


class BasketSubmitted(CatalogError):
    """The basket was sent as a request while the person was changing it; their
    change was not applied (the request holds what checkout confirmed)."""

    def __init__(self, request_number: str = ""):
        sent_as = f"request {request_number}" if request_number else "a request"
        super().__init__(
            f"That basket was just sent as {sent_as}; your change was not applied."
        )
        self.request_number = request_number


class InvalidCheckout(CatalogError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Check the details below.")
        self.errors = errors


class TransitionNotAllowed(CatalogError):
    pass


class ItemChanged(CatalogError):
    """Someone else changed the item since the person loaded the page."""


class ApprovalRefused(CatalogError):
    """This person may not (or no longer) decide this approval, or it has been
    decided already; the message says which."""


class InvalidInput(CatalogError):
    """``errors`` maps field name to messages, for forms outside checkout."""

    def __init__(self, errors: dict[str, list[str]], message: str = ""):
        super().__init__(message or "Check the details below.")
        self.errors = errors
