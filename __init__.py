"""welfare-sim: a discrete-event model of Vietnam's move of monthly welfare payments from cash to accounts.

The import package is `welfare_sim`; its parts are the repository's top-level folders:
`welfare_sim.models` (the domain), `welfare_sim.sim` (the engine, experiments, reports and CLI)
and `welfare_sim.calibration` (targets and fitting).

The Python API (see the README's "Python API")::

    import welfare_sim as ws
    sc = ws.load("scenarios/hoa_binh.yaml", set={"months": 6})
    result = ws.Sim(sc, seed=1).run()
    result.plot("account_coverage")

Its names are loaded on first use (module `__getattr__`), so `import welfare_sim` imports none
of polars, numpy, the engine, matplotlib, Dask, SALib or scipy.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not `from typing import ...`: typing alone costs more than the rest of this import

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "load": "welfare_sim.sim.api",
    "Scenario": "welfare_sim.sim.api",
    "ScenarioError": "welfare_sim.sim.scenario",
    "Sim": "welfare_sim.sim.api",
    "MultiSim": "welfare_sim.sim.api",
    "Result": "welfare_sim.sim.api",
    "run": "welfare_sim.sim.api",
    "compare": "welfare_sim.sim.api",
    "Comparison": "welfare_sim.sim.api",
    "sweep": "welfare_sim.sim.api",
    "SweepResult": "welfare_sim.sim.api",
    # calibration/ imports the engine, never the other way round: its entry stays in calibration/
    "calibrate": "welfare_sim.calibration.api",
    "Calibration": "welfare_sim.calibration.api",
}

__all__ = [
    "Calibration",
    "Comparison",
    "MultiSim",
    "Result",
    "Scenario",
    "ScenarioError",
    "Sim",
    "SweepResult",
    "calibrate",
    "compare",
    "load",
    "run",
    "sweep",
]

if TYPE_CHECKING:
    from typing import Any

    from welfare_sim.calibration.api import Calibration, calibrate
    from welfare_sim.sim.api import Comparison, MultiSim, Result, Scenario, Sim, SweepResult, compare, load, run, sweep
    from welfare_sim.sim.scenario import ScenarioError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'welfare_sim' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
