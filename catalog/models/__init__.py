"""The catalog's models, one module per concern; import from here."""

from .approvals import ApprovalDelegation, ApprovalStep  # noqa: F401
from .basket import Basket, BasketLine  # noqa: F401
from .calendars import (  # noqa: F401
    BusinessCalendar,
    BusinessHours,
    CalendarClosure,
    CalendarVersion,
)
from .catalog_version import CatalogVersion  # noqa: F401
from .moderation import ServiceOwnerApprovalTask  # noqa: F401
from .pages import CatalogIndexPage, CategoryPage, ServicePage  # noqa: F401
from .people import UserProfile  # noqa: F401
from .reporting import (  # noqa: F401
    BillClosing,
    ChargeKind,
    ChargeRollup,
    DailyRollup,
    HoldingRollup,
    ItemFact,
    MonthlyRollup,
    RecurringRollup,
    ServiceDeliveryStats,
)
from .requests import (  # noqa: F401
    ALLOWED_TRANSITIONS,
    BREACH_RECORDS,
    NO_BREACH_RECORDED,
    NOT_STARTED,
    OPEN_STATES,
    QUEUE_STATES,
    ItemStatus,
    RequestEvent,
    RequestItem,
    ServiceRequest,
    status_words,
)
from .search import SearchMiss  # noqa: F401
from .settings import ServiceDeskSettings  # noqa: F401
from .snippets import (  # noqa: F401
    CostCentre,
    Department,
    FulfilmentGroup,
    HoldReason,
    InternalTarget,
    Location,
    ServiceLevel,
)
