"""The portal's own (non-page) views."""

app_name = "catalog"
urlpatterns = []
