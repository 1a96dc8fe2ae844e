"""Deliver due outbox messages in this process, once or in a loop.

For when no Celery worker runs (development, a broker outage, a one-off catch-up).
Safe next to running workers: each message is claimed with a lease before delivery, so
a message is never delivered by two processes at once.
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from erp.services import outbox


class Command(BaseCommand):
    help = "Deliver due outbox messages synchronously, once or with --loop."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="Keep delivering until interrupted."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds to wait between rounds with --loop when nothing was due (default 5).",
        )
        parser.add_argument(
            "--limit", type=int, default=500, help="Messages per round at most (default 500)."
        )

    def handle(self, *args, loop, interval, limit, **options):
        if not loop:
            self._report(outbox.deliver_due_messages(limit=limit))
            return
        try:
            while True:
                # A long-running process must drop connections the database closed.
                close_old_connections()
                outcomes = outbox.deliver_due_messages(limit=limit)
                if outcomes:
                    self._report(outcomes)
                attempted = sum(outcomes.values()) - outcomes.get("skipped", 0)
                if attempted < limit:  # a full round means more are due: go on at once
                    time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _report(self, outcomes: dict[str, int]) -> None:
        if not outcomes:
            self.stdout.write("No outbox messages due.")
            return
        summary = ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items()))
        self.stdout.write(f"Outbox: {summary}.")
