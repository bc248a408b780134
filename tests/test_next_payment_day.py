"""Where a planned trip goes: the commune's first payment day on or after the planned day.

`next_payment_days` tabulates it per commune and day once a month; the trip planner reads the
table. Checked against the direct rule (the smallest scheduled day not before the planned day,
none when every day has passed) for any schedule: unscheduled communes, several days, days
past the last one, and the fractional days a delay could give."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from welfare_sim.models.month.common import NO_DAY
from welfare_sim.models.month.stages import next_payment_days


@st.composite
def schedules(draw) -> np.ndarray:  # noqa: ANN001
    n, k = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    rows = []
    for _ in range(n):
        days = sorted(draw(st.lists(st.integers(1, 31), max_size=k, unique=True)))
        rows.append(days + [NO_DAY] * (k - len(days)))
    return np.array(rows, np.int16)


def direct(sched_row: np.ndarray, day: float) -> int:
    later = [int(d) for d in sched_row if d != NO_DAY and d >= day]
    return min(later) if later else NO_DAY


@settings(max_examples=300, deadline=None)
@given(schedules(), st.lists(st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False)), min_size=1, max_size=8))
def test_the_table_gives_the_first_payment_day_on_or_after_the_day(sched: np.ndarray, days: list[float]) -> None:
    table = next_payment_days(sched)
    assert table.dtype == np.int16
    for c in range(sched.shape[0]):
        for day in days:
            at = min(max(math.ceil(day), 0), table.shape[1] - 1)  # as Province._into_windows reads it
            assert int(table[c, at]) == direct(sched[c], day), (sched[c].tolist(), day)
