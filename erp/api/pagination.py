import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from erp.errors import ValidationFailed

# Positions are primary keys: positive and within PostgreSQL's bigint.
_POSITION = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**63 - 1


class IdCursorPagination(CursorPagination):
    """Stable keyset pagination by primary key: constant cost on page 1 or page 1,000."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        """A cursor this API did not give out is a 400 on `cursor`, never a lookup."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            position = cursor.position if cursor else None
            valid = position is None or (
                _POSITION.fullmatch(position) is not None and int(position) <= _MAX_ID
            )
        if not valid:
            raise ValidationFailed(
                "This cursor was not given out by this list; follow `next` or `previous`.",
                field="cursor",
                code="invalid",
            )
        return cursor
