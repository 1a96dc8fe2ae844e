from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse

from erp.input_bounds import NUL, NUL_MESSAGE

API_PREFIX = "/api/"


class QueryCountHeaderMiddleware:
    """Adds `X-Query-Count` to every response (enabled only for benchmarks)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count)
        return response


class RefuseNulInputMiddleware:
    """A NUL character in the path, a query parameter or a back-office form field is a
    400 before any view, lookup or filter passes it to PostgreSQL (which cannot store or
    compare it). API bodies are checked by the API's parsers (`erp.api.parsers`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = self._fields_with_nul(request)
        if not fields:
            return self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            errors = [
                {"field": field, "code": "null_characters_not_allowed", "message": NUL_MESSAGE}
                for field in fields
            ]
            return JsonResponse({"errors": errors}, status=400)
        return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")

    def _fields_with_nul(self, request) -> list[str]:
        fields = ["path"] if NUL in request.path_info else []
        sources = [request.GET]
        if not request.path_info.startswith(API_PREFIX) and request.method == "POST":
            sources.append(request.POST)
        for source in sources:
            for name, values in source.lists():
                if NUL in name or any(NUL in value for value in values):
                    fields.append(name.replace(NUL, "\\u0000"))
        return fields
