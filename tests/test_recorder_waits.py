"""The waits table (per day × kind of point) is built from the whole month's visits at once.

The reference below is the day-by-day loop the recorder used before: per day and kind, the
visits' outcome counts, the mean of the waits and the nearest-rank p50 and p95 found with
np.partition. The month-at-once build must give the same rows, to the bit, for any month:
days with no visits, kinds with none, ties, and groups of one."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_sim.models.cashout import VISIT_OUTCOMES
from welfare_sim.models.params import POINT_KINDS
from welfare_sim.sim import recorder
from welfare_sim.sim.recorder import WAIT_BIN_MIN, WAIT_BINS, Recorder, _group_quantiles

N_KINDS, N_OUT = len(POINT_KINDS), len(VISIT_OUTCOMES)


def reference(visits: list[dict], month: int) -> tuple[list[tuple], np.ndarray]:
    rows = []
    hist = np.zeros(N_KINDS * WAIT_BINS, np.int64)
    for v in visits:
        kinds, waits = v["kind"].astype(np.int64), v["wait_min"]
        bins = np.minimum((waits / WAIT_BIN_MIN).astype(np.int64), WAIT_BINS - 1) + kinds * WAIT_BINS
        hist += np.bincount(bins, minlength=N_KINDS * WAIT_BINS)
        counts = np.bincount(kinds * N_OUT + v["outcome"], minlength=N_KINDS * N_OUT)
        for k in range(N_KINDS):
            vals = waits[kinds == k]
            if vals.size == 0:
                continue
            c = counts[k * N_OUT : (k + 1) * N_OUT]
            ranks = [int(np.floor(q * (vals.size - 1) + 0.5)) for q in (0.5, 0.95)]
            part = np.partition(vals, ranks)
            o = VISIT_OUTCOMES.index
            rows.append(
                (
                    month, v["day"], k, vals.size, int(c[o("paid_full")] + c[o("paid_part")]), int(c[o("no_cash")]),
                    int(c[o("not_reached")]), int(c[o("closed")]), int(c[o("failed")]),
                    float(vals.mean()), float(part[ranks[0]]), float(part[ranks[1]]),
                )
            )
    return rows, hist.reshape(N_KINDS, WAIT_BINS)


# waits from a few values (ties) or spread over the day, as the queue gives them
waits = st.one_of(
    st.sampled_from([0.0, 1.5, 1.5, 7.25, 30.0]),
    st.floats(0, 1500, allow_nan=False, allow_infinity=False),
)


@st.composite
def months(draw) -> list[dict]:  # noqa: ANN001
    visits = []
    for day in sorted(draw(st.sets(st.integers(0, 30), max_size=6))):
        n = draw(st.integers(0, 40))
        visits.append(
            {
                "day": day,
                "kind": np.array(draw(st.lists(st.integers(0, N_KINDS - 1), min_size=n, max_size=n)), np.int8),
                "wait_min": np.array(draw(st.lists(waits, min_size=n, max_size=n)), np.float64),
                "outcome": np.array(draw(st.lists(st.integers(0, N_OUT - 1), min_size=n, max_size=n)), np.int8),
            }
        )
    return visits


@pytest.fixture(params=["numba", "numpy"])
def kernel(request):  # noqa: ANN001, ANN201
    """The recorder's grouped quantiles, compiled (numba) and in numpy: both must give these rows."""
    compiled, least = recorder._picks_compiled, recorder.PICKS_COMPILED_MIN
    if request.param == "numba" and compiled is None:
        pytest.skip("numba is not installed")
    if request.param == "numpy":
        recorder._picks_compiled = None
    recorder.PICKS_COMPILED_MIN = 0  # the compiled path at any size, not only a large month's
    yield request.param
    recorder._picks_compiled, recorder.PICKS_COMPILED_MIN = compiled, least


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(visits=months(), month=st.integers(0, 30))
def test_the_month_at_once_gives_the_day_by_day_rows(kernel: str, visits: list[dict], month: int) -> None:
    columns, hist = Recorder._waits(None, SimpleNamespace(visits=visits, month=month))  # type: ignore[arg-type]
    daily = pl.DataFrame(columns)
    rows, expected_hist = reference(visits, month)
    assert daily.columns == [
        "month", "day", "kind", "visits", "served", "turned_away_no_cash", "not_reached", "found_closed",
        "failed_visits", "wait_min_mean", "wait_min_p50", "wait_min_p95",
    ]
    assert daily.rows() == rows  # floats compared exactly: the same numbers, not close ones
    assert daily.schema["wait_min_mean"] == pl.Float64 and daily.schema["day"] == pl.Int64
    np.testing.assert_array_equal(hist, expected_hist)



@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_group_quantiles_are_each_group_s_nearest_rank_values(data) -> None:  # noqa: ANN001
    """The communes table's p50 and p95 of waits: per group the nearest-rank value, rounded to 0.01;
    a group with none is flagged empty (its figures are written as nulls)."""
    n_groups = data.draw(st.integers(1, 8))
    n = data.draw(st.integers(0, 60))
    group = np.array(data.draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)), np.int64)
    values = np.array(data.draw(st.lists(waits, min_size=n, max_size=n)), np.float64)
    (p50, p95), empty = _group_quantiles(group, values, n_groups, (0.5, 0.95))
    for g in range(n_groups):
        vals = np.sort(values[group == g])
        assert empty[g] == (vals.size == 0)
        if vals.size == 0:
            continue
        for q, got in ((0.5, p50[g]), (0.95, p95[g])):
            assert got == np.round(vals[int(np.floor(q * (vals.size - 1) + 0.5))], 2), (g, q, vals)
