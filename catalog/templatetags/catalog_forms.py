"""The portal's one error pattern for forms: where the error summary links to,
and the "Error: " that starts a page's title while a form on it has errors."""

from django import forms, template

register = template.Library()

ERROR_PREFIX = "Error: "


@register.filter
def error_anchor(field) -> str:
    """The id the error summary links to: the field itself, the first option of
    a group of radio buttons or checkboxes, or the box around a field with
    nothing to type or choose in (hidden, or a list with nobody offered yet;
    see ``includes/field.html``)."""
    widget = field.field.widget
    if field.is_hidden or (widget.use_fieldset and not list(widget.choices)):
        return f"{field.auto_id}_field"
    if widget.use_fieldset:
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


def _has_errors(value) -> bool:
    # type(), not isinstance(): isinstance would build a lazy value (the
    # service page's cached form, the request's user) just to look at it.
    if issubclass(type(value), forms.BaseForm):
        return value.is_bound and bool(value.errors)
    return False


@register.simple_tag(takes_context=True)
def error_title_prefix(context) -> str:
    """``Error: `` when a form the page shows came back with errors.

    Looks at the forms the view handed to the template (and the service page's
    ``form_has_errors`` and ``quantity_errors``), so no view can forget it; a
    page whose form sits deeper in its context says so with ``page_has_errors``.
    """
    if context.get("page_has_errors") or context.get("form_has_errors"):
        return ERROR_PREFIX
    if context.get("quantity_errors"):
        return ERROR_PREFIX
    for layer in context.dicts:
        if any(_has_errors(value) for value in layer.values()):
            return ERROR_PREFIX
    return ""
