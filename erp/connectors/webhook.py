import hashlib
import hmac
import json

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from erp.connectors.base import DeliveryError

# 408 and 429 mean "try later"; every other 4xx will fail the same way again.
RETRYABLE_CLIENT_ERRORS = {408, 409, 425, 429}


class WebhookConnector:
    """POSTs the payload as JSON; the dedupe key travels as `Idempotency-Key`."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def deliver(self, message) -> None:
        body = json.dumps(message.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.dedupe_key,
            "X-ERP-Topic": message.topic,
            "X-ERP-Message-Id": str(message.pk),
            "X-ERP-Attempt": str(message.attempts),
        }
        if self.endpoint.secret:
            digest = hmac.new(self.endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-ERP-Signature"] = f"sha256={digest}"
        seconds = settings.OUTBOX_HTTP_TIMEOUT_SECONDS
        timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))
        try:
            response = httpx.post(self.endpoint.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as error:
            raise DeliveryError(f"Timed out: {error!r}") from error
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            # The endpoint's URL is wrong (URLField also accepts ftp://): no retry can help.
            raise DeliveryError(
                f"Cannot post to {self.endpoint.url}: {error}", retryable=False
            ) from error
        except httpx.HTTPError as error:
            raise DeliveryError(f"Connection failed: {error!r}") from error
        if response.is_success:
            return
        detail = f"HTTP {response.status_code}: {response.text[:500]}"
        retryable = response.status_code >= 500 or response.status_code in RETRYABLE_CLIENT_ERRORS
        raise DeliveryError(detail, retryable=retryable)
