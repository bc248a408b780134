"""Codes and records shared by the stages of the payment month and the province that runs them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# DEAD: the death is known and the person is off the list; PENDING: a new approval not yet arrived
ACTIVE, SUSPENDED, STOPPED, DEAD, PENDING = 0, 1, 2, 3, 4
POPULATION_COUNTS = ("entries", "deaths", "deaths_detected", "reapplications", "records_changed")

CH_NONE, CH_ACCOUNT, CH_CASH_COMMUNE, CH_CASH_COUNTER, CH_HOME, CH_CASH_PENDING = 0, 1, 2, 3, 4, 5
CHANNELS = ("none", "account", "cash_commune", "cash_counter", "home", "cash_unpaid")

ST_PAID, ST_PARTIAL, ST_HELD, ST_RETURNED, ST_UNCOLLECTED, ST_SUSPENDED, ST_STOPPED = range(7)
STATUSES = ("paid", "partial", "held", "returned", "uncollected", "suspended", "stopped")

MODE_ALL, MODE_PARTIAL, MODE_KEEP = 0, 1, 2

# why a credit failed and was returned (a record that does not match the population database is
# reported as a mismatch even when the account is also dormant: fixing the data comes first)
FC_NONE, FC_DATA_MISMATCH, FC_DORMANT, FC_OTHER = 0, 1, 2, 3
FAILED_CREDIT_CAUSES = ("none", "data_mismatch", "dormant_account", "other")
NO_DAY = -1


class ConservationError(AssertionError):
    """Money was created or lost: a bug, never an input problem."""


@dataclass
class MonthRecord:
    """Everything that happened to each beneficiary in one month (arrays over `rows`)."""

    month: int
    rows: np.ndarray  # indices of the beneficiaries with a row this month
    columns: dict[str, np.ndarray]
    ledger: dict[str, int]
    points: dict[str, np.ndarray]
    visits: list[dict]  # per day with visits: day (int), and kind, wait_min, outcome per visit
    funnel: dict[str, int]
    strategies: dict[str, int] = field(default_factory=dict)  # STRATEGY_COUNTS: counts, costs (VND)
