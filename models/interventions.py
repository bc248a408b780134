"""Rollout interventions. An account-opening drive sends teams from commune to commune.

Each month a drive's teams visit `teams × communes_per_team_per_month` communes not yet visited,
in the drive's targeting order. In a visited commune the team meets each unbanked beneficiary
with probability `reach`, who then applies with probability `apply_prob`.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from models.params import Drive, month_offset
from models.population import MOUNTAIN, Communes


class DriveCampaign:
    """One drive. `visit_order` is fixed up front, so visits are reproducible."""

    def __init__(self, drive: Drive, communes: Communes, start: str, streams) -> None:  # noqa: ANN001
        self.drive = drive
        self.first_month = month_offset(start, drive.start)
        self.last_month = month_offset(start, drive.end)
        districts = set(drive.districts or communes.district_names)
        allowed = np.array([communes.district_names[d] in districts for d in communes.district])
        candidates = np.flatnonzero(allowed)
        tiebreak = streams[f"interventions.drive.{drive.name}.order"].uniform(candidates)
        if drive.targeting == "largest_first":
            keys = (tiebreak, -communes.beneficiaries[candidates])
        elif drive.targeting == "remote_first":
            keys = (tiebreak, -communes.beneficiaries[candidates], communes.terrain[candidates] != MOUNTAIN)
        else:
            keys = (tiebreak,)
        self.visit_order = candidates[np.lexsort(keys)]
        self.visits_per_month = drive.teams * drive.communes_per_team_per_month
        self.visited_in: dict[int, np.ndarray] = {}

    def communes_for_month(self, month: int) -> np.ndarray:
        """Communes the teams visit in simulated month `month` (0-based)."""
        if not self.first_month <= month <= self.last_month or self.visit_order.size == 0:
            return np.empty(0, np.int64)
        step = month - self.first_month
        n = self.visit_order.size
        first = step * self.visits_per_month
        if first >= n and not self.drive.revisit:
            return np.empty(0, np.int64)
        positions = np.arange(first, first + self.visits_per_month)
        if not self.drive.revisit:
            positions = positions[positions < n]
        return self.visit_order[positions % n]

    def process(self, env, month_start, contact_prob: np.ndarray, commune_of: np.ndarray) -> Generator:  # noqa: ANN001
        """SimPy process: at each month's start, mark who the teams can meet this month."""
        for month in range(self.first_month, self.last_month + 1):
            at = month_start(month)
            if at is None:
                return
            if at > env.now:
                yield env.timeout(at - env.now)
            visited = self.communes_for_month(month)
            self.visited_in[month] = visited
            if visited.size:
                reached = np.isin(commune_of, visited)
                p_meet = self.drive.reach * self.drive.apply_prob
                contact_prob[reached] = 1.0 - (1.0 - contact_prob[reached]) * (1.0 - p_meet)
