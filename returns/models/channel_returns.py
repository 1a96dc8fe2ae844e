"""Channel returns that could not be tied to an order, its lines or its money: kept with
what the channel sent until a person (or the channel's next delivery) settles them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from erp.models import Channel

User = settings.AUTH_USER_MODEL


class UnmatchedChannelReturn(models.Model):
    """One refused channel return (a webhook, or the rows of one return in a report).

    Unique per (channel, format, reference): the channel delivering the same return again
    updates this row (and resolves it when the return now goes through) instead of adding
    another. `reference` is the channel's return id, or a digest of the rows when they
    could not even be read."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    source_format = models.CharField(max_length=32)
    reference = models.CharField(max_length=128)
    order_external_id = models.CharField(max_length=128, blank=True)
    line_numbers = models.JSONField(
        default=list, blank=True, help_text="Report lines (the header is line 1)."
    )
    errors = models.JSONField(default=list, help_text='[{"field", "code", "message"}]')
    payload = models.TextField(
        help_text="What the channel sent: the JSON body, or the report's header and these rows."
    )
    first_seen_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_format", "reference"],
                name="unmatched_channel_return_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["first_seen_at"],
                condition=Q(resolved_at__isnull=True),
                name="unmatched_return_open_idx",
            )
        ]

    def __str__(self):
        return f"{self.channel_id} {self.source_format} {self.reference}"

    @property
    def first_error(self) -> dict:
        return self.errors[0] if self.errors else {}
