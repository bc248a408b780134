"""Failed credits by cause: every returned credit names why it failed (data mismatch, dormant
account, other), and only returned credits do. Read from each month's record as the model
hands it to the recorder (the `failed_credit_cause` column)."""

from __future__ import annotations

import numpy as np
from factory import small
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_sim.models.month.common import FAILED_CREDIT_CAUSES, STATUSES
from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import simulate
from welfare_sim.sim.scenario import validate_scenario

RETURNED = STATUSES.index("returned")
MISMATCH, DORMANT = FAILED_CREDIT_CAUSES.index("data_mismatch"), FAILED_CREDIT_CAUSES.index("dormant_account")


def causes(mismatch: float, dormancy: float, seed: int, months: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(status, failed_credit_cause) over every beneficiary-month of a small world."""
    data = small(months=months, seed=seed)
    life = data["assumptions"]["account_life"]
    life["credit_mismatch_prob"] = mismatch
    life["monthly_dormancy_prob"] = dormancy
    data["assumptions"]["initial_accounts"]["registered_share"] = 0.9
    status, cause = [], []

    def keep(record: MonthRecord, province: Province) -> None:
        status.append(record.columns["status"].copy())
        cause.append(record.columns["failed_credit_cause"].copy())

    simulate(validate_scenario(data, "test"), on_month=keep)
    return np.concatenate(status), np.concatenate(cause)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.0, 0.6), st.floats(0.0, 0.6), st.integers(0, 2**31))
def test_a_cause_is_given_exactly_for_the_returned_credits(mismatch: float, dormancy: float, seed: int) -> None:
    status, cause = causes(mismatch, dormancy, seed)
    assert np.array_equal(status == RETURNED, cause != 0)


def test_each_cause_appears_only_where_it_can_happen() -> None:
    # no data mismatches at all: every failed credit is a dormant account
    status, cause = causes(0.0, 0.4, seed=3)
    assert (status == RETURNED).sum() > 0
    assert set(np.unique(cause[status == RETURNED])) == {DORMANT}
    # no dormancy (and no record starts dormant): every failed credit is a data mismatch
    status, cause = causes(0.5, 0.0, seed=3)
    assert (status == RETURNED).sum() > 0
    assert set(np.unique(cause[status == RETURNED])) == {MISMATCH}
