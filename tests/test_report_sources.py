"""Sources of values in a scenario that extends another: the loader's own merge decides what the
file holds, and an item a file appends with `NAME+` is documented by that file's comments."""

from __future__ import annotations

from pathlib import Path

from welfare_sim.sim.report.sources import ScenarioSources

BASE = """\
name: base
interventions:
  # the drives of 2023 [bhb]
  drives:
    - name: first
      teams: 4          # two per district [bhb]
opening:
  prob: 0.2             # assumption: as the pilot
"""

CHILD = """\
extends: base.yaml
name: child
interventions:
  drives+:
    - name: second      # the new wave
      teams: 6          # assumption: one per district office
opening:
  prob: 0.3             # raised [bhb]
"""


def sources(tmp_path: Path) -> ScenarioSources:
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "child.yaml").write_text(CHILD, encoding="utf-8")
    return ScenarioSources(tmp_path / "child.yaml")


def test_the_merge_is_the_loaders(tmp_path: Path) -> None:
    src = sources(tmp_path)
    drives = src.data["interventions"]["drives"]
    assert [d["name"] for d in drives] == ["first", "second"]  # appended, not a key "drives+"
    assert src.data["opening"]["prob"] == 0.3  # the child's value wins
    assert "extends" not in src.data


def test_an_appended_item_speaks_through_the_file_that_appends_it(tmp_path: Path) -> None:
    src = sources(tmp_path)
    assert src.comment(("interventions", "drives", "1", "teams")) == (
        "assumption: one per district office",
        "interventions.drives+.0.teams",
    )
    assert src.source(("interventions", "drives", "1", "teams"), {}).status == "assumption"
    # the base's own item keeps the base's comment; the child's value its own
    assert src.comment(("interventions", "drives", "0", "teams"))[0] == "two per district [bhb]"
    assert src.comment(("opening", "prob")) == ("raised [bhb]", "opening.prob")
