"""The OpenAPI schema as the contract: every operation lists the error answers it can give.

drf-spectacular documents what a view returns when it succeeds; the error answers come
from the shared base (exception handler, permissions, throttling, Idempotency-Key), so
they are added here once, for each operation by what it takes and what it needs.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from erp.api.idempotency import HEADER, KEY_MAX_LENGTH, IdempotentPostMixin

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# HH:MM, HH:MM:SS or HH:MM:SS.ffffff, without an offset.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"

ERROR_DESCRIPTIONS = {
    400: "Invalid input: a field, filter, header or path value was refused; nothing changed.",
    401: "No valid credentials (`Authorization: Token <key>`).",
    403: "The role of the user does not allow this.",
    404: "No such record (in the path, or named in the body).",
    409: "Conflict: the Idempotency-Key was used for another request or is still being "
    "processed, or the record's state does not allow this now.",
    413: "The request body is too large.",
    415: "The request body's content type is not one this operation reads.",
    429: "Too many requests: throttled; retry after the `Retry-After` seconds.",
}


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "Sending the same key with the same body again answers the first "
    "response again (`Idempotent-Replayed: true`); another body with the key is a 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
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

    def _get_parameters(self):
        parameters = super()._get_parameters()
        if self.method == "POST" and isinstance(self.view, IdempotentPostMixin):
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters

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
        if "requestBody" in operation:
            codes.append(415)
        if self._needs_authentication():
            codes.append(429)
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.TimeField):
            # JSON Schema's `format: time` requires an offset; these are local times of
            # the node (cutoffs) and are answered without one.
            return {
                **self._get_serializer_field_meta(field, direction),
                "type": "string",
                "pattern": LOCAL_TIME_PATTERN,
                "example": "14:30:00",
            }
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # drf-spectacular offers a blank string beside a pattern that may itself match
        # "": with `oneOf` the empty string would match twice and be invalid.
        if {"type": "string", "maxLength": 0} in schema.get("oneOf", []):
            schema["anyOf"] = schema.pop("oneOf")

    def _needs_authentication(self) -> bool:
        return not all(isinstance(p, AllowAny) for p in self.view.get_permissions())
