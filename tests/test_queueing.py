"""Tests for models.queueing.serve_fifo: SimPy reference, invariants, hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import welfare_sim.models.queueing as qmod
from welfare_sim.models.queueing import (
    OUTCOME_NOT_SERVED,
    OUTCOME_PAID_FULL,
    OUTCOME_PAID_PARTIAL,
    OUTCOME_TURNED_AWAY,
    QueueResult,
    serve_fifo,
)

# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True, params=["compiled", "vectorised", "mixed", "python"])
def tail_mode(request, monkeypatch):
    """Every test runs with the compiled (numba) kernel, and with the numpy kernel three ways: the
    rank steps all vectorised, its own mix (small tails in plain Python), and everything in the
    plain-Python tail: the four must agree with SimPy."""
    if request.param == "compiled":
        if qmod.numba is None:
            pytest.skip("numba is not installed")
        monkeypatch.setattr(qmod, "_KERNEL", "numba")
        return request.param
    monkeypatch.setattr(qmod, "_KERNEL", "numpy")
    threshold = {"vectorised": 0, "mixed": qmod._SMALL_TAIL, "python": 10**9}[request.param]
    monkeypatch.setattr(qmod, "_SMALL_TAIL", threshold)
    return request.param


def run(inst: dict, partial: bool | None = None) -> tuple[QueueResult, np.ndarray]:
    """Run the kernel on an instance dict; return (result, remaining float)."""
    fl = np.array(inst["float_vnd"], dtype=np.int64)
    res = serve_fifo(
        np.asarray(inst["seg"], dtype=np.int64),
        np.asarray(inst["arrival"], dtype=np.float64),
        np.asarray(inst["service"], dtype=np.float64),
        np.asarray(inst["demand"], dtype=np.int64),
        np.asarray(inst["counters"], dtype=np.int64),
        np.asarray(inst["open"], dtype=np.float64),
        np.asarray(inst["close"], dtype=np.float64),
        fl,
        inst["partial"] if partial is None else partial,
    )
    return res, fl


def simpy_reference(inst: dict) -> dict[str, np.ndarray]:
    """Same rules, event by event, with real SimPy: one Environment and one
    ``simpy.Resource(capacity=counters)`` per segment, one process per customer.

    Doors open at ``open``: a customer who arrives earlier joins the queue at ``open`` (the
    processes are created in (arrival, input index) order, and SimPy fires simultaneous
    timeouts in scheduling order, so the queue keeps FIFO order). Every time is then an
    exact sum of the same floats the kernel adds, so results can be compared exactly.
    """
    seg = np.asarray(inst["seg"], dtype=np.int64)
    arrival = np.asarray(inst["arrival"], dtype=np.float64)
    service = np.asarray(inst["service"], dtype=np.float64)
    demand = np.asarray(inst["demand"], dtype=np.int64)
    partial = bool(inst["partial"])
    n = len(seg)
    start = np.full(n, np.nan)
    wait = np.full(n, np.nan)
    paid = np.zeros(n, dtype=np.int64)
    outcome = np.full(n, -1, dtype=np.int8)
    remaining = np.array(inst["float_vnd"], dtype=np.int64)

    fifo = sorted(range(n), key=lambda i: (arrival[i], i))
    for s in range(len(inst["counters"])):
        env = simpy.Environment()
        desk = simpy.Resource(env, capacity=int(inst["counters"][s]))
        open_s = float(inst["open"][s])
        close_s = float(inst["close"][s])
        cash = [int(remaining[s])]

        def customer(i: int, env=env, desk=desk, open_s=open_s, close_s=close_s, cash=cash):
            yield env.timeout(max(arrival[i], open_s))
            with desk.request() as req:
                yield req
                t = env.now
                if t >= close_s:
                    outcome[i] = OUTCOME_NOT_SERVED
                    wait[i] = max(close_s - arrival[i], 0.0)
                    return  # leaving releases the counter at once
                wait[i] = t - arrival[i]
                if cash[0] >= demand[i]:
                    pay, outcome[i] = int(demand[i]), OUTCOME_PAID_FULL
                elif partial and cash[0] > 0:
                    pay, outcome[i] = cash[0], OUTCOME_PAID_PARTIAL
                else:
                    outcome[i] = OUTCOME_TURNED_AWAY
                    return  # told at the counter; the counter is free again at once
                cash[0] -= pay
                paid[i] = pay
                start[i] = t
                yield env.timeout(service[i])

        for i in fifo:
            if seg[i] == s:
                env.process(customer(i))
        env.run()
        remaining[s] = cash[0]
    return {"start": start, "wait": wait, "paid": paid, "outcome": outcome, "float": remaining}


def lindley_waits(arrival: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Textbook single-server recursion W[k+1] = max(0, W[k] + S[k] - (A[k+1] - A[k]))."""
    w = [0.0]
    for k in range(len(arrival) - 1):
        w.append(max(0.0, w[-1] + service[k] - (arrival[k + 1] - arrival[k])))
    return np.array(w)


# ----------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------


@st.composite
def small_instances(draw, max_segs: int = 4, max_cust: int = 30, max_counters: int = 3):
    """Small instances drawn directly by hypothesis (shrinkable). ``grid`` mode puts times on
    a coarse integer grid so exact ties (simultaneous arrivals, a service ending exactly
    at an arrival, starts at opening) are frequent; otherwise times are arbitrary floats."""
    grid = draw(st.booleans())
    if grid:
        t_arr = st.integers(0, 60).map(float)
        t_svc = st.integers(1, 12).map(float)
    else:
        t_arr = st.floats(0.0, 300.0, allow_nan=False, allow_infinity=False)
        t_svc = st.floats(0.01, 40.0, allow_nan=False, allow_infinity=False)
    n_seg = draw(st.integers(1, max_segs))
    counters, opens, closes, floats = [], [], [], []
    seg, arrival, service, demand = [], [], [], []
    for s in range(n_seg):
        counters.append(draw(st.integers(1, max_counters)))
        op = draw(st.integers(0, 30).map(float) if grid else st.floats(0.0, 60.0))
        opens.append(op)
        closes.append(op + draw(st.integers(-5, 80).map(float) if grid else st.floats(-5, 250)))
        k = draw(st.integers(0, max_cust))
        dem = draw(st.lists(st.integers(0, 5).map(lambda x: x * 100_000), min_size=k, max_size=k))
        seg += [s] * k
        arrival += draw(st.lists(t_arr, min_size=k, max_size=k))
        service += draw(st.lists(t_svc, min_size=k, max_size=k))
        demand += dem
        # Tight floats: none, a fraction of the total demand (often mid-customer), or plenty.
        kind = draw(st.sampled_from(["zero", "tight", "plenty", "any"]))
        total = sum(dem)
        if kind == "zero":
            floats.append(0)
        elif kind == "tight":
            floats.append(int(total * draw(st.floats(0.0, 1.0))))
        elif kind == "plenty":
            floats.append(total)
        else:
            floats.append(draw(st.integers(0, 3_000_000)))
    # Shuffle the input order (the kernel must sort internally and un-sort its results).
    perm = draw(st.permutations(range(len(seg))))
    return {
        "seg": [seg[i] for i in perm],
        "arrival": [arrival[i] for i in perm],
        "service": [service[i] for i in perm],
        "demand": [demand[i] for i in perm],
        "counters": counters,
        "open": opens,
        "close": closes,
        "float_vnd": floats,
        "partial": draw(st.booleans()),
    }


def random_instance(seed: int, n_seg: int, n_cust: int, max_counters: int, partial: bool):
    """Larger numpy-generated instance (arrivals and services continuous)."""
    rng = np.random.default_rng(seed)
    counters = rng.integers(1, max_counters + 1, n_seg)
    open_ = rng.uniform(400.0, 480.0, n_seg)
    close = open_ + rng.uniform(-30.0, 600.0, n_seg)
    seg = rng.integers(0, n_seg, n_cust)
    arrival = rng.uniform(360.0, 1000.0, n_cust)
    if n_cust:  # some exact ties in arrival time
        arrival[rng.random(n_cust) < 0.1] = 450.0
    service = rng.exponential(5.0, n_cust) + 0.05
    demand = rng.integers(0, 8, n_cust).astype(np.int64) * 250_000
    per_seg = np.bincount(seg, weights=demand, minlength=n_seg)
    float_vnd = (per_seg * rng.uniform(0.0, 1.3, n_seg)).astype(np.int64)
    return {
        "seg": seg,
        "arrival": arrival,
        "service": service,
        "demand": demand,
        "counters": counters,
        "open": open_,
        "close": close,
        "float_vnd": float_vnd,
        "partial": partial,
    }


# ----------------------------------------------------------------------------------------
# 1. Equality with the SimPy reference
# ----------------------------------------------------------------------------------------


def assert_matches_simpy(inst: dict) -> None:
    res, fl = run(inst)
    ref = simpy_reference(inst)
    np.testing.assert_array_equal(res.outcome, ref["outcome"])
    np.testing.assert_array_equal(res.paid_vnd, ref["paid"])
    np.testing.assert_array_equal(res.start_min, ref["start"])  # exact, NaN == NaN
    np.testing.assert_allclose(res.wait_min, ref["wait"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fl, ref["float"])


@settings(max_examples=300, deadline=None)
@given(small_instances())
def test_matches_simpy_reference(inst):
    assert_matches_simpy(inst)


@settings(max_examples=40, deadline=None)
@given(small_instances(max_segs=2, max_cust=40, max_counters=12))
def test_matches_simpy_reference_many_counters(inst):
    # counters > _COLUMN_LOOP_MAX exercises the argmin branch
    assert_matches_simpy(inst)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_argmin_branch_equals_column_loop(seed, partial):
    inst = random_instance(seed, n_seg=30, n_cust=800, max_counters=6, partial=partial)
    a, fa = run(inst)
    old = qmod._COLUMN_LOOP_MAX
    try:
        qmod._COLUMN_LOOP_MAX = 1  # force np.argmin for every segment width >= 2
        b, fb = run(inst)
    finally:
        qmod._COLUMN_LOOP_MAX = old
    for name in ("start_min", "wait_min", "paid_vnd", "outcome", "server"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(fa, fb)


# ----------------------------------------------------------------------------------------
# 2. Invariants on larger random instances
# ----------------------------------------------------------------------------------------


def check_invariants(inst: dict, res: QueueResult, fl_after: np.ndarray) -> None:
    seg = np.asarray(inst["seg"], dtype=np.int64)
    arr = np.asarray(inst["arrival"], dtype=np.float64)
    svc = np.asarray(inst["service"], dtype=np.float64)
    dem = np.asarray(inst["demand"], dtype=np.int64)
    cnt = np.asarray(inst["counters"])
    op = np.asarray(inst["open"], dtype=np.float64)
    cl = np.asarray(inst["close"], dtype=np.float64)
    fl0 = np.asarray(inst["float_vnd"], dtype=np.int64)
    n, n_seg = len(seg), len(cnt)

    # dtypes and shapes
    assert res.start_min.dtype == np.float64 and res.wait_min.dtype == np.float64
    assert res.paid_vnd.dtype == np.int64 and res.outcome.dtype == np.int8
    assert fl_after.dtype == np.int64
    for a in (res.start_min, res.wait_min, res.paid_vnd, res.outcome, res.server):
        assert a.shape == (n,)
    assert set(np.unique(res.outcome)) <= {0, 1, 2, 3}

    served = res.outcome <= OUTCOME_PAID_PARTIAL
    s = res.start_min
    # timing
    assert np.all(s[served] >= arr[served])
    assert np.all(s[served] >= op[seg[served]])
    assert np.all(s[served] < cl[seg[served]])
    assert np.all(np.isnan(s[~served]))
    assert np.all(res.wait_min >= 0)
    np.testing.assert_array_equal(res.wait_min[served], s[served] - arr[served])
    # money
    assert np.all(res.paid_vnd >= 0) and np.all(res.paid_vnd <= dem)
    assert np.all(res.paid_vnd[~served] == 0)
    assert np.all(res.paid_vnd[res.outcome == OUTCOME_PAID_FULL] == dem[res.outcome == 0])
    part = res.outcome == OUTCOME_PAID_PARTIAL
    assert np.all((res.paid_vnd[part] > 0) & (res.paid_vnd[part] < dem[part]))
    if not inst["partial"]:
        assert not part.any()
    paid_per_seg = np.zeros(n_seg, dtype=np.int64)
    np.add.at(paid_per_seg, seg, res.paid_vnd)
    assert np.all(paid_per_seg <= fl0)
    assert np.all(fl_after >= 0)
    np.testing.assert_array_equal(fl_after, fl0 - paid_per_seg)  # exact integer money
    # servers: valid index, and per server no overlapping services
    assert np.all(res.server[~served] == -1)
    assert np.all((res.server[served] >= 0) & (res.server[served] < cnt[seg[served]]))
    idx = np.flatnonzero(served)
    o = idx[np.lexsort((s[idx], res.server[idx], seg[idx]))]
    same = (seg[o][1:] == seg[o][:-1]) & (res.server[o][1:] == res.server[o][:-1])
    assert np.all(s[o][1:][same] >= (s[o] + svc[o])[:-1][same])

    # per segment, in FIFO order
    fifo = np.lexsort((np.arange(n), arr, seg))
    for g in range(n_seg):
        f = fifo[seg[fifo] == g]
        out = res.outcome[f]
        # "not served before closing" is a suffix of the queue
        closed = out == OUTCOME_NOT_SERVED
        if closed.any():
            assert closed[np.argmax(closed) :].all()
        # FIFO: service starts never go backwards in queue order
        sg = s[f][out <= 1]
        assert np.all(np.diff(sg) >= 0)
        # partial payment happens at most once, and empties the float
        if (out == OUTCOME_PAID_PARTIAL).any():
            assert (out == OUTCOME_PAID_PARTIAL).sum() == 1
            assert fl_after[g] == 0
        # turned away only when the float could not cover the demand
        if (out == OUTCOME_TURNED_AWAY).any():
            assert fl_after[g] < dem[f][out == OUTCOME_TURNED_AWAY].max() or fl_after[g] == 0
        # work conservation: a customer who had to wait started when a service ended
        ends = set((s[f] + svc[f])[out <= 1].tolist())
        for i in f[out <= 1]:
            if s[i] > max(arr[i], op[g]):
                assert s[i] in ends
        # never more than `counters` simultaneous services (sweep over start/end events)
        st_ = s[f][out <= 1]
        en_ = st_ + svc[f][out <= 1]
        ev = sorted([(t, 1) for t in st_] + [(t, -1) for t in en_], key=lambda e: (e[0], e[1]))
        busy = 0
        for _, d in ev:
            busy += d
            assert busy <= cnt[g]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 60),
    st.integers(0, 3000),
    st.integers(1, 12),
    st.booleans(),
)
def test_invariants_random(seed, n_seg, n_cust, max_counters, partial):
    inst = random_instance(seed, n_seg, n_cust, max_counters, partial)
    res, fl = run(inst)
    check_invariants(inst, res, fl)


@settings(max_examples=100, deadline=None)
@given(small_instances(max_segs=5, max_cust=30, max_counters=4))
def test_invariants_small(inst):
    res, fl = run(inst)
    check_invariants(inst, res, fl)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_input_order_invariance(seed, partial):
    inst = random_instance(seed, n_seg=20, n_cust=500, max_counters=3, partial=partial)
    n = len(inst["seg"])
    # Input order only matters for exact arrival ties within a segment (covered by
    # test_simultaneous_arrivals_keep_input_order); make arrivals distinct here so the
    # permuted instance is the same queue.
    inst["arrival"] = inst["arrival"] + np.arange(n) * 1e-7
    res, fl = run(inst)
    perm = np.random.default_rng(seed + 1).permutation(n)
    shuffled = {
        k: (v[perm] if k in ("seg", "arrival", "service", "demand") else v) for k, v in inst.items()
    }
    res2, fl2 = run(shuffled)
    for name in ("start_min", "wait_min", "paid_vnd", "outcome", "server"):
        np.testing.assert_array_equal(getattr(res2, name), getattr(res, name)[perm])
    np.testing.assert_array_equal(fl, fl2)


def assert_sorts_like_lexsort(seg: np.ndarray, arr: np.ndarray, n_seg: int) -> None:
    order, seg_sorted = qmod._stable_order(seg, arr, n_seg)
    expected = np.lexsort((arr, seg))
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(seg_sorted, seg[expected])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 20).map(float)), max_size=300),
    st.integers(1, 7),
)
def test_internal_sort_matches_lexsort(rows, n_seg):
    seg = np.array([r[0] % n_seg for r in rows], dtype=np.int64)
    arr = np.array([r[1] for r in rows], dtype=np.float64)
    assert_sorts_like_lexsort(seg, arr, n_seg)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),
            st.sampled_from([-1e300, -2.5, 0.0, 5e-324, 1e-300, 400.0, 400.0 + 1e-13, 400.0 + 2e-13, 1e300]),
        ),
        max_size=300,
    ),
    st.integers(1, 7),
)
def test_internal_sort_exact_when_arrivals_share_a_sort_level(rows, n_seg):
    """Arrivals far apart and nearly equal at once: many fall in one level of the packed sort key,
    and those runs must still come out in exact (arrival, input) order."""
    seg = np.array([r[0] % n_seg for r in rows], dtype=np.int64)
    arr = np.array([r[1] for r in rows], dtype=np.float64)
    assert_sorts_like_lexsort(seg, arr, n_seg)


def test_internal_sort_large_random_matches_lexsort():
    rng = np.random.default_rng(7)
    n, n_seg = 200_000, 3_000
    seg = rng.integers(0, n_seg, n)
    arr = np.round(420.0 + 300.0 * rng.random(n) ** 1.5, 4)  # rounded: exact ties as well
    assert_sorts_like_lexsort(seg, arr, n_seg)


def test_result_put_scatters_like_the_input_order_arrays():
    inst = random_instance(11, n_seg=40, n_cust=2_000, max_counters=3, partial=True)
    res, _ = run(inst)
    again, _ = run(inst)
    where = np.random.default_rng(12).permutation(3_000)[:2_000]
    for name in ("wait_min", "paid_vnd", "outcome"):
        direct = np.full(3_000, -7, getattr(res, name).dtype)
        direct[where] = getattr(res, name)
        put = np.full(3_000, -7, direct.dtype)
        again.put(name, put, where)
        np.testing.assert_array_equal(put, direct)


# ----------------------------------------------------------------------------------------
# 3. Hand-worked examples
# ----------------------------------------------------------------------------------------


def one_segment(
    arrival, service, demand=None, counters=1, open_=0.0, close=1e9, float_vnd=10**15, partial=False
):
    k = len(arrival)
    return {
        "seg": [0] * k,
        "arrival": arrival,
        "service": service,
        "demand": [0] * k if demand is None else demand,
        "counters": [counters],
        "open": [open_],
        "close": [close],
        "float_vnd": [float_vnd],
        "partial": partial,
    }


def test_single_server_lindley_by_hand():
    res, _ = run(one_segment([0.0, 1.0, 2.0, 10.0], [3.0, 3.0, 3.0, 1.0]))
    np.testing.assert_array_equal(res.start_min, [0.0, 3.0, 6.0, 10.0])
    np.testing.assert_array_equal(res.wait_min, [0.0, 2.0, 4.0, 0.0])
    np.testing.assert_array_equal(res.outcome, [0, 0, 0, 0])
    np.testing.assert_array_equal(res.server, [0, 0, 0, 0])


def test_two_counters_by_hand():
    # c0 -> server 0 [0, 5); c1 -> server 1 [0, 2); c2 -> server 1 [2, 6);
    # c3 (arrives 1) -> server 0, free first at 5.
    res, _ = run(one_segment([0.0, 0.0, 0.0, 1.0], [5.0, 2.0, 4.0, 1.0], counters=2))
    np.testing.assert_array_equal(res.start_min, [0.0, 0.0, 2.0, 5.0])
    np.testing.assert_array_equal(res.wait_min, [0.0, 0.0, 2.0, 4.0])
    np.testing.assert_array_equal(res.server, [0, 1, 1, 0])


def test_tie_goes_to_lowest_server_index():
    # Both counters free at 4; the third customer takes counter 0.
    res, _ = run(one_segment([0.0, 0.0, 1.0], [4.0, 4.0, 1.0], counters=2))
    np.testing.assert_array_equal(res.start_min, [0.0, 0.0, 4.0])
    np.testing.assert_array_equal(res.server, [0, 1, 0])


def test_cash_runs_out_without_partial_payout():
    inst = one_segment(
        [0.0, 0.0, 0.0, 0.0],
        [1.0] * 4,
        demand=[400_000, 400_000, 400_000, 100_000],
        float_vnd=1_000_000,
        partial=False,
    )
    res, fl = run(inst)
    np.testing.assert_array_equal(res.paid_vnd, [400_000, 400_000, 0, 100_000])
    np.testing.assert_array_equal(res.outcome, [0, 0, 2, 0])
    # the turned-away customer does not hold the counter: the next one starts at 2
    np.testing.assert_array_equal(res.start_min, [0.0, 1.0, np.nan, 2.0])
    np.testing.assert_array_equal(res.wait_min, [0.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(res.server, [0, 0, -1, 0])
    assert fl.tolist() == [100_000]


def test_cash_runs_out_with_partial_payout():
    inst = one_segment(
        [0.0, 0.0, 0.0, 0.0],
        [1.0] * 4,
        demand=[400_000, 400_000, 400_000, 100_000],
        float_vnd=1_000_000,
        partial=True,
    )
    res, fl = run(inst)
    np.testing.assert_array_equal(res.paid_vnd, [400_000, 400_000, 200_000, 0])
    np.testing.assert_array_equal(res.outcome, [0, 0, 1, 2])
    np.testing.assert_array_equal(res.start_min, [0.0, 1.0, 2.0, np.nan])
    np.testing.assert_array_equal(res.wait_min, [0.0, 1.0, 2.0, 3.0])
    assert fl.tolist() == [0]


def test_zero_demand_paid_in_full_even_with_no_cash():
    inst = one_segment([0.0, 0.5, 1.0], [2.0, 2.0, 2.0], demand=[0, 100, 0], float_vnd=0)
    res, fl = run(inst)
    np.testing.assert_array_equal(res.outcome, [0, 2, 0])
    np.testing.assert_array_equal(res.start_min, [0.0, np.nan, 2.0])  # zero demand takes time
    np.testing.assert_array_equal(res.wait_min, [0.0, 1.5, 1.0])
    assert fl.tolist() == [0]


def test_closing_time_cut_off():
    # Opens at 08:00 (480), closes 08:10 (490), one counter, 4 minutes per customer.
    inst = one_segment([470.0, 475.0, 481.0, 482.0, 500.0], [4.0] * 5, open_=480.0, close=490.0)
    res, _ = run(inst)
    np.testing.assert_array_equal(res.start_min, [480.0, 484.0, 488.0, np.nan, np.nan])
    np.testing.assert_array_equal(res.outcome, [0, 0, 0, 3, 3])
    # waits count from arrival (also before opening); the cut-off ones wait until closing
    np.testing.assert_array_equal(res.wait_min, [10.0, 9.0, 7.0, 8.0, 0.0])
    np.testing.assert_array_equal(res.paid_vnd, [0, 0, 0, 0, 0])


def test_start_exactly_at_close_is_not_served():
    res, _ = run(one_segment([0.0, 0.0], [5.0, 5.0], close=5.0))
    np.testing.assert_array_equal(res.outcome, [0, 3])
    np.testing.assert_array_equal(res.wait_min, [0.0, 5.0])


def test_simultaneous_arrivals_keep_input_order():
    # Same arrival; only the first in INPUT order can be paid. Input order is not sorted.
    inst = {
        "seg": [1, 0, 0, 1],
        "arrival": [3.0, 5.0, 5.0, 3.0],
        "service": [1.0, 1.0, 1.0, 1.0],
        "demand": [700, 600, 500, 300],
        "counters": [1, 1],
        "open": [0.0, 0.0],
        "close": [100.0, 100.0],
        "float_vnd": [600, 1000],
        "partial": False,
    }
    res, fl = run(inst)
    np.testing.assert_array_equal(res.outcome, [0, 0, 2, 0])
    np.testing.assert_array_equal(res.start_min, [3.0, 5.0, np.nan, 4.0])
    assert fl.tolist() == [0, 0]


def test_segments_are_independent_and_empty_segments_untouched():
    inst = {
        "seg": [2, 0, 2],
        "arrival": [1.0, 1.0, 1.0],
        "service": [2.0, 2.0, 2.0],
        "demand": [10, 20, 30],
        "counters": [1, 5, 1, 2],
        "open": [0.0, 0.0, 0.0, 0.0],
        "close": [10.0, 10.0, 10.0, 10.0],
        "float_vnd": [100, 7, 35, 9],
        "partial": True,
    }
    res, fl = run(inst)
    np.testing.assert_array_equal(res.start_min, [1.0, 1.0, 3.0])
    np.testing.assert_array_equal(res.paid_vnd, [10, 20, 25])
    np.testing.assert_array_equal(res.outcome, [0, 0, 1])
    assert fl.tolist() == [80, 7, 0, 9]


def test_empty_inputs():
    fl = np.array([5, 6], dtype=np.int64)
    e_i = np.empty(0, dtype=np.int64)
    e_f = np.empty(0, dtype=np.float64)
    res = serve_fifo(e_i, e_f, e_f, e_i, np.array([1, 2]), np.zeros(2), np.ones(2), fl, True)
    for a in (res.start_min, res.wait_min, res.paid_vnd, res.outcome, res.server):
        assert a.shape == (0,)
    assert res.paid_vnd.dtype == np.int64 and res.outcome.dtype == np.int8
    assert fl.tolist() == [5, 6]
    # no segments at all
    res = serve_fifo(e_i, e_f, e_f, e_i, e_i, e_f, e_f, np.empty(0, np.int64), False)
    assert res.outcome.shape == (0,)


def test_rejects_bad_inputs():
    ok = {
        "seg": [0],
        "arrival": [0.0],
        "service": [1.0],
        "demand": [1],
        "counters": [1],
        "open": [0.0],
        "close": [9.0],
        "float_vnd": [1],
        "partial": False,
    }
    with pytest.raises(TypeError):  # float must be an int64 array, modified in place
        serve_fifo(
            np.array([0]),
            np.array([0.0]),
            np.array([1.0]),
            np.array([1]),
            np.array([1]),
            np.array([0.0]),
            np.array([9.0]),
            np.array([1.0]),
            False,
        )
    for key, bad in [
        ("seg", [1]),
        ("service", [0.0]),
        ("demand", [-1]),
        ("counters", [0]),
        ("arrival", [np.nan]),
        ("float_vnd", [-1]),
    ]:
        with pytest.raises(ValueError):
            run({**ok, key: bad})
    with pytest.raises(TypeError):  # money must be integer
        serve_fifo(
            np.array([0]),
            np.array([0.0]),
            np.array([1.0]),
            np.array([1.5]),
            np.array([1]),
            np.array([0.0]),
            np.array([9.0]),
            np.array([1]),
            False,
        )


# ----------------------------------------------------------------------------------------
# 4. Textbook Lindley recursion
# ----------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400), st.floats(0.3, 1.5))
def test_single_server_matches_lindley_recursion(seed, n, load):
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1.0, n))
    service = rng.exponential(load, n) + 1e-6
    # unlimited cash, always open, shuffled input order
    perm = rng.permutation(n)
    inst = one_segment(arrival[perm], service[perm], demand=[1000] * n)
    res, _ = run(inst)
    w = np.empty(n)
    w[perm] = res.wait_min
    np.testing.assert_allclose(w, lindley_waits(arrival, service), rtol=0, atol=1e-9)
    assert np.all(res.outcome == 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overloaded_day_matches_simpy_including_the_bulk_close_out(seed):
    # Far more customers than the counters can serve before closing, as on the first day of the
    # commune window: the kernel finishes the queues that have closed in bulk (every later
    # customer "not served"); the result must still equal the event-by-event SimPy run.
    rng = np.random.default_rng(seed)
    n_seg, n_cust = 6, 900
    inst = random_instance(seed, n_seg, n_cust, max_counters=3, partial=bool(seed % 2))
    inst["seg"] = np.minimum(rng.geometric(0.35, n_cust) - 1, n_seg - 1)  # very unequal queues
    inst["service"] = rng.exponential(12.0, n_cust) + 0.5
    inst["close"] = inst["open"] + 240.0
    # everyone arrives well before closing: those left when it closes waited in vain
    inst["arrival"] = inst["open"][inst["seg"]] + rng.uniform(-60.0, 120.0, n_cust)
    res, _ = run(inst)
    assert (res.outcome == 3).sum() > n_cust // 3, "the instance must overload the points"
    assert_matches_simpy(inst)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_compiled_kernel_equals_numpy_kernel_bit_for_bit(seed, tail_mode, monkeypatch):
    # a day of a province: long, unequal queues; the compiled kernel must give the very same bits
    if tail_mode != "compiled":
        pytest.skip("one comparison per seed")
    rng = np.random.default_rng(seed)
    inst = random_instance(seed, n_seg=40, n_cust=5000, max_counters=10, partial=bool(seed % 2))
    inst["seg"] = np.minimum(rng.geometric(0.08, 5000) - 1, 39)
    a, fa = run(inst)
    monkeypatch.setattr(qmod, "_KERNEL", "numpy")
    b, fb = run(inst)
    assert (a.outcome == 3).any() and (a.outcome == 0).any(), "the instance must close some queues"
    for name in ("start_min", "wait_min", "paid_vnd", "outcome", "server"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype
        assert x.tobytes() == y.tobytes(), name
    assert fa.tobytes() == fb.tobytes()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([0.0, -0.0, 480.0, 480.5, float("nan")]),  # ties, signed zeros, NaN
            st.floats(min_value=0, max_value=1440, allow_nan=False),
        ),
        max_size=60,
    )
)
def test_argsort_stable_is_numpys_stable_argsort(values: list[float]) -> None:
    """The queue kernel's arrival order: the same permutation as numpy's stable sort, ties in input order."""
    a = np.array(values, np.float64)
    assert np.array_equal(qmod.argsort_stable(a), np.argsort(a, kind="stable"))


def test_argsort_stable_on_a_day_of_arrivals() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(420, 1020, 20_000)
    assert np.array_equal(qmod.argsort_stable(a), np.argsort(a, kind="stable"))
    a[::7] = a[3]  # many ties
    assert np.array_equal(qmod.argsort_stable(a), np.argsort(a, kind="stable"))
