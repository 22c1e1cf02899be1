"""How a storefront URL finds its page: the catalog's routing, in one place.

Wagtail's own routing walks the tree one URL segment at a time and loads each
page twice (as a plain ``Page``, then as its specific type). The storefront's
tree is regular (index → categories → services, one page type per level), so it
routes with fewer queries; measured in bench/README.md ("How the pages got
there", Routing). Everything else about serving a page is Wagtail's.
"""

from django.apps import apps
from django.http import Http404


class ChildTypeRoutingMixin:
    """Route to children that are all of one page type with one query.

    Wagtail's default routing loads a child as a plain ``Page`` and then again as
    its specific type: two queries per level of the URL. Catalog index and
    categories hold only one type of child, so one query is enough.
    """

    child_model_name: str = ""

    def route(self, request, path_components):
        if not path_components:
            return super().route(request, path_components)
        model = apps.get_model("catalog", self.child_model_name)
        try:
            child = model.objects.child_of(self).get(slug=path_components[0])
        except model.DoesNotExist as exc:
            raise Http404 from exc
        child._cached_parent_obj = self
        return child.route(request, path_components[1:])


class CatalogIndexRoutingMixin(ChildTypeRoutingMixin):
    """For the catalog index: a service page's URL (/<category>/<service>/) is
    resolved from a cache of published pages, one cheap query for the catalog
    version instead of one per URL level (``service_by_path``). Shorter URLs
    route to a category as above."""

    def route(self, request, path_components):
        if len(path_components) != 2:
            return super().route(request, path_components)
        from catalog.selectors.caching import service_by_path

        found = service_by_path(
            index=self,
            category_slug=path_components[0],
            service_slug=path_components[1],
        )
        if found is None:
            raise Http404
        category, service = found
        category._cached_parent_obj = self
        service._cached_parent_obj = category
        return service.route(request, [])
