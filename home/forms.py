from django.contrib.auth.forms import AuthenticationForm


class PortalAuthenticationForm(AuthenticationForm):
    """The stock form, with the labels people expect on a company portal."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That username and password don't match. Check them and try again."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autofocus": True}
        )
