"""The storefront's pages: catalog index → categories → services.

Pages present content only. Who may see what is decided in
``catalog.selectors.entitlements``, lists and their cache in
``catalog.selectors.listing`` and ``catalog.selectors.caching``, URL routing in
``catalog.models.routing``; ordering lives in ``catalog.services``.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.http import Http404
from django.template.defaultfilters import pluralize
from django.utils.functional import SimpleLazyObject, cached_property
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    HelpPanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from catalog.blocks import DescriptionBlock, RequestFormBlock
from home.cache import UncachedPreviewMixin
from home.serve import RememberedRestrictionsMixin

from .routing import CatalogIndexRoutingMixin, ChildTypeRoutingMixin
from .snippets import Department, FulfilmentGroup, Location, ServiceLevel


class ServiceListingMixin:
    """Serving a page that lists services (the catalog index and its categories).

    ``get_context`` presents the list (``listing_context``: from the cache, or
    rendered now). Counting a search is a write, so it happens here, in the
    request-handling step, and never in ``get_context``, which previews also call.
    """

    # The category whose services are listed; None on the index (every one).
    listing_category = None

    def catalog_index(self):
        raise NotImplementedError

    def get_context(self, request, *args, **kwargs):
        from catalog.selectors.caching import listing_context

        context = super().get_context(request, *args, **kwargs)
        # The listing is rendered without the request's context processors, so
        # it is given the catalog's address.
        context["catalog_url"] = self.catalog_index().get_url(request)
        context.update(
            listing_context(
                request=request,
                catalog_url=context["catalog_url"],
                category=self.listing_category,
            )
        )
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        listing = getattr(response, "context_data", None) or {}
        query = listing.get("query")
        if query and "page" not in request.GET:
            # Count each new search once (not again for each page of its results).
            from catalog.services.search import search_record

            search_record(query=query, result_count=listing["result_count"])
        return response


class CatalogIndexPage(
    RememberedRestrictionsMixin,
    UncachedPreviewMixin,
    ServiceListingMixin,
    CatalogIndexRoutingMixin,
    Page,
):
    """`/services/`: every service the person may order, with search and filters."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["catalog.CategoryPage"]
    child_model_name = "CategoryPage"
    max_count = 1

    def catalog_index(self):
        return self


class CategoryPage(
    RememberedRestrictionsMixin,
    UncachedPreviewMixin,
    ServiceListingMixin,
    ChildTypeRoutingMixin,
    Page,
):
    """A shelf of related services, e.g. "Laptops and computers"."""

    ICONS = [
        ("laptop", "Laptop"),
        ("phone", "Phone"),
        ("key", "Key"),
        ("folder", "Folder"),
        ("mail", "Mail"),
        ("apps", "Apps"),
        ("people", "People"),
        ("video", "Video"),
        ("shield", "Shield"),
        ("printer", "Printer"),
    ]

    summary = models.CharField(max_length=200)
    icon = models.CharField(max_length=20, choices=ICONS, default="apps")
    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("icon"),
        FieldPanel("intro"),
    ]
    search_fields = Page.search_fields + [index.SearchField("summary")]
    parent_page_types = ["catalog.CatalogIndexPage"]
    subpage_types = ["catalog.ServicePage"]
    child_model_name = "ServicePage"

    @property
    def listing_category(self):
        return self

    def catalog_index(self):
        return self.get_parent()


class ServicePage(RememberedRestrictionsMixin, UncachedPreviewMixin, Page):
    """One orderable IT service, described in the customer's words."""

    # What the customer reads
    summary = models.CharField(
        max_length=200,
        help_text='One line in plain words, e.g. "A laptop set up for you".',
    )
    description = StreamField(DescriptionBlock(), blank=True)
    who_is_it_for = models.TextField(
        "who is it for", blank=True, help_text="Who should order this, in plain words."
    )
    what_you_provide = models.TextField(
        "what you need to provide",
        blank=True,
        help_text="What the requester must have ready or tell us.",
    )
    image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    also_known_as = models.CharField(
        max_length=255,
        blank=True,
        help_text="Other words people search for, separated by commas "
        '(e.g. "notebook, computer, macbook").',
    )
    featured = models.BooleanField(
        default=False, help_text="Show on the catalog home page."
    )

    # Ordering
    one_off_price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    monthly_price = models.DecimalField(
        "monthly price",
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    delivery_days = models.PositiveSmallIntegerField(
        "usual delivery time (working days)",
        default=2,
        help_text="0 means usually ready the same working day.",
    )
    requires_approval = models.BooleanField(
        default=False, help_text="The requester's manager must approve it first."
    )
    online_system = models.BooleanField(
        "an online system",
        default=False,
        help_text="Something people use online (e.g. VPN, e-mail): its page shows "
        "the service level's availability target. Leave unticked for things we "
        "deliver or do, such as a laptop or an access change.",
    )
    max_quantity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="1 means one per request; more lets people order several.",
    )
    orderable = models.BooleanField(
        default=True, help_text="Untick to suspend ordering while keeping the page."
    )
    not_orderable_reason = models.CharField(
        "why it can't be ordered",
        max_length=255,
        blank=True,
        help_text="Shown to customers while ordering is suspended.",
    )
    request_form = StreamField(
        RequestFormBlock(),
        blank=True,
        help_text="The questions people answer when they order this service.",
    )

    # Who may see it: no restriction in a dimension means everyone.
    restricted_to_departments = ParentalManyToManyField(
        Department, blank=True, related_name="+"
    )
    restricted_to_locations = ParentalManyToManyField(
        Location, blank=True, related_name="+"
    )
    restricted_to_groups = ParentalManyToManyField(Group, blank=True, related_name="+")

    # IT only
    service_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fulfilment_group = models.ForeignKey(
        FulfilmentGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    service_level = models.ForeignKey(
        ServiceLevel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    internal_notes = models.TextField(blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("image"),
        FieldPanel("description"),
        FieldPanel("who_is_it_for"),
        FieldPanel("what_you_provide"),
        FieldPanel("also_known_as"),
        FieldPanel("featured"),
    ]
    ordering_panels = [
        FieldRowPanel(
            [FieldPanel("one_off_price"), FieldPanel("monthly_price")],
            heading=f"Price ({settings.CATALOG_CURRENCY})",
        ),
        FieldRowPanel([FieldPanel("delivery_days"), FieldPanel("max_quantity")]),
        FieldPanel("requires_approval"),
        FieldPanel("online_system"),
        MultiFieldPanel(
            [FieldPanel("orderable"), FieldPanel("not_orderable_reason")],
            heading="Availability",
        ),
        FieldPanel("request_form"),
    ]
    audience_panels = [
        HelpPanel(
            "Leave everything empty to offer the service to everyone. Each list "
            "you fill in narrows it down: a person must match every list that has "
            "entries (any one department, any one location, any one group)."
        ),
        FieldPanel("restricted_to_departments"),
        FieldPanel("restricted_to_locations"),
        FieldPanel("restricted_to_groups"),
    ]
    it_panels = [
        HelpPanel("Customers never see this tab."),
        FieldPanel("service_owner"),
        FieldPanel("fulfilment_group"),
        FieldPanel(
            "service_level",
            help_text="The service level agreement (SLA) and internal targets (OLA).",
        ),
        FieldPanel("internal_notes"),
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading="Customer view"),
            ObjectList(ordering_panels, heading="Ordering"),
            ObjectList(audience_panels, heading="Who can see it"),
            ObjectList(it_panels, heading="IT only"),
            ObjectList(Page.promote_panels, heading="Promote"),
            ObjectList(Page.settings_panels, heading="Settings"),
        ]
    )

    search_fields = Page.search_fields + [
        index.SearchField("summary", boost=2),
        index.SearchField("also_known_as", boost=3),
        index.SearchField("description"),
        index.SearchField("who_is_it_for"),
        index.AutocompleteField("also_known_as"),
    ]
    parent_page_types = ["catalog.CategoryPage"]
    subpage_types = []

    class Meta:
        indexes = [models.Index(fields=["featured"])]

    def clean(self):
        super().clean()
        errors = {}
        if not self.orderable and not self.not_orderable_reason.strip():
            errors["not_orderable_reason"] = "Tell customers why they can't order it."
        # One promise: the usual delivery time shown on the card is never longer
        # than the service level's resolution target, in the same working days.
        level = self.service_level if self.service_level_id else None
        promised = level.resolution_working_days() if level else None
        if promised is not None and self.delivery_days > promised:
            errors["delivery_days"] = (
                f"“{level.name}” promises delivery within {promised} working "
                f"day{pluralize(promised)}, so it can't usually take longer. "
                "Enter at most that, or choose a service level with a longer "
                "target."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def description_shown(self) -> list:
        """The description as the service page shows it: while the service
        can't be ordered, its steps ("1. You order it here…") describe what
        nobody can do, so they go."""
        if self.orderable:
            return list(self.description)
        return [block for block in self.description if block.block_type != "steps"]

    @property
    def delivery_text(self) -> str:
        if self.delivery_days == 0:
            return "Usually ready the same working day"
        if self.delivery_days == 1:
            return "Usually ready in 1 working day"
        return f"Usually ready in {self.delivery_days} working days"

    @cached_property
    def service_promise(self):
        """The service level with its calendar, in one query, for the page."""
        if self.service_level_id is None:
            return None
        return (
            ServiceLevel.objects.select_related("calendar")
            .filter(pk=self.service_level_id)
            .first()
        )

    @cached_property
    def recent_delivery(self):
        """The "Recently: …" line from the daily delivery figures: one query, or
        none where a list joined them in (``select_related("delivery_stats")``)."""
        from catalog.selectors.reporting.services import delivery_line

        return delivery_line(service=self)

    @property
    def is_free(self) -> bool:
        return not self.one_off_price and not self.monthly_price

    @cached_property
    def request_questions(self):
        """The request form's questions as (key, block) pairs, for the validator."""
        return [(child.id, child) for child in self.request_form]

    def serve(self, request, *args, **kwargs):
        from catalog.selectors.entitlements import service_is_visible

        if not service_is_visible(user=request.user, service=self):
            raise Http404
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from catalog.forms import RequestForm

        context = super().get_context(request, *args, **kwargs)
        context["category"] = self.get_parent().specific_deferred
        context["catalog_url"] = context["category"].get_parent().get_url(request)
        # Lazy: the unbound form's HTML is usually served from the template cache.
        context["request_form"] = SimpleLazyObject(
            lambda: RequestForm(questions=self.request_questions)
        )
        from catalog.selectors.reporting.services import executive_panel

        context["executive_panel"] = executive_panel(user=request.user, service=self)
        return context
