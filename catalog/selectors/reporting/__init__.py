"""Executive figures: what IT costs and how well it delivers, always scoped by
``scope.reporting_scope`` (one place decides which departments a person sees)."""
