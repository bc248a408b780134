"""Where the strategies attach to the payment month: a registry of hooks by stage.

Each strategy declares the stages it changes (`stages`); it registers its hooks once, when the
province is built from the scenario, and a hook on a stage it has not declared is refused. A stage
asks the registry for the hooks of one of its hook points (e.g. `cash_out`/`route`) and calls them
in the order they were registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

STAGE_NAMES = (
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
"""The stages of the payment month, in the order they run (`models/month/stages.py`)."""

HOOK_POINTS = {
    "funnel": ("account_help",),
    "channel_split": ("closure", "home_delivery"),
    "cash_out": ("route", "fee_waiver", "enrolment"),
    "reconciliation": ("costs",),
}
"""The hook points each stage offers (a stage without an entry takes no hooks)."""


class Strategy(Protocol):
    name: str
    stages: tuple[str, ...]


@dataclass(frozen=True)
class Hook:
    strategy: str
    stage: str
    point: str
    fn: Callable[..., Any]


class StageHooks:
    """The month's hooks, by stage and hook point."""

    def __init__(self) -> None:
        self._hooks: dict[tuple[str, str], list[Hook]] = {}

    def register(self, strategy: Strategy, stage: str, point: str, fn: Callable[..., Any]) -> None:
        """Attach `fn` to `stage`'s hook `point` for `strategy`. Raises ValueError when the stage
        or the point does not exist, or the strategy has not declared the stage."""
        if point not in HOOK_POINTS.get(stage, ()):
            raise ValueError(f"stage {stage!r} has no hook point {point!r} (it offers {HOOK_POINTS.get(stage, ())})")
        if stage not in strategy.stages:
            raise ValueError(
                f"strategy {strategy.name!r} hooks stage {stage!r} but declares only {strategy.stages}"
            )
        self._hooks.setdefault((stage, point), []).append(Hook(strategy.name, stage, point, fn))

    def remove(self, strategy: str, stage: str) -> int:
        """Take `strategy`'s hooks off `stage` (to see what they change); how many were taken."""
        taken = 0
        for (at, _point), hooks in self._hooks.items():
            if at == stage:
                kept = [h for h in hooks if h.strategy != strategy]
                taken += len(hooks) - len(kept)
                hooks[:] = kept
        return taken

    def get(self, stage: str, point: str) -> list[Callable[..., Any]]:
        return [h.fn for h in self._hooks.get((stage, point), [])]

    def any(self, stage: str, point: str) -> bool:
        return bool(self._hooks.get((stage, point)))

    def by_stage(self) -> dict[str, list[str]]:
        """Stage -> the strategies hooked on it (in registration order, once each)."""
        out: dict[str, list[str]] = {name: [] for name in STAGE_NAMES}
        for (stage, _point), hooks in self._hooks.items():
            for h in hooks:
                if h.strategy not in out[stage]:
                    out[stage].append(h.strategy)
        return out
