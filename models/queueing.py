"""Vectorised, exact FIFO multi-server queue kernel for many independent segments.

A *segment* is one cash-out point on one day (a commune payment point, a district
post-office counter, an ATM). Each segment is an independent FIFO queue with ``c >= 1``
identical servers, an opening and a closing time, and a finite cash float. The kernel
serves millions of customers over tens of thousands of segments in one call.

Technique
---------
Customers are sorted stably by (segment, arrival). Segments are ordered by number of
customers, descending, so at rank ``r`` (the ``r``-th customer of each segment) the
segments that still have a customer are a *prefix* ``[0, k_r)`` of that order. Customers
are laid out rank-major (all rank-0 customers, then all rank-1 customers, ...), so the
customers of rank ``r`` are one contiguous slice, aligned with the state prefix. A Python
loop runs over ranks only (at most the length of the longest queue); each step is a
handful of numpy operations on contiguous slices. The result is exact: it computes the
same recursion as an event-driven simulation (see ``tests/test_queueing.py``, which checks
it against SimPy), not an approximation.

Units: times are float64 minutes since midnight of the segment's day; service times are
float64 minutes; money is int64 Vietnamese dong (VND), never floating point.
"""

from __future__ import annotations

import os

import numpy as np

try:  # the compiled kernel; without numba (or with WELFARE_SIM_NO_NUMBA=1) the numpy one serves
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this keeps a broken install running
    numba = None

__all__ = [
    "serve_fifo_simpy",
    "OUTCOME_NOT_SERVED",
    "OUTCOME_PAID_FULL",
    "OUTCOME_PAID_PARTIAL",
    "OUTCOME_TURNED_AWAY",
    "QueueResult",
    "serve_fifo",
]

OUTCOME_PAID_FULL = 0
"""Paid the full demand."""
OUTCOME_PAID_PARTIAL = 1
"""Paid what was left of the float (cash ran short, ``partial_payout=True``)."""
OUTCOME_TURNED_AWAY = 2
"""Reached a counter but turned away: not enough cash (or none) left. Paid 0."""
OUTCOME_NOT_SERVED = 3
"""Not served: the point closed before the customer's turn came. Paid 0."""

# Up to this many counters per segment the earliest-free server is found with a short
# Python loop over columns (fast, contiguous); above it, ``np.argmin`` over the columns.
_COLUMN_LOOP_MAX = 8
# When this few segments still have customers, each rank step costs more in numpy call overhead
# than it does work; the rest of those queues is served customer by customer in plain Python
# (same IEEE double and integer operations, so the same results).
_SMALL_TAIL = 32
# Which kernel serve_fifo runs: "numba" (compiled: one pass over each queue, customer by customer)
# or "numpy" (the rank loop below). Both give identical results (tests/test_queueing.py runs every
# test on both); the compiled one is ~20x faster on a day of a province, whose queues are long
# and few, where the rank loop pays numpy's per-call overhead at every rank.
_KERNEL = "numba" if numba is not None and not os.environ.get("WELFARE_SIM_NO_NUMBA") else "numpy"


class QueueResult:
    """Per-customer results of :func:`serve_fifo`, every array aligned with the INPUT order.

    The kernel works in its own (rank-major) order; each array is put back in input order the
    first time it is read, so results nobody reads (the day's run reads no ``start_min`` or
    ``server``) cost nothing.

    Attributes
    ----------
    start_min:
        float64, minutes since midnight when service started; NaN if the customer was never
        served (outcomes 2 and 3).
    wait_min:
        float64, minutes spent queueing, always ``>= 0``:

        * served (outcomes 0, 1): ``start_min - arrival_min`` (an arrival before opening
          waits from arrival);
        * turned away (outcome 2): minutes from arrival until the moment a counter would
          have started with them, i.e. when they were told there is no cash;
        * not served (outcome 3): ``max(close_min - arrival_min, 0)``, the time they waited
          until the point closed.
    paid_vnd:
        int64, VND handed over; 0 unless outcome is 0 or 1.
    outcome:
        int8: 0 paid in full, 1 paid partially, 2 turned away for lack of cash,
        3 not served before closing (see the ``OUTCOME_*`` constants).
    server:
        int64, index in ``[0, counters)`` of the counter that served the customer (the one
        that became free first, lowest index on ties); -1 if not served (outcomes 2, 3).
    """

    _FIELDS = ("start_min", "wait_min", "paid_vnd", "outcome", "server")
    __slots__ = ("_order", "_raw", "_out", "_where")

    def __init__(self, *, order: np.ndarray | None = None, **arrays: np.ndarray) -> None:
        """`arrays` are the five fields; `order[p]` is the input index of position p in them
        (None: they are in input order already)."""
        if set(arrays) != set(self._FIELDS):
            raise TypeError(f"QueueResult needs exactly {self._FIELDS}")
        self._order = order
        self._raw = arrays
        self._out: dict[str, np.ndarray] = {}
        self._where: tuple[np.ndarray, np.ndarray] | None = None

    def _get(self, name: str) -> np.ndarray:
        out = self._out.get(name)
        if out is None:
            raw = self._raw.pop(name)
            if self._order is None:
                out = raw
            else:
                out = np.empty_like(raw)
                out[self._order] = raw
            self._out[name] = out
        return out

    def put(self, name: str, out: np.ndarray, where: np.ndarray) -> None:
        """``out[where] = self.<name>`` in one scatter (no input-order copy in between)."""
        if name in self._out or self._order is None:
            out[where] = self._get(name)
            return
        if self._where is None or self._where[0] is not where:
            self._where = (where, where[self._order])  # shared by the fields put with `where`
        out[self._where[1]] = self._raw[name]

    start_min = property(lambda self: self._get("start_min"))
    wait_min = property(lambda self: self._get("wait_min"))
    paid_vnd = property(lambda self: self._get("paid_vnd"))
    outcome = property(lambda self: self._get("outcome"))
    server = property(lambda self: self._get("server"))


def _empty_result() -> QueueResult:
    return QueueResult(
        start_min=np.empty(0, np.float64),
        wait_min=np.empty(0, np.float64),
        paid_vnd=np.empty(0, np.int64),
        outcome=np.empty(0, np.int8),
        server=np.empty(0, np.int64),
    )


def _as_1d(x: np.ndarray, name: str, dtype: type, n: int | None = None) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has length {a.shape[0]}, expected {n}")
    if dtype is np.int64:
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name} must have an integer dtype (int64), got {a.dtype}")
        return a.astype(np.int64, copy=False)
    return a.astype(np.float64, copy=False)


def _stable_order(
    group: np.ndarray, arrival: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sort customers stably by (group, arrival): ties keep input order.

    Returns ``(order, group_sorted)``: ``order[p]`` is the input index of the customer at
    sorted position ``p`` and ``group_sorted = group[order]``. Equivalent to
    ``np.lexsort((arrival, group))`` but several times faster: one sort of unique int64 keys
    ``(group, q, input index)``, where ``q = floor((arrival - min) * scale)`` squeezes the
    arrival into the bits left over. Rounding is monotone, so ``q`` never reverses two
    arrivals; it can only merge close ones. Runs of merged keys (rare: about 2**25 levels
    across the day's arrivals) are then put in exact (arrival, input index) order.
    """
    n = arrival.shape[0]
    index_bits = max(int(n - 1).bit_length(), 1)
    group_bits = max(int(n_groups - 1).bit_length(), 1)
    q_bits = 63 - index_bits - group_bits
    if n == 0:
        return np.empty(0, np.int64), group[:0].astype(np.int64)
    low = arrival.min()
    span = arrival.max() - low
    top = (1 << max(q_bits, 0)) - 1
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        scale = np.float64(top) / span if span > 0 else 0.0
    if q_bits < 1 or not np.isfinite(span) or not np.isfinite(scale):  # no room, or no sane scale
        order = np.lexsort((arrival, group))
        return order, group[order].astype(np.int64)
    key = np.subtract(arrival, low)
    key *= scale
    q = key.astype(np.int64)  # truncation: the values are >= 0
    del key
    np.minimum(q, top, out=q)
    key = group.astype(np.int64)  # a copy: shifted in place below
    key <<= q_bits
    key |= q
    del q
    key <<= index_bits
    key |= np.arange(n, dtype=np.int64)
    key.sort()
    index_mask = (1 << index_bits) - 1
    order = key & index_mask
    key >>= index_bits  # (group, q)
    merged = key[1:] == key[:-1]
    if merged.any():
        # positions in runs of equal (group, q): put each run in (arrival, input index) order
        in_run = np.zeros(n, bool)
        in_run[1:] = merged
        in_run[:-1] |= merged
        at = np.flatnonzero(in_run)
        starts = np.ones(at.size, bool)
        starts[1:] = ~merged[at[1:] - 1]
        run = np.cumsum(starts)
        who = order[at]
        order[at] = who[np.lexsort((who, arrival[who], run))]
    key >>= q_bits
    return order, key


def _close_out(
    r: int, max_rank: int, rank_off: np.ndarray, k_of_rank: np.ndarray, arrival_rm: np.ndarray,
    close_s: np.ndarray, start_rm: np.ndarray, wait_rm: np.ndarray, paid_rm: np.ndarray,
    outcome_rm: np.ndarray, server_rm: np.ndarray,
) -> None:
    """Outcome "not served" for every customer of rank >= r (rank-major positions onward)."""
    lo = int(rank_off[r])
    slot = np.arange(lo, arrival_rm.shape[0], dtype=np.int64) - np.repeat(rank_off[r:max_rank], k_of_rank[r:])
    wait_rm[lo:] = np.maximum(close_s[slot] - arrival_rm[lo:], 0.0)
    start_rm[lo:] = np.nan
    paid_rm[lo:] = 0
    outcome_rm[lo:] = OUTCOME_NOT_SERVED
    server_rm[lo:] = -1


def _serve_tail(
    r0: int, max_rank: int, rank_off: np.ndarray, k_of_rank: np.ndarray, free: np.ndarray,
    arrival_rm: np.ndarray, service_rm: np.ndarray, demand_rm: np.ndarray, close_s: np.ndarray,
    cash: np.ndarray, partial_payout: bool, start_rm: np.ndarray, wait_rm: np.ndarray,
    paid_rm: np.ndarray, outcome_rm: np.ndarray, server_rm: np.ndarray,
) -> None:
    """Serve every customer of rank >= r0, slot by slot, in plain Python: the same rules and the
    same floating-point operations as the vectorised rank step, for the few queues left."""
    nan = float("nan")
    neg_k = -k_of_rank[r0:max_rank]
    n_open = np.isfinite(free).sum(axis=0)  # counters per slot (the missing ones are +inf)
    for i in range(int(k_of_rank[r0])):
        # ranks r0 .. r0+m-1 have a customer in slot i (k_of_rank never increases)
        m = int(np.searchsorted(neg_k, -i, side="left"))
        pos = rank_off[r0:r0 + m] + i
        arrivals = arrival_rm[pos].tolist()
        services = service_rm[pos].tolist()
        demands = demand_rm[pos].tolist()
        cols = free[:, i].tolist()
        single = n_open[i] == 1  # then counter 0 is the only one
        left = int(cash[i])
        close = float(close_s[i])
        start = [nan] * m
        wait = [0.0] * m
        paid = [0] * m
        outcome = [OUTCOME_NOT_SERVED] * m
        server = [-1] * m
        for t in range(m):
            a = arrivals[t]
            fmin = cols[0] if single else min(cols)
            st = a if a > fmin else fmin
            if not st < close:
                # closed on this customer, so on every later one too (they arrive no earlier and
                # no counter frees up): not served, waiting until closing
                for u in range(t, m):
                    wait[u] = max(close - arrivals[u], 0.0)
                break
            d = demands[t]
            if partial_payout:
                pay = min(left, d)
                full = pay == d
                served = full or pay > 0
            else:
                full = left >= d
                pay = d
                served = full
            wait[t] = st - a
            if served:
                j = 0 if single else cols.index(fmin)  # the first of the earliest-free counters
                cols[j] = st + services[t]
                left -= pay
                start[t] = st
                paid[t] = pay
                outcome[t] = OUTCOME_PAID_FULL if full else OUTCOME_PAID_PARTIAL
                server[t] = j
            else:
                outcome[t] = OUTCOME_TURNED_AWAY
        start_rm[pos] = start
        wait_rm[pos] = wait
        paid_rm[pos] = paid
        outcome_rm[pos] = outcome
        server_rm[pos] = server
        free[:, i] = cols
        cash[i] = left


def _serve_compiled_py(
    seg: np.ndarray, arrival: np.ndarray, service: np.ndarray, demand: np.ndarray, counters: np.ndarray,
    open_min: np.ndarray, close_min: np.ndarray, cash: np.ndarray, partial_payout: bool, by_arrival: np.ndarray,
    start: np.ndarray, wait: np.ndarray, paid: np.ndarray, outcome: np.ndarray, server: np.ndarray,
) -> None:
    """The compiled kernel (numba): the rules of :func:`serve_fifo`, queue by queue and customer
    by customer, writing the results in input order. Every float operation is the one the rank
    loop does (``max`` as ``np.maximum``: on a tie the arrival), so results are bit for bit the same."""
    n = seg.shape[0]
    n_seg = counters.shape[0]
    # (segment, arrival, input index) order: `by_arrival`, a stable sort by arrival (numpy's,
    # twice as fast as numba's), then a stable counting sort by segment, as np.lexsort((arrival, seg))
    first = np.zeros(n_seg + 1, np.int64)
    for i in range(n):
        first[seg[i] + 1] += 1
    for s in range(n_seg):
        first[s + 1] += first[s]
    fill = first[:n_seg].copy()
    order = np.empty(n, np.int64)
    for t in range(n):
        i = by_arrival[t]
        s = seg[i]
        order[fill[s]] = i
        fill[s] += 1
    free = np.empty(max(counters.max(), 1), np.float64)
    for s in range(n_seg):
        lo = first[s]
        hi = first[s + 1]
        if lo == hi:
            continue
        c = counters[s]
        for j in range(c):
            free[j] = open_min[s]
        left = cash[s]
        close = close_min[s]
        for p in range(lo, hi):
            i = order[p]
            a = arrival[i]
            jm = 0
            fmin = free[0]
            for j in range(1, c):  # the first of the earliest-free counters
                if free[j] < fmin:
                    fmin = free[j]
                    jm = j
            st = a if a >= fmin else fmin
            if not st < close:  # closed on them, so on every later customer too
                w = close - a
                wait[i] = w if w >= 0.0 else 0.0
                start[i] = np.nan
                paid[i] = 0
                outcome[i] = OUTCOME_NOT_SERVED
                server[i] = -1
                continue
            d = demand[i]
            if partial_payout:
                pay = left if left < d else d
                full = pay == d
                served = full or pay > 0
            else:
                full = left >= d
                pay = d
                served = full
            wait[i] = st - a
            if served:
                free[jm] = st + service[i]
                left -= pay
                start[i] = st
                paid[i] = pay
                outcome[i] = OUTCOME_PAID_FULL if full else OUTCOME_PAID_PARTIAL
                server[i] = jm
            else:
                start[i] = np.nan
                paid[i] = 0
                outcome[i] = OUTCOME_TURNED_AWAY
                server[i] = -1
        cash[s] = left


# Compiled once per machine when the module is first imported (cache=True keeps the machine code
# beside the source), so a run's simulation time holds no compilation.
_serve_compiled = (
    numba.njit(
        "void(int64[::1], float64[::1], float64[::1], int64[::1], int64[::1], float64[::1], float64[::1],"
        " int64[::1], boolean, int64[::1], float64[::1], float64[::1], int64[::1], int8[::1], int64[::1])",
        cache=True, nogil=True,
    )(_serve_compiled_py)
    if numba is not None
    else None
)


def serve_fifo(
    seg: np.ndarray,
    arrival_min: np.ndarray,
    service_min: np.ndarray,
    demand_vnd: np.ndarray,
    counters: np.ndarray,
    open_min: np.ndarray,
    close_min: np.ndarray,
    float_vnd: np.ndarray,
    partial_payout: bool,
) -> QueueResult:
    """Serve customers at many independent FIFO multi-counter cash-out points, exactly.

    Parameters (customer arrays have one entry per customer, in any order; segment arrays
    have one entry per segment, ``n_segments = len(counters)``):

    seg:
        int64, segment index of each customer, in ``[0, n_segments)``.
    arrival_min:
        float64, arrival time, minutes since midnight of that segment's day (finite).
    service_min:
        float64 > 0, service time in minutes if the customer is paid.
    demand_vnd:
        int64 >= 0, cash the customer wants, VND.
    counters:
        int64 >= 1, number of counters (servers) of each segment.
    open_min:
        float64, opening time of each segment, minutes since midnight.
    close_min:
        float64, closing time, minutes since midnight; service must START strictly before it.
    float_vnd:
        int64 >= 0, cash available at the start of each segment's day, VND. Must be a
        writable int64 numpy array: it is MODIFIED IN PLACE to the cash that remains.
    partial_payout:
        If cash runs short, True pays what is left (outcome 1); False turns the customer
        away (outcome 2).

    Rules, per segment:

    * FIFO in arrival order (ties keep input order); the customer takes the counter that
      becomes free first (ties: lowest index). Service starts at
      ``max(arrival, open, counter free time)``.
    * If that start would be ``>= close_min``: outcome 3, paid 0, no counter occupied; all
      later customers of the segment then get outcome 3 as well.
    * Otherwise, if float >= demand: pay demand (outcome 0; a demand of 0 is paid in full
      and still takes ``service_min``). Else if ``partial_payout`` and float > 0: pay the
      float (outcome 1). Else outcome 2: paid 0 and the counter stays free (they are told
      at the counter).
    * Paid customers occupy their counter for ``service_min`` minutes.

    Returns a :class:`QueueResult` aligned with the input order.

    Cost: one stable sort of the customers plus a Python loop over ranks (up to the length
    of the longest queue) of O(1) numpy calls on the segments still having customers.
    Memory: O(n_customers + n_segments * max(counters)).
    """
    if not isinstance(float_vnd, np.ndarray) or float_vnd.dtype != np.int64:
        raise TypeError("float_vnd must be an int64 numpy array (it is modified in place)")
    if float_vnd.ndim != 1:
        raise ValueError(f"float_vnd must be 1-D, got shape {float_vnd.shape}")
    if not float_vnd.flags.writeable:
        raise ValueError("float_vnd must be writable (it is modified in place)")

    n_seg = float_vnd.shape[0]
    counters = _as_1d(counters, "counters", np.int64, n_seg)
    open_min = _as_1d(open_min, "open_min", np.float64, n_seg)
    close_min = _as_1d(close_min, "close_min", np.float64, n_seg)
    seg = _as_1d(seg, "seg", np.int64)
    n = seg.shape[0]
    arrival_min = _as_1d(arrival_min, "arrival_min", np.float64, n)
    service_min = _as_1d(service_min, "service_min", np.float64, n)
    demand_vnd = _as_1d(demand_vnd, "demand_vnd", np.int64, n)

    if n_seg:
        if counters.min() < 1:
            raise ValueError("counters must be >= 1")
        if float_vnd.min() < 0:
            raise ValueError("float_vnd must be >= 0")
        if np.isnan(open_min).any() or np.isnan(close_min).any():
            raise ValueError("open_min and close_min must not be NaN")
    if n == 0:
        return _empty_result()
    if seg.min() < 0 or seg.max() >= n_seg:
        raise ValueError("seg must lie in [0, n_segments)")
    if not np.isfinite(arrival_min).all():
        raise ValueError("arrival_min must be finite")
    if not (service_min > 0).all() or not np.isfinite(service_min).all():
        raise ValueError("service_min must be finite and > 0")
    if demand_vnd.min() < 0:
        raise ValueError("demand_vnd must be >= 0")
    if _KERNEL == "numba":
        return _serve_fifo_compiled(
            seg, arrival_min, service_min, demand_vnd, counters, open_min, close_min, float_vnd, partial_payout
        )

    # ---- layout --------------------------------------------------------------------
    # State slots: segments by number of customers, descending, so at rank r the segments
    # that still have a customer are the prefix [0, k_r) of the slots.
    counts = np.bincount(seg, minlength=n_seg)
    seg_of_slot = np.argsort(-counts, kind="stable")
    slot_of_seg = np.empty(n_seg, np.int64)
    slot_of_seg[seg_of_slot] = np.arange(n_seg, dtype=np.int64)
    n_state = int(np.count_nonzero(counts))  # slots that have customers
    seg_of_slot = seg_of_slot[:n_state]
    count_of_slot = counts[seg_of_slot]
    max_rank = int(count_of_slot[0])
    k_of_rank = np.searchsorted(-count_of_slot, -np.arange(max_rank), side="left")
    rank_off = np.zeros(max_rank + 1, np.int64)
    np.cumsum(k_of_rank, out=rank_off[1:])

    # Sort by (slot, arrival); then lay customers out rank-major: the customers of rank r
    # occupy [rank_off[r], rank_off[r+1]) in slot order, so position rank_off[r] + i
    # belongs to slot i.
    order, slot_sorted = _stable_order(slot_of_seg[seg], arrival_min, n_seg)
    slot_first = np.cumsum(count_of_slot) - count_of_slot  # first sorted position per slot
    pos = np.arange(n, dtype=np.int64)
    pos -= slot_first[slot_sorted]  # rank within segment
    pos = rank_off[pos]
    pos += slot_sorted
    perm = np.empty(n, np.int64)  # rank-major position -> input index
    perm[pos] = order
    del order, slot_sorted, pos

    # ---- per-segment state, in slot order ---------------------------------------------
    n_col = int(counters[seg_of_slot].max())
    open_s = open_min[seg_of_slot]
    close_s = close_min[seg_of_slot]
    cash = float_vnd[seg_of_slot]  # a copy
    # free[c, i]: time counter c of slot i becomes free; +inf for counters that don't exist.
    free = np.where(
        np.arange(n_col)[:, None] < counters[seg_of_slot][None, :], open_s[None, :], np.inf
    )
    free_flat = free.reshape(-1)
    slots = np.arange(n_state, dtype=np.int64)

    # Customer data laid out rank-major once, so the loop reads and writes contiguous slices;
    # one scatter at the end puts the results back in input order.
    arrival_rm = arrival_min[perm]
    service_rm = service_min[perm]
    demand_rm = demand_vnd[perm]
    start_rm = np.empty(n, np.float64)
    wait_rm = np.empty(n, np.float64)
    paid_rm = np.empty(n, np.int64)
    outcome_rm = np.empty(n, np.int8)
    server_rm = np.empty(n, np.int64)

    # ---- the rank loop -----------------------------------------------------------------
    for r in range(max_rank):
        lo = int(rank_off[r])
        hi = int(rank_off[r + 1])
        k = hi - lo
        if k <= _SMALL_TAIL:
            _serve_tail(r, max_rank, rank_off, k_of_rank, free, arrival_rm, service_rm, demand_rm,
                        close_s, cash, partial_payout, start_rm, wait_rm, paid_rm, outcome_rm, server_rm)
            break
        # Earliest-free counter of each active slot (strict < keeps the lowest index).
        if n_col == 1:
            j = None
            fmin = free[0, :k].copy()
        elif n_col <= _COLUMN_LOOP_MAX:
            fmin = free[0, :k].copy()
            j = np.zeros(k, np.int64)
            for c in range(1, n_col):
                col = free[c, :k]
                better = col < fmin
                np.copyto(fmin, col, where=better)
                j[better] = c
        else:
            block = free[:, :k]
            j = block.argmin(axis=0)
            fmin = block[j, slots[:k]]

        a = arrival_rm[lo:hi]
        st = np.maximum(a, fmin)
        cl = close_s[:k]
        opened = st < cl
        if not opened.any():
            # Every active segment has closed on its customer of this rank. A segment that
            # turns one customer away at closing turns away all later ones (they arrive later
            # and no counter frees up), so every customer left is "not served": finish in bulk.
            _close_out(r, max_rank, rank_off, k_of_rank, arrival_rm, close_s, start_rm, wait_rm,
                       paid_rm, outcome_rm, server_rm)
            break
        d = demand_rm[lo:hi]
        fl = cash[:k]
        if partial_payout:
            pay = np.minimum(fl, d)
            full = pay == d
            served = opened & (full | (pay > 0))
        else:
            full = fl >= d
            pay = d
            served = opened & full
        pay = np.where(served, pay, 0)
        fl -= pay  # a view: updates cash in place
        new_free = np.where(served, st + service_rm[lo:hi], fmin)
        if j is None:
            free[0, :k] = new_free
            server_rm[lo:hi] = np.where(served, 0, -1)
        else:
            free_flat[j * n_state + slots[:k]] = new_free
            server_rm[lo:hi] = np.where(served, j, -1)
        paid_rm[lo:hi] = pay
        start_rm[lo:hi] = np.where(served, st, np.nan)
        wait_rm[lo:hi] = np.where(opened, st - a, np.maximum(cl - a, 0.0))
        outcome_rm[lo:hi] = np.where(
            served,
            np.where(full, OUTCOME_PAID_FULL, OUTCOME_PAID_PARTIAL),
            np.where(opened, OUTCOME_TURNED_AWAY, OUTCOME_NOT_SERVED),
        )

    float_vnd[seg_of_slot] = cash
    return QueueResult(
        order=perm, start_min=start_rm, wait_min=wait_rm, paid_vnd=paid_rm, outcome=outcome_rm, server=server_rm
    )


def argsort_stable(a: np.ndarray) -> np.ndarray:
    """`np.argsort(a, kind="stable")` of a 1-D float array: the same permutation, about 5× faster on
    a day's arrivals. Without ties the sorted order is unique, so numpy's default sort (vectorised
    with SIMD on x86) gives it; where two values compare equal or one is NaN (the only cases in
    which an unstable sort may order differently), the stable sort is done instead."""
    order = np.argsort(a)
    if a.shape[0] > 1:
        v = a[order]
        if np.isnan(v[-1]) or np.any(v[1:] == v[:-1]):
            return np.argsort(a, kind="stable")
    return order


def _serve_fifo_compiled(
    seg: np.ndarray, arrival_min: np.ndarray, service_min: np.ndarray, demand_vnd: np.ndarray,
    counters: np.ndarray, open_min: np.ndarray, close_min: np.ndarray, float_vnd: np.ndarray,
    partial_payout: bool,
) -> QueueResult:
    n = seg.shape[0]
    c = np.ascontiguousarray
    cash = c(float_vnd)  # float_vnd itself when it is contiguous (it always is in a run)
    start = np.empty(n, np.float64)
    wait = np.empty(n, np.float64)
    paid = np.empty(n, np.int64)
    outcome = np.empty(n, np.int8)
    server = np.empty(n, np.int64)
    arrival_min = c(arrival_min)
    by_arrival = argsort_stable(arrival_min).astype(np.int64, copy=False)
    _serve_compiled(
        c(seg), arrival_min, c(service_min), c(demand_vnd), c(counters), c(open_min), c(close_min), cash,
        bool(partial_payout), by_arrival, start, wait, paid, outcome, server,
    )
    if cash is not float_vnd:
        float_vnd[:] = cash
    return QueueResult(start_min=start, wait_min=wait, paid_vnd=paid, outcome=outcome, server=server)


def serve_fifo_simpy(
    seg: np.ndarray,
    arrival_min: np.ndarray,
    service_min: np.ndarray,
    demand_vnd: np.ndarray,
    counters: np.ndarray,
    open_min: np.ndarray,
    close_min: np.ndarray,
    float_vnd: np.ndarray,
    partial_payout: bool,
) -> QueueResult:
    """The fine-grained reference of :func:`serve_fifo`: the same rules, event by event, with
    one SimPy process per customer and one ``simpy.Resource`` per segment (the welfare-sim
    ``--fine-grained`` mode). Slow (tens of thousands of customers a second); for small runs and
    for checking the vectorised kernel, which must give identical results.

    Doors open at ``open_min``: a customer who arrives earlier joins the queue at opening.
    Processes start in (arrival, input index) order and SimPy fires simultaneous events in
    scheduling order, so each queue is FIFO with ties in input order, as in the kernel. A granted
    customer takes the counter that became free first (lowest index on ties).
    """
    import simpy

    seg = np.asarray(seg, np.int64)
    arrival = np.asarray(arrival_min, np.float64)
    service = np.asarray(service_min, np.float64)
    demand = np.asarray(demand_vnd, np.int64)
    n = seg.size
    start = np.full(n, np.nan)
    wait = np.zeros(n)
    paid = np.zeros(n, np.int64)
    outcome = np.full(n, OUTCOME_NOT_SERVED, np.int8)
    server = np.full(n, -1, np.int64)
    if n == 0:
        return _empty_result()
    env = simpy.Environment()
    used = np.unique(seg)
    desks = {int(s): simpy.Resource(env, capacity=int(counters[s])) for s in used}
    free = {int(s): [float(open_min[s])] * int(counters[s]) for s in used}
    cash = {int(s): int(float_vnd[s]) for s in used}
    if min(float(np.min(arrival)), float(np.min(np.asarray(open_min)[used]))) < 0:
        raise ValueError("serve_fifo_simpy needs times >= 0 (minutes since midnight)")

    def customer(i: int, s: int):  # noqa: ANN202
        a = float(arrival[i])
        opening, closing = float(open_min[s]), float(close_min[s])
        yield env.timeout(max(a, opening))
        with desks[s].request() as req:
            yield req
            t = env.now
            if not t < closing:
                wait[i] = max(closing - a, 0.0)
                return  # not served; leaving frees the counter at once
            wait[i] = t - a
            d = int(demand[i])
            if cash[s] >= d:
                pay, outcome[i] = d, OUTCOME_PAID_FULL
            elif partial_payout and cash[s] > 0:
                pay, outcome[i] = cash[s], OUTCOME_PAID_PARTIAL
            else:
                outcome[i] = OUTCOME_TURNED_AWAY
                return  # told at the counter; it is free again at once
            counters_free = free[s]
            j = counters_free.index(min(counters_free))
            counters_free[j] = t + float(service[i])
            cash[s] -= pay
            paid[i], start[i], server[i] = pay, t, j
            yield env.timeout(float(service[i]))

    for i in sorted(range(n), key=lambda i: (arrival[i], i)):
        env.process(customer(i, int(seg[i])))
    env.run()
    for s, left in cash.items():
        float_vnd[s] = left
    return QueueResult(start_min=start, wait_min=wait, paid_vnd=paid, outcome=outcome, server=server)
