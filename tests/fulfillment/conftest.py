import datetime as dt

import pytest
import time_machine

# Carrier cutoffs, ship dates and the promise depend on the hour and the weekday: every
# fulfillment test runs on a Wednesday morning (UTC, the warehouse's zone in the tests), so
# the suite gives the same answers at 18:00 and on a Sunday.
WORKING_DAY_MORNING = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def working_day_morning():
    with time_machine.travel(WORKING_DAY_MORNING, tick=True) as traveller:
        yield traveller
