"""The catalog's models, one module per concern; import from here."""

from .basket import Basket, BasketLine  # noqa: F401
from .pages import CatalogIndexPage, CategoryPage, ServicePage  # noqa: F401
from .people import UserProfile  # noqa: F401
from .requests import (  # noqa: F401
    ALLOWED_TRANSITIONS,
    NOT_STARTED,
    OPEN_STATES,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceRequest,
)
from .search import SearchMiss  # noqa: F401
from .snippets import (  # noqa: F401
    CostCentre,
    Department,
    FulfilmentGroup,
    Location,
    ServiceLevel,
)
