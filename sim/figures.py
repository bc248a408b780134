"""The headline figures a comparison (and a sweep) reports for every run: key, label and unit.

Plain definitions with no imports of the project, so that the data dictionary (`sim/columns.py`),
the experiments and the reports can all name them without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str  # "share" (a fraction from 0 to 1, printed as %), "days", "min", "VND"


SUBGROUPS = {
    "all": "all beneficiaries",
    "elderly_60_plus": "aged 60+",
    "aged_80_plus": "aged 80+",
    "disabled": "disabled",
    "ethnic_minority": "ethnic minority",
    "mountain_communes": "in mountain communes",
}

FIGURES: tuple[Figure, ...] = (
    Figure("account_coverage_last", "account coverage, last month", "share"),
    # who is left behind: coverage of each subgroup (the "all" row is the line above)
    *(
        Figure(f"account_coverage_last_{key}", f"account coverage, last month: {label}", "share")
        for key, label in SUBGROUPS.items()
        if key != "all"
    ),
    Figure("cashless_share_run", "cashless share of payments, whole run", "share"),
    Figure("cashless_share_last", "cashless share of payments, last month", "share"),
    Figure("days_to_money_mean", "days from run start to money in hand, mean", "days"),
    Figure("days_to_money_p95", "days from run start to money in hand, p95", "days"),
    Figure("wait_p95_min", "queue wait at any point, p95 of visits", "min"),
    Figure("travel_min_per_payment", "travel time per payment (all trips, both ways)", "min"),
    *(
        Figure(f"unpaid_{key}", f"unpaid in a month: {label}", "share")
        for key, label in SUBGROUPS.items()
    ),
    Figure("state_cost_per_payment_vnd", "cost per payment to the state", "VND"),
    Figure(
        "beneficiary_cost_per_payment_vnd",
        "cost per payment to beneficiaries (travel, time, fees)",
        "VND",
    ),
    Figure(
        "strategy_cost_vnd",
        "spent on strategies (teams, points, agents, enrolment, waived fees)",
        "VND",
    ),
    Figure("state_cost_total_vnd", "total cost to the state, strategies included", "VND"),
    Figure("beneficiary_cost_total_vnd", "total cost to beneficiaries", "VND"),
    Figure("total_cost_vnd", "total cost, state and beneficiaries", "VND"),
)
FIGURE_KEYS = tuple(f.key for f in FIGURES)
