from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable keyset pagination by primary key: constant cost on page 1 or page 1,000."""

    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
