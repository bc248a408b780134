"""Small, valid scenarios built in code, for tests (plain dicts: tweak, then validate)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from welfare_sim.sim.scenario import Scenario, validate_scenario

BASE: dict[str, Any] = {
    "name": "small",
    "start": "2023-01",
    "months": 4,
    "seed": 7,
    "geography": {
        "register": "none",
        "province": "Testland",
        "districts": [
            {
                "name": "Town",
                "communes": 3,
                "beneficiaries": 300,
                "terrain": {"urban": 0.5, "rural": 0.5, "mountain": 0.0},
                "ethnic_minority_share": 0.3,
                "post_office_counters": 2,
                "atms": 2,
                "cashless_start": "2023-01",
            },
            {
                "name": "Hills",
                "communes": 2,
                "beneficiaries": 200,
                "terrain": {"urban": 0.0, "rural": 0.5, "mountain": 0.5},
                "ethnic_minority_share": 0.8,
                "post_office_counters": 1,
                "atms": 0,
                "cashless_start": "2023-02",
            },
        ],
        "travel_to_commune_point": {"mean_min": {"urban": 10, "rural": 25, "mountain": 50}},
        "travel_to_town": {"mean_min": {"urban": 15, "rural": 45, "mountain": 90}},
    },
    "population": {
        "categories": {
            "social_assistance": {"share": 0.7, "coefficients": {"1.0": 0.5, "1.5": 0.3, "2.0": 0.2}},
            "merit": {"share": 0.2, "amount": [{"start": "2022-01", "vnd": 2055000}]},
            "pension": {"share": 0.1, "amount": [{"start": "2022-01", "vnd": 3500000}]},
        },
        "base_level": [{"start": "2021-07", "vnd": 360000}, {"start": "2023-03", "vnd": 500000}],
        "age_groups": {"under_60": 0.3, "age_60_79": 0.3, "age_80_plus": 0.4},
        "disabled_share": 0.3,
        "immobile_share": 0.1,
        "chip_id_share": 0.9,
        "smartphone_share": {"urban": 0.5, "rural": 0.3, "mountain": 0.1},
    },
    "payment_run": {
        "run_start_day": 1,
        "commune_window": {"first_day": 2, "last_day": 10},
        "counter_window": {"first_day": 11, "last_day": 25},
    },
    "assumptions": {
        "initial_accounts": {"account_share": {"urban": 0.3, "rural": 0.1, "mountain": 0.05}, "registered_share": 0.5},
        "opening": {
            "monthly_apply_prob": 0.1,
            "multipliers": {"age_80_plus": 0.6, "smartphone": 1.5},
            "monthly_chip_id_prob": 0.2,
            "success_prob": 0.8,
            "proxy_signature_factor": 0.5,
            "type_shares": {"bank": 0.5, "mobile_money": 0.3, "postal_ewallet": 0.2},
        },
        "account_life": {
            "monthly_register_prob": 0.5,
            "credit_mismatch_prob": 0.05,
            "monthly_mismatch_fix_prob": 0.3,
            "monthly_dormancy_prob": 0.02,
            "monthly_reactivation_prob": 0.2,
        },
        "verification": {"db_mismatch_share": 0.03, "monthly_fix_prob": 0.4},
        "cashout": {
            "mode_shares": {"all_at_once": 0.7, "partial": 0.2, "keep_balance": 0.1},
            "mean_delay_days": 2,
            "point_by_account_type": {"bank": "atm", "mobile_money": "post_office", "postal_ewallet": "post_office"},
        },
        "collection": {
            "mean_first_delay_days": 1.5,
            "retry_prob": 0.8,
            "mean_retry_delay_days": 1,
            "counter_visit_prob": {"urban": 0.9, "rural": 0.7, "mountain": 0.5},
            "monthly_absent_prob": 0.05,
            "home_delivery_takeup": 0.5,
            "resume_prob": 0.3,
        },
        "points": {
            "partial_payout": False,
            "commune_point": {
                "counters": 1,
                "open_min": 450,
                "close_min": 990,
                "service_mean_min": 4,
                "early_arrival_min": 60,
                "downtime_prob": 0.05,
                "float_cover": 1.2,
            },
            "post_office": {
                "counters": 2,
                "open_min": 420,
                "close_min": 1020,
                "open_weekdays": [0, 1, 2, 3, 4, 5],
                "service_mean_min": 5,
                "downtime_prob": 0.02,
            },
            "atm": {
                "counters": 1,
                "open_min": 0,
                "close_min": 1440,
                "service_mean_min": 2,
                "downtime_prob": 0.05,
                "float_vnd_per_day": 50000000,
            },
        },
        "costs": {
            "fee_per_account_credit_vnd": 2000,
            "fee_per_cash_payment_vnd": 15000,
            "fee_per_home_delivery_vnd": 40000,
            "staff_per_team_day_vnd": 600000,
            "cash_transport_per_point_day_vnd": 500000,
            "withdrawal_fee_vnd": 1100,
            "travel_cost_vnd_per_min": 500,
            "value_of_time_vnd_per_hour": 15000,
        },
    },
    "interventions": {
        "drives": [
            {
                "name": "push",
                "start": "2023-02",
                "end": "2023-03",
                "teams": 1,
                "communes_per_team_per_month": 2,
                "reach": 0.6,
                "apply_prob": 0.5,
            }
        ]
    },
}


def small(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with dotted-path changes, e.g. small(**{"months": 2})."""
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


def small_scenario(**changes: Any) -> Scenario:
    return validate_scenario(small(**changes), "tests/factory.py")


prob = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Random small worlds: sizes, probabilities, floats and windows all vary."""
    data = small()
    data["seed"] = draw(st.integers(0, 2**31))
    data["months"] = draw(st.integers(1, 5))
    for i, district in enumerate(data["geography"]["districts"]):
        district["communes"] = draw(st.integers(1, 4))
        district["beneficiaries"] = draw(st.integers(1 - i, 150))
        district["atms"] = draw(st.integers(0, 2))
        district["post_office_counters"] = draw(st.integers(1, 3))
    a = data["assumptions"]
    a["initial_accounts"]["account_share"] = {t: draw(prob) for t in ("urban", "rural", "mountain")}
    a["initial_accounts"]["registered_share"] = draw(prob)
    a["opening"]["monthly_apply_prob"] = draw(prob)
    a["opening"]["success_prob"] = draw(prob)
    a["opening"]["needs_chip_id"] = draw(st.booleans())
    life = a["account_life"]
    for key in (
        "monthly_register_prob",
        "credit_mismatch_prob",
        "monthly_mismatch_fix_prob",
        "monthly_dormancy_prob",
        "monthly_reactivation_prob",
    ):
        life[key] = draw(prob)
    a["verification"] = {"db_mismatch_share": draw(prob), "monthly_fix_prob": draw(prob)}
    c = a["collection"]
    for key in ("retry_prob", "monthly_absent_prob", "home_delivery_takeup", "resume_prob"):
        c[key] = draw(prob)
    c["mean_first_delay_days"] = draw(st.floats(0, 10))
    p = a["points"]
    p["partial_payout"] = draw(st.booleans())
    p["commune_point"]["float_cover"] = draw(st.floats(0.05, 3.0))
    p["commune_point"]["downtime_prob"] = draw(prob)
    p["commune_point"]["service_mean_min"] = draw(st.floats(0.5, 60))
    p["post_office"]["downtime_prob"] = draw(prob)
    p["atm"]["float_vnd_per_day"] = draw(st.integers(0, 10**9))
    p["atm"]["downtime_prob"] = draw(prob)
    first = draw(st.integers(2, 12))
    last = draw(st.integers(first, 14))
    data["payment_run"]["commune_window"] = {"first_day": first, "last_day": last}
    counter_first = draw(st.integers(last + 1, 20))
    data["payment_run"]["counter_window"] = {
        "first_day": counter_first,
        "last_day": draw(st.integers(counter_first, 28)),
    }
    data["payment_run"]["suspend_after_months"] = draw(st.integers(1, 3))
    data["payment_run"]["stop_after_suspended_months"] = draw(st.integers(1, 3))
    return validate_scenario(data, "hypothesis")
