from smtplib import SMTPException

from django.conf import settings
from django.core.mail import BadHeaderError, send_mail

from erp.connectors.base import DeliveryError


class EmailConnector:
    """Sends the message as an e-mail through Django's mail backend (`EMAIL_BACKEND`).

    The payload carries `to` (one address or a list), `subject` and `body`. A message
    without an address or subject can never be sent: it goes straight to the dead
    letters; a refused or unreachable mail server is retried.
    """

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def deliver(self, message) -> None:
        payload = message.payload
        to = payload.get("to")
        recipients = [to] if isinstance(to, str) else list(to or [])
        subject = payload.get("subject", "")
        if not recipients or not subject:
            raise DeliveryError("An e-mail needs `to` and `subject`.", retryable=False)
        try:
            send_mail(
                subject,
                payload.get("body", ""),
                settings.DEFAULT_FROM_EMAIL,
                recipients,
                fail_silently=False,
            )
        except BadHeaderError as error:
            raise DeliveryError(f"Bad header: {error}", retryable=False) from error
        except (SMTPException, OSError) as error:
            raise DeliveryError(f"Mail server: {error!r}") from error
