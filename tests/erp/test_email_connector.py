"""The e-mail connector: outbox messages sent through Django's mail backend."""

from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail

from erp.connectors import DeliveryError, EmailConnector
from erp.models import Endpoint, OutboxMessage
from erp.services.outbox import deliver_message, enqueue_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailer():
    return Endpoint.objects.create(code="mailer", name="Mail", kind=Endpoint.Kind.EMAIL, url="")


def test_a_message_is_sent_as_an_email(mailer):
    message = enqueue_message(
        topic="test.mail",
        endpoint=mailer,
        payload={"to": "ops@example.com", "subject": "Hello", "body": "Body text"},
        dedupe_key="mail:1",
    )

    assert deliver_message(message_id=message.pk) == "delivered"
    [sent] = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (["ops@example.com"], "Hello", "Body text")


def test_a_message_without_recipient_is_dead_lettered_at_once(mailer):
    message = enqueue_message(
        topic="test.mail", endpoint=mailer, payload={"subject": "Hi"}, dedupe_key="mail:2"
    )

    assert deliver_message(message_id=message.pk) == "failed"
    assert "needs `to`" in OutboxMessage.objects.get(pk=message.pk).last_error
    assert mail.outbox == []


def test_a_mail_server_outage_is_retried(mailer, monkeypatch):
    def refuse(*args, **kwargs):
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr("erp.connectors.email.send_mail", refuse)
    message = OutboxMessage(payload={"to": "a@example.com", "subject": "S"})

    with pytest.raises(DeliveryError) as error:
        EmailConnector(mailer).deliver(message)

    assert error.value.retryable
