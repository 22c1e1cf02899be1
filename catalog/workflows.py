"""What finishing a moderation workflow does. Imported by Wagtail while its own
models load (``WAGTAIL_FINISH_WORKFLOW_ACTION``), so it imports nothing at the top."""


def publish_approved(workflow_state, user=None):
    """What finishing a workflow does (``WAGTAIL_FINISH_WORKFLOW_ACTION``): publish
    the approved revision. Wagtail's default checks that the last approver may
    publish pages themselves; here the completed workflow is the permission, so a
    service owner approves changes to their service without being able to publish
    anything directly."""
    workflow_state.content_object.get_latest_revision().publish(
        user=user, skip_permission_checks=True
    )
