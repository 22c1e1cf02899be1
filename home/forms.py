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
        username, password = self.fields["username"], self.fields["password"]
        username.error_messages["required"] = "Enter your username"
        password.error_messages["required"] = "Enter your password"
        username.widget.attrs["autocomplete"] = "username"
        if self.is_bound:
            # Django's form puts focus on the username; one that came back with
            # errors gives it to its error summary instead.
            username.widget.attrs.pop("autofocus", None)
        else:
            username.widget.attrs["autofocus"] = True
