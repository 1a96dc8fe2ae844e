"""The API's router: detail routes looked up by primary key only match a number, so a
path like `/returns/rmas/abc/close/` is a 404 from routing and never reaches a lookup."""

from rest_framework.routers import DefaultRouter

# Primary keys are BigAutoFields: at most 19 digits (larger values find nothing).
ID_PATTERN = r"[0-9]{1,19}"


class Router(DefaultRouter):
    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_field", "pk") in ("pk", "id") and not hasattr(
            viewset, "lookup_value_regex"
        ):
            return self._base_pattern.format(
                lookup_prefix=lookup_prefix,
                lookup_url_kwarg=getattr(viewset, "lookup_url_kwarg", None)
                or getattr(viewset, "lookup_field", "pk"),
                lookup_value=ID_PATTERN,
            )
        return super().get_lookup_regex(viewset, lookup_prefix)
