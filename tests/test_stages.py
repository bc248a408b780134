"""The payment month runs as named stages in the documented order, and each strategy changes the
month only through the hooks it registers on the stages it declares."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest
from test_strategies import ALL, world

import welfare_sim.sim.engine as engine
from welfare_sim.models.month import stages
from welfare_sim.models.month.hooks import HOOK_POINTS, STAGE_NAMES, StageHooks
from welfare_sim.models.payment_run import MonthRecord, Province
from welfare_sim.sim.engine import build_province, simulate
from welfare_sim.sim.scenario import validate_scenario

DOCUMENTED = (
    "funnel",
    "entitlement",
    "verification",
    "channel_split",
    "credits",
    "cash_planning",
    "cash_out",
    "home_delivery",
    "reconciliation",
)
"""Issue 13, item 10: funnel, entitlement, verification, channel split, credits, schedule and cash
planning, cash-out, home delivery, reconciliation."""


def all_strategies(months: int = 5) -> Any:
    data = world(months=months, seed=3)
    data["interventions"] = ALL
    return validate_scenario(data, "tests/test_stages.py")


def test_the_stages_are_the_documented_ones_in_order() -> None:
    assert STAGE_NAMES == DOCUMENTED
    assert tuple(stage.name for stage in stages.STAGES) == DOCUMENTED
    # the module's own account of the month names them in the same order
    doc = stages.__doc__.replace("-", "_").replace(" ", "_").lower()
    spots = [doc.index(f"{i}._{name}") for i, name in enumerate(DOCUMENTED, 1)]
    assert spots == sorted(spots)


def test_a_real_run_calls_the_stages_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    for stage in stages.STAGES:
        for phase in ("start", "day", "end"):
            original = getattr(stage, phase)

            def logged(*args: Any, _o: Any = original, _n: str = stage.name, _ph: str = phase) -> Any:
                calls.append((_ph, _n))
                return _o(*args)

            monkeypatch.setattr(stage, phase, logged)
    simulate(all_strategies(months=2))
    per_phase = {ph: [n for p, n in calls if p == ph] for ph in ("start", "day", "end")}
    n_days = 31 + 28  # 2023-01 and 2023-02
    assert per_phase["start"] == list(DOCUMENTED) * 2
    assert per_phase["end"] == list(DOCUMENTED) * 2
    assert per_phase["day"] == list(DOCUMENTED) * n_days
    # within a month: every start before the first day, every end after the last day
    first_month = calls[: len(DOCUMENTED) * (2 + 31)]
    assert [p for p, _ in first_month] == ["start"] * 9 + ["day"] * 9 * 31 + ["end"] * 9


def test_each_strategy_hooks_exactly_the_stages_it_declares() -> None:
    province = build_province(all_strategies(), 3)
    declared = {
        s.name: set(s.stages)
        for s in [*province.strategies.drives, *province.strategies.dated, *province.strategies.placements]
    }
    hooked: dict[str, set[str]] = {name: set() for name in declared}
    for stage, names in province.hooks.by_stage().items():
        for name in names:
            hooked[name].add(stage)
    assert hooked == declared
    assert {(name, stage) for name, at in hooked.items() for stage in at} == set(HOOKED)
    assert len(declared) == 8  # every kind of strategy is in the scenario


def test_a_hook_on_a_stage_not_declared_is_refused() -> None:
    province = build_province(all_strategies(), 3)
    hooks = StageHooks()
    waiver = next(s for s in province.strategies.dated if s.kind == "fee_waivers")
    with pytest.raises(ValueError, match="'fee_waivers' hooks stage 'channel_split' but declares only"):
        hooks.register(waiver, "channel_split", "closure", waiver.waived)
    with pytest.raises(ValueError, match="stage 'credits' has no hook point 'route'"):
        hooks.register(waiver, "credits", "route", waiver.waived)
    for stage, points in HOOK_POINTS.items():
        assert stage in STAGE_NAMES and points


def digest(scenario: Any, strip: tuple[str, str] | None = None) -> str:
    """A digest of every month's record, with `strip` = (strategy, stage) hooks taken off."""
    h = hashlib.sha256()

    def build(*args: Any, **kwargs: Any) -> Province:
        province = build_province(*args, **kwargs)
        if strip is not None:
            assert province.hooks.remove(*strip) > 0
        return province

    def keep(rec: MonthRecord, _p: Province) -> None:
        for key in sorted(rec.columns):
            h.update(key.encode() + np.ascontiguousarray(rec.columns[key]).tobytes())
        h.update(repr(sorted(rec.ledger.items())).encode() + repr(sorted(rec.strategies.items())).encode())
        h.update(repr(sorted(rec.funnel.items())).encode())

    saved = engine.build_province
    engine.build_province = build
    try:
        simulate(scenario, on_month=keep)
    finally:
        engine.build_province = saved
    return h.hexdigest()


HOOKED = [
    ("drives.d", "reconciliation"),
    ("digital_teams", "funnel"),
    ("fee_waivers", "funnel"),
    ("fee_waivers", "cash_out"),
    ("cash_closure", "channel_split"),
    ("home_delivery", "channel_split"),
    ("chip_id_payment", "cash_out"),
    ("atm_points.po", "cash_out"),
    ("atm_points.po", "reconciliation"),
    ("agents.ag", "cash_out"),
    ("agents.ag", "reconciliation"),
]


@pytest.fixture(scope="module")
def with_every_hook() -> str:
    return digest(all_strategies())


@pytest.mark.parametrize("strategy, stage", HOOKED)
def test_every_hook_changes_the_month(with_every_hook: str, strategy: str, stage: str) -> None:
    assert digest(all_strategies(), (strategy, stage)) != with_every_hook


def test_the_same_run_gives_the_same_digest(with_every_hook: str) -> None:
    assert digest(all_strategies()) == with_every_hook
