from celery import shared_task

from insight import digest


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    return digest.send_daily_digests()
