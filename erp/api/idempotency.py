"""`Idempotency-Key` for POST: same key + same body → the first response again;
same key + another body (or while the first is still running) → 409."""

import hashlib

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from erp.errors import Conflict, PayloadTooLarge, ValidationFailed
from erp.input_bounds import NUL, NUL_MESSAGE, max_length
from erp.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = max_length(IdempotencyRecord, "key")


class IdempotentReplay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


class IdempotentPostMixin:
    """For API views: claim the key before the handler runs, store the response after."""

    idempotency_record: IdempotencyRecord | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key:
            return
        if len(key) > KEY_MAX_LENGTH:
            raise ValidationFailed(
                f"Idempotency keys are at most {KEY_MAX_LENGTH} characters.",
                field=HEADER,
                code="max_length",
            )
        if NUL in key:
            raise ValidationFailed(NUL_MESSAGE, field=HEADER, code="null_characters_not_allowed")
        try:
            body_hash = hashlib.sha256(request._request.body).hexdigest()
        except RequestDataTooBig:
            raise PayloadTooLarge("The request body is too large.") from None
        try:
            with transaction.atomic():
                self.idempotency_record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    request_hash=body_hash,
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(user=request.user, key=key)
            if record.request_hash != body_hash or record.path != request.path:
                raise Conflict(
                    "This Idempotency-Key was used with a different request.",
                    field=HEADER,
                    code="key_reused",
                ) from None
            if record.completed_at is None:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.",
                    field=HEADER,
                    code="in_progress",
                ) from None
            raise IdempotentReplay(record) from None

    def handle_exception(self, exc):
        if isinstance(exc, IdempotentReplay):
            response = Response(exc.record.response_body, status=exc.record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        record = self.idempotency_record
        if record is not None:
            self.idempotency_record = None
            if response.status_code >= 500 or response.status_code == 429:
                record.delete()  # the client may try again with the same key
            else:
                record.status_code = response.status_code
                record.response_body = response.data
                record.completed_at = timezone.now()
                record.save(update_fields=["status_code", "response_body", "completed_at"])
        return super().finalize_response(request, response, *args, **kwargs)
