"""Catalog moderation: a Wagtail workflow task in which the service's own owner
(the "IT only" tab's service owner) approves a change before it is published."""

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, Task, TaskState


class ServiceOwnerApprovalTask(Task):
    """Approved by the owner of the service being changed. A page with no owner
    (or not a service) falls back to superusers, so nothing is stuck."""

    @staticmethod
    def _owner_id(obj):
        specific = getattr(obj, "specific", obj)
        return getattr(specific, "service_owner_id", None)

    def _may_moderate(self, obj, user) -> bool:
        if user.is_superuser:
            return True
        owner = self._owner_id(obj)
        return owner is not None and owner == user.pk

    def user_can_access_editor(self, obj, user):
        return self._may_moderate(obj, user)

    def locked_for_user(self, obj, user):
        return not self._may_moderate(obj, user)

    def get_actions(self, obj, user):
        if self._may_moderate(obj, user):
            return [
                ("reject", _("Request changes"), True),
                ("approve", _("Approve"), False),
                ("approve", _("Approve with comment"), True),
            ]
        return []

    def get_task_states_user_can_moderate(self, user, **kwargs):
        states = self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        if user.is_superuser:
            return states
        from catalog.models import ServicePage

        owned = ServicePage.objects.filter(service_owner=user).values_list(
            "pk", flat=True
        )
        return states.filter(
            workflow_state__base_content_type=ContentType.objects.get_for_model(Page),
            workflow_state__object_id__in=[str(pk) for pk in owned],
        )

    @classmethod
    def get_description(cls):
        return _("The service's owner (on its IT only tab) approves changes")

    class Meta:
        verbose_name = "service owner approval"
        verbose_name_plural = "service owner approvals"
