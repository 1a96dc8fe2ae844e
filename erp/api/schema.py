"""The OpenAPI schema as the contract: every operation lists the error answers it can give.

drf-spectacular documents what a view returns when it succeeds; the error answers come
from the shared base (exception handler, permissions, throttling, Idempotency-Key), so
they are added here once, for each operation by what it takes and what it needs.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

ERROR_DESCRIPTIONS = {
    400: "Invalid input: a field, filter, header or path value was refused; nothing changed.",
    401: "No valid credentials (`Authorization: Token <key>`).",
    403: "The role of the user does not allow this.",
    404: "No such record (in the path, or named in the body).",
    409: "Conflict: the Idempotency-Key was used for another request or is still being "
    "processed, or the record's state does not allow this now.",
    413: "The request body is too large.",
    429: "Too many requests: throttled; retry after the `Retry-After` seconds.",
}


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input field, or null.")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorResponseSerializer(serializers.Serializer):
    errors = ErrorDetailSerializer(many=True)


class ErpAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            documented = responses.get(str(code))
            error = self._get_response_for_code(ErrorResponseSerializer, str(code))
            if documented is None:
                responses[str(code)] = {**error, "description": ERROR_DESCRIPTIONS[code]}
            elif "content" not in documented:
                documented["content"] = error["content"]
        return operation

    def _error_codes(self, operation) -> list[int]:
        parameters = operation.get("parameters", [])
        takes_input = bool(parameters) or "requestBody" in operation
        names_a_record = any(parameter["in"] == "path" for parameter in parameters)
        writes = self.method in WRITE_METHODS
        codes = []
        if takes_input or writes:
            codes.append(400)
        if self._needs_authentication():
            codes += [401, 403]
        if names_a_record or writes:
            codes.append(404)
        if writes:
            codes += [409, 413]
        if self._needs_authentication():
            codes.append(429)
        return codes

    def _needs_authentication(self) -> bool:
        return not all(isinstance(p, AllowAny) for p in self.view.get_permissions())
