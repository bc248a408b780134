"""welfare-sim: a discrete-event model of Vietnam's move of monthly welfare payments from cash to accounts.

The import package is `welfare_sim`; its parts are the repository's top-level folders:
`welfare_sim.models` (the domain), `welfare_sim.sim` (the engine, experiments, reports and CLI)
and `welfare_sim.calibration` (targets and fitting).
"""

from __future__ import annotations

__version__ = "0.1.0"
