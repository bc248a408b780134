"""Choices that respond to what a trip costs the beneficiary.

Both take per-person travel minutes and money (VND) as inputs, however those were computed, so
that a better travel model (distance, mode) feeds them unchanged. The generalised cost of a trip
is its money cost plus the value of the time it takes: travel both ways and the expected wait.
"""

from __future__ import annotations

import numpy as np

from welfare_sim.models.params import CostResponse


def generalised_cost_vnd(
    money_vnd: np.ndarray, travel_min: np.ndarray, wait_min: np.ndarray | float, value_of_time_vnd_per_hour: int
) -> np.ndarray:
    """VND + value of time × minutes. `travel_min` is the trip both ways; `money_vnd` its fares
    and fees."""
    return np.asarray(money_vnd, np.float64) + value_of_time_vnd_per_hour / 60.0 * (travel_min + wait_min)


def retry_prob(base: float, cost_vnd: np.ndarray, params: CostResponse) -> np.ndarray | float:
    """The chance of trying again after a failed trip: `base` at the reference cost, its log-odds
    falling by 1 for each `retry_scale_vnd` of cost above it (rising below it)."""
    if params.retry_scale_vnd is None:
        return base
    if base <= 0.0 or base >= 1.0:
        return base  # certainty stays certain, whatever the trip costs
    shift = (np.asarray(cost_vnd, np.float64) - params.retry_reference_cost_vnd) / params.retry_scale_vnd
    logit = np.log(base / (1.0 - base)) - shift
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))


def choose(cost_vnd: np.ndarray, available: np.ndarray, scale_vnd: float | None, u: np.ndarray) -> np.ndarray:
    """Column chosen per row (person) among the available options (at least one each).

    With a scale, a logit on the generalised cost: P(j) ∝ exp(-cost_j / scale), drawn by the
    uniform `u`; without one, the first available column (the listed order)."""
    if scale_vnd is None or cost_vnd.shape[1] == 1:
        return np.argmax(available, axis=1)
    rel = np.where(available, cost_vnd, np.inf)
    rel = rel - rel.min(axis=1, keepdims=True)
    weight = np.where(available, np.exp(-rel / scale_vnd), 0.0)
    cum = np.cumsum(weight, axis=1)
    cum /= cum[:, -1:]
    pick = (cum < u[:, None]).sum(axis=1)
    # rounding can leave u above the last cumulative share; never pick an unavailable column
    pick = np.minimum(pick, cost_vnd.shape[1] - 1)
    bad = ~available[np.arange(pick.size), pick]
    if bad.any():
        last = cost_vnd.shape[1] - 1 - np.argmax(available[:, ::-1], axis=1)
        pick = np.where(bad, last, pick)
    return pick
