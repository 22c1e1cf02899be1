"""The portal's own (non-page) views: basket, checkout, requests, held services,
approvals, the executive view and the fulfilment queue."""

from django.urls import path

from catalog.views import approvals, basket, bills, executive, queue, requests, review

app_name = "catalog"
urlpatterns = [
    path("basket/", basket.basket, name="basket"),
    path("basket/add/<id:service_id>/", basket.basket_add, name="basket_add"),
    path(
        "basket/lines/<id:line_id>/edit/",
        basket.basket_line_edit,
        name="basket_line_edit",
    ),
    path(
        "basket/lines/<id:line_id>/remove/",
        basket.basket_line_delete,
        name="basket_line_remove",
    ),
    path("checkout/", basket.checkout, name="checkout"),
    path("requests/", requests.request_list, name="request_list"),
    path("requests/<id:request_id>/", requests.request_view, name="request_detail"),
    path(
        "requests/<id:request_id>/submitted/",
        basket.request_submitted,
        name="request_submitted",
    ),
    path(
        "requests/<id:request_id>/comment/",
        requests.request_comment,
        name="request_comment",
    ),
    path(
        "requests/items/<id:item_id>/cancel/",
        requests.item_cancel_view,
        name="item_cancel",
    ),
    path(
        "requests/items/<id:item_id>/rate/",
        requests.item_rate_view,
        name="item_rate",
    ),
    path("approvals/", approvals.approval_list, name="approvals"),
    path(
        "approvals/steps/<id:step_id>/decide/",
        approvals.approval_step_decide,
        name="approval_decide",
    ),
    path(
        "approvals/requests/<id:request_id>/decide/",
        approvals.approval_request_decide,
        name="approval_request_decide",
    ),
    path("approvals/substitutes/", approvals.substitutes, name="substitutes"),
    path(
        "approvals/substitutes/<id:delegation_id>/remove/",
        approvals.substitute_remove,
        name="substitute_remove",
    ),
    path("executive/", executive.dashboard, name="executive"),
    path("executive/items/", executive.items, name="executive_items"),
    path("executive/export.<slug:fmt>", executive.export, name="executive_export"),
    path("executive/bill/", bills.bill, name="bill"),
    path("executive/bill/export.<slug:fmt>", bills.bill_export, name="bill_export"),
    path("executive/review/", review.service_review, name="service_review"),
    path(
        "executive/review/<id:service_id>/suspend/",
        review.service_suspend,
        name="service_suspend",
    ),
    path("queue/", queue.queue, name="queue"),
    path("queue/assign/", queue.queue_assign, name="queue_assign"),
    path("queue/items/<id:item_id>/", queue.queue_item, name="queue_item"),
    path(
        "queue/items/<id:item_id>/<slug:action>/",
        queue.queue_item_action,
        name="queue_item_action",
    ),
    path("my-services/", requests.my_services, name="my_services"),
    path(
        "my-services/<id:item_id>/remove/",
        requests.my_service_remove,
        name="my_service_remove",
    ),
]
