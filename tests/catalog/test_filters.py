"""The storefront's, the queue's and the executive's filters: every drop-down is
drawn in Python (``InlineSelect``), not through two template includes per option."""

import pytest
from django import forms

from catalog.filters import (
    QueueFilter,
    ReportFilter,
    ReportItemsFilter,
    RequestFilter,
    ServiceFilter,
)
from catalog.forms import InlineSelect

DROP_DOWNS = [
    (ServiceFilter, ["category", "price", "delivery", "sort"]),
    (RequestFilter, ["status"]),
    (QueueFilter, ["group", "assignee", "due", "age", "sort"]),
    (
        ReportFilter,
        [
            "period",
            "month",
            "quarter",
            "department",
            "cost_centre",
            "category",
            "service",
        ],
    ),
    (ReportItemsFilter, ["metric", "age"]),
]


def _widget(filter_):
    widget = filter_.extra.get("widget") or filter_.field_class.widget
    return widget if isinstance(widget, type) else type(widget)


@pytest.mark.parametrize(("filterset", "names"), DROP_DOWNS)
def test_every_drop_down_is_drawn_in_python(filterset, names):
    drop_downs = {
        name: _widget(filter_)
        for name, filter_ in filterset.base_filters.items()
        if issubclass(_widget(filter_), forms.Select)
        and not issubclass(_widget(filter_), forms.SelectMultiple)
    }

    assert set(names) <= set(drop_downs)
    assert set(drop_downs.values()) == {InlineSelect}
