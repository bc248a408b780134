"""The parameter table of docs/model.md is the one the scenario file generates, and every value of
scenarios/hoa_binh.yaml carries a source or the word "assumption" in its comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from welfare_sim.sim.parameters_table import (
    embedded,
    main,
    markdown,
    table_rows,
    undefined_tags,
    unit_of,
    unmarked_values,
)

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"
MODEL_DOC = ROOT / "docs" / "model.md"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "calibration" / "targets").glob("*.yaml"))


def test_the_committed_table_is_the_generated_one() -> None:
    committed = embedded(MODEL_DOC.read_text(encoding="utf-8"), "scenarios/hoa_binh.yaml")
    assert committed is not None, "docs/model.md lacks the parameter markers for scenarios/hoa_binh.yaml"
    assert committed == markdown(HOA_BINH, "scenarios/hoa_binh.yaml"), (
        "docs/model.md is out of date: run python -m welfare_sim.sim.parameters_table "
        "scenarios/hoa_binh.yaml --write docs/model.md"
    )


def test_every_value_of_hoa_binh_has_a_source_or_is_an_assumption() -> None:
    assert unmarked_values(HOA_BINH) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_cited_source_tag_is_defined_in_a_header(path: Path) -> None:
    # every `[tag]` in any comment of a shipped scenario or target file (or a file it extends)
    assert undefined_tags(path) == [], f"{path.name} cites source tags no header defines"


def test_an_undefined_tag_is_found_in_values_and_block_comments(tmp_path: Path) -> None:
    text = HOA_BINH.read_text(encoding="utf-8")
    value_line = "  suspend_after_months: 3           # [C02]\n"
    block_line = "  # [Wikipedia]; Mai Châu 88% [bhb]; other districts' shares are assumptions around the\n"
    assert value_line in text and block_line in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace(value_line, "  suspend_after_months: 3           # [C99]\n").replace(
            block_line, block_line.replace("[bhb]", "[bhb, 2023] [nosuch: p. 4]")
        ),
        encoding="utf-8",
    )
    assert undefined_tags(bad) == ["nosuch: p. 4", "C99"]
    targets = (ROOT / "calibration" / "targets" / "hoa_binh.yaml").read_text(encoding="utf-8")
    cited = '">13,000 beneficiaries had accounts = 37.8%" [bhb]'
    assert cited in targets
    bad_targets = tmp_path / "targets.yaml"
    bad_targets.write_text(targets.replace(cited, cited.replace("[bhb]", "[bhb2]")), encoding="utf-8")
    assert undefined_tags(bad_targets) == ["bhb2"]


def test_a_value_without_a_comment_is_found(tmp_path: Path) -> None:
    text = HOA_BINH.read_text(encoding="utf-8")
    line = "  suspend_after_months: 3           # [C02]\n"
    assert line in text
    bare = tmp_path / "bare.yaml"
    bare.write_text(text.replace(line, "  suspend_after_months: 3\n"), encoding="utf-8")
    assert unmarked_values(bare) == ["payment_run.suspend_after_months"]
    assert "1 UNMARKED" in markdown(bare)


def test_every_leaf_is_a_row_and_values_are_the_files() -> None:
    rows = {".".join(r.path): r for r in table_rows(HOA_BINH)}
    assert rows["payment_run.commune_window.first_day"].value == 2
    assert rows["payment_run.suspend_after_months"].status == "sourced"
    assert rows["payment_run.suspend_after_months"].source == "[C02]"
    assert rows["assumptions.points.commune_point.service_mean_min"].status == "assumption"
    assert rows["assumptions.costs.fee_per_cash_payment_vnd"].value == 15000
    # a comment over a block documents each of its values, and says where it sits
    atms = rows["geography.districts.3.atms"]
    assert atms.source_at == ("geography", "districts") and atms.status == "mixed"


def test_a_comment_that_runs_on_is_read_with_its_first_line(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "population:\n"
        "  coefficients:        # coefficients exist [D20]; shares are an assumption, set so\n"
        '    "1.0": 0.15        # the mean allowance is 514,000 VND\n'
        "  other: 3             # the mean allowance is 514,000 VND\n",
        encoding="utf-8",
    )
    rows = {r.path: r for r in table_rows(scenario)}
    assert rows[("population", "coefficients", "1.0")].status == "mixed"
    assert unmarked_values(scenario) == ["population.other"]


def test_units_come_from_the_key_names() -> None:
    assert unit_of(("assumptions", "costs", "fee_per_cash_payment_vnd")) == "VND"
    assert unit_of(("assumptions", "opening", "monthly_apply_prob")) == "probability per month"
    assert unit_of(("assumptions", "points", "atm", "service_mean_min")) == "minutes"
    assert unit_of(("geography", "travel", "walk", "speed_kmh", "urban")) == "km/h"
    assert unit_of(("geography", "travel", "motorbike", "vnd_per_km")) == "VND/km"
    assert unit_of(("geography", "districts", "0", "name")) == ""  # a name has no unit


def test_check_and_write(tmp_path: Path, capsys) -> None:
    doc = tmp_path / "model.md"
    scenario = tmp_path / "s.yaml"
    scenario.write_text("payment_run:\n  suspend_after_months: 3   # [C02]\n", encoding="utf-8")
    name = scenario.as_posix()
    doc.write_text(f"# Model\n\n<!-- parameters:begin {name} -->\nold\n<!-- parameters:end -->\n\nafter\n")
    assert main([name, "--check", str(doc)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main([name, "--write", str(doc)]) == 0
    assert main([name, "--check", str(doc)]) == 0
    written = doc.read_text(encoding="utf-8")
    assert written.endswith("<!-- parameters:end -->\n\nafter\n") and "suspend_after_months" in written
    # a file without the markers is refused and left as it is
    plain = tmp_path / "plain.md"
    plain.write_text("# notes\n", encoding="utf-8")
    assert main([name, "--write", str(plain)]) == 2
    assert plain.read_text(encoding="utf-8") == "# notes\n"
    assert re.search(r"no lines <!-- parameters:begin", capsys.readouterr().err)
