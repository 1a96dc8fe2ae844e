"""POST a channel's own return: the Shopify `refunds/create` webhook body, the eBay
Post-Order return, or an Amazon returns report (the file as the body, text/tab-separated-
values, or uploaded as multipart `file`). The service decides everything; this view only
reads the body and answers."""

import json
from decimal import Decimal

from drf_spectacular.utils import (
    OpenApiResponse,
    OpenApiTypes,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api.errors import error_response
from erp.api.idempotency import IdempotentPostMixin
from erp.api.schema import ErrorResponseSerializer
from erp.errors import ValidationFailed
from orders.services.ingestion import get_channel
from returns import adapters
from returns.api import serializers as s
from returns.models import Rma
from returns.services import channel_returns


class _RawBody(BaseParser):
    """The service reads the body itself (JSON with exact decimals, or report text)."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


class ChannelReturnIngestView(IdempotentPostMixin, APIView):
    parser_classes = [MultiPartParser, _RawBody]
    queryset = Rma.objects.none()  # POST needs returns.add_rma (the integration role)
    channel_url_kwarg = "code"

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "text/tab-separated-values": OpenApiTypes.STR,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
        },
        responses={
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="ChannelReturnAnswer",
                    serializers=[s.ChannelReturnResultSerializer, s.ReturnsReportResultSerializer],
                    resource_type_field_name=None,
                ),
                description="JSON return: known already (unchanged), refund recorded, or "
                "matched to a refund of ours. Amazon report: one result per return, refused "
                "ones included with their report lines and reasons.",
            ),
            201: OpenApiResponse(
                s.ChannelReturnResultSerializer, description="JSON return: the RMA was opened."
            ),
            400: OpenApiResponse(
                ErrorResponseSerializer,
                description="Not the channel's return or report (nothing is kept); or a JSON "
                "return refused: unknown order or line, more units than shipped, more money "
                'than paid, another currency (kept in the "channel returns to match" queue).',
            ),
            403: OpenApiResponse(ErrorResponseSerializer, description="not the integration role"),
        },
        description="Shopify: the refunds/create webhook body. eBay: the Post-Order return "
        "(GET /post-order/v2/return/{returnId}). Amazon: the seller-fulfilled returns report "
        "or the FBA customer returns report, as the body or a multipart `file`; columns are "
        "read by name; each return is written whole or refused on its own. Delivering the "
        "same return again changes nothing.",
    )
    def post(self, request, code):
        channel = get_channel(code)
        if adapters.takes_reports(channel.kind):
            report = channel_returns.import_returns_report(
                channel=channel, content=self._report(request), actor=request.user
            )
            return Response(s.ReturnsReportResultSerializer(report).data)
        raw = request._request.body
        result = channel_returns.import_channel_return(
            channel=channel,
            payload=self._json(raw),
            actor=request.user,
            raw=raw,
            topic=request.headers.get("X-Shopify-Topic", ""),
        )
        if result.errors:
            return error_response([e.as_dict() for e in result.errors], result.status_code)
        return Response(s.ChannelReturnResultSerializer(result).data, status=result.status_code)

    def _json(self, raw: bytes):
        try:
            return json.loads(raw, parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValidationFailed(
                f"Malformed JSON: {error}.", field=None, code="parse_error"
            ) from None

    def _report(self, request) -> bytes:
        if request.content_type.startswith("multipart/form-data"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ValidationFailed(
                    "Upload the report as the multipart field `file`.",
                    field="file",
                    code="required",
                )
            return upload.read()
        return request._request.body
