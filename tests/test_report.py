"""The report as a planner gets it: report.html with a chart per question and a reading under
each, report.xlsx whose cells are the run's numbers, in English or Vietnamese; bad input gets a
one-line error and exit code 2."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml
from factory import small

from welfare_sim.sim.report import ReportError, write_report
from welfare_sim.sim.report.i18n import Lang
from welfare_sim.sim.report.sources import ScenarioSources, parse_comments
from welfare_sim.sim.run import write_run
from welfare_sim.sim.scenario import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
HOA_BINH = ROOT / "scenarios" / "hoa_binh.yaml"

RUN_SHEETS = [
    "Headline",
    "By month",
    "By district",
    "District x month",
    "By commune",
    "Commune x month",
    "Communes (map)",
    "Points",
    "Waits",
    "Subgroups",
    "Money ledger",
    "Account funnel",
    "Assumptions",
    "About",
]
RUN_SHEETS_VI = [
    "Chỉ số chính",
    "Theo tháng",
    "Theo huyện",
    "Huyện x tháng",
    "Theo xã",
    "Xã x tháng",
    "Các xã (bản đồ)",
    "Điểm chi trả",
    "Thời gian chờ",
    "Nhóm đối tượng",
    "Sổ theo dõi tiền",
    "Mở tài khoản",
    "Giả định",
    "Thông tin",
]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "welfare_sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=600,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in {proc.stderr!r}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short Hòa Bình run (3 months), written as `welfare-sim run` writes it."""
    folder = tmp_path_factory.mktemp("report") / "hoa_binh-3m"
    overrides = ["months=3"]
    scenario = load_scenario(HOA_BINH, overrides)
    write_run(scenario, folder, source=str(HOA_BINH), months=3, overrides=overrides)
    return folder


@pytest.fixture(scope="module")
def reported(run_dir: Path) -> Path:
    return write_report(run_dir, "en")


def strategy_files(folder: Path, wide: bool = False) -> list[Path]:
    """Two tiny strategies: the base, and one where people open accounts five times as often.
    `wide` adds two more with long names, as a planner would name them."""
    folder.mkdir(parents=True, exist_ok=True)
    base = small(name="base", description="the plan as it stands")
    faster = small(name="faster", description="people apply for accounts five times as often")
    faster["assumptions"]["opening"]["monthly_apply_prob"] = 0.5
    strategies = [base, faster]
    if wide:
        chip = small(name="chip_id_enrolment_at_every_pay_point", description="more chip IDs")
        chip["assumptions"]["opening"]["monthly_chip_id_prob"] = 0.6
        clean = small(name="clean_payment_lists_before_each_run", description="fewer mismatches")
        clean["assumptions"]["account_life"]["credit_mismatch_prob"] = 0.005
        strategies += [chip, clean]
    paths = []
    for data in strategies:
        path = folder / f"{data['name']}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


def build_comparison(folder: Path, seeds: tuple[int, ...] = (1, 2, 3), wide: bool = False) -> Path:
    """A comparison folder written by the compare command's own functions (welfare_sim.sim.experiments.compare)."""
    from welfare_sim.sim.experiments.compare import run_all, unique_names, write_comparison

    paths = strategy_files(folder.parent / f"{folder.name}-scenarios", wide)
    sources = [str(p) for p in paths]
    scenarios = [load_scenario(p) for p in paths]
    results = run_all(scenarios, sources, list(seeds))
    write_comparison(folder, unique_names(scenarios, sources), sources, list(seeds), results)
    return folder


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_comparison(tmp_path_factory.mktemp("report") / "comparison")


@pytest.fixture(scope="module")
def wide_comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four strategies with long names: what a planner's comparison looks like."""
    return build_comparison(tmp_path_factory.mktemp("report") / "wide", wide=True)


# --------------------------------------------------------------------------- html


def charts_of(html: str) -> list[tuple[str, str]]:
    """(png base64, reading) of each chart figure in the page."""
    return re.findall(
        r'<figure id="chart-[^"]+" class="chart">'
        r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*>'
        r"<figcaption><b>[^<]+</b> ([^<]+)</figcaption></figure>",
        html,
    )


def test_run_report_is_one_self_contained_page(reported: Path, run_dir: Path) -> None:
    assert reported == run_dir / "report.html"
    html = reported.read_text(encoding="utf-8")
    charts = charts_of(html)
    assert len(charts) == 6  # coverage, cashless, days, waits, subgroups, costs
    for png, reading in charts:
        assert png.startswith("iVBORw0KGgo")  # PNG signature
        assert reading.strip().endswith(".")
    # nothing fetched from anywhere: no scripts, no external links or sources
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!data:)', html)
    # headline first, then the charts
    assert html.index('id="headline"') < html.index('id="charts"')
    assert not list(run_dir.glob(".report*"))  # no temporary files left behind


def test_headline_and_readings_follow_the_run(reported: Path, run_dir: Path) -> None:
    import json

    html = reported.read_text(encoding="utf-8")
    summary = json.loads((run_dir / "summary.json").read_text())
    first = f"{summary['beneficiaries']['first_month']:,}"
    assert f">{first}<" in html
    cov = summary["account_coverage"]["last_month"]
    assert f"{100 * cov:.1f}%" in html
    # the coverage reading names the district lowest in the last month, computed here afresh
    monthly = pl.read_parquet(run_dir / "monthly.parquet")
    last = (
        monthly.filter(pl.col("month") == monthly["month"].max())
        .group_by("district")
        .agg((pl.col("with_account").sum() / pl.col("beneficiaries").sum()).alias("cov"))
        .sort("cov")
    )
    names = [
        d["name"]
        for d in yaml.safe_load((run_dir / "scenario.resolved.yaml").read_text())["geography"][
            "districts"
        ]
    ]
    # the mean queue wait at commune points, over all visits, from waits.parquet
    waits = pl.read_parquet(run_dir / "waits.parquet").filter(
        pl.col("kind").cast(pl.String) == "commune_point"
    )
    mean = (waits["wait_min_mean"] * waits["visits"]).sum() / waits["visits"].sum()
    assert re.search(
        rf"Queue wait at commune points, mean of all visits</td><td[^>]*>{mean:.1f}<", html
    )
    lowest = names[last["district"][0]]
    reading = charts_of(html)[0][1]
    assert f"{lowest} ended lowest at {100 * last['cov'][0]:.0f}%" in reading.replace("&#x27;", "'")


# --------------------------------------------------------------------------- xlsx


def header_index(ws) -> dict[str, int]:  # noqa: ANN001
    return {cell.value: i for i, cell in enumerate(ws[1])}


def test_workbook_cells_are_the_run_tables(reported: Path, run_dir: Path) -> None:
    import json

    wb = openpyxl.load_workbook(run_dir / "report.xlsx")
    assert wb.sheetnames == RUN_SHEETS
    monthly = pl.read_parquet(run_dir / "monthly.parquet")

    ws = wb["By month"]
    col = header_index(ws)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == monthly["month"].n_unique() == 3
    for row, month in zip(rows, sorted(monthly["month"].unique().to_list()), strict=True):
        m = monthly.filter(pl.col("month") == month)
        assert row[col["Month"]] == f"{m['period'][0]:%Y-%m}"
        assert row[col["Beneficiaries"]] == m["beneficiaries"].sum()
        assert row[col["With an account"]] == m["with_account"].sum()
        assert row[col["Paid (VND)"]] == m["paid_vnd"].sum()
        assert row[col["Account coverage (%)"]] == pytest.approx(
            m["with_account"].sum() / m["beneficiaries"].sum()
        )
    cell = ws.cell(row=2, column=col["Paid (VND)"] + 1)
    assert isinstance(cell.value, int) and cell.number_format == "#,##0"
    assert ws.cell(row=2, column=col["Account coverage (%)"] + 1).number_format == "0.0%"

    ws = wb["By commune"]
    col = header_index(ws)
    last = monthly.filter(pl.col("month") == monthly["month"].max())
    places = dict(pl.read_parquet(run_dir / "places.parquet").select("commune", "commune_name").iter_rows())
    for row in list(ws.iter_rows(min_row=2, values_only=True))[::37]:
        commune = row[col["Commune no."]]
        assert row[col["Commune"]] == places[commune]  # the name places.parquet gives the index
        assert (
            row[col["Beneficiaries, last month"]]
            == last.filter(pl.col("commune") == commune)["beneficiaries"].sum()
        )

    waits = pl.read_parquet(run_dir / "waits.parquet").sort("month", "day", "kind")
    ws = wb["Waits"]
    col = header_index(ws)
    first = next(ws.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[col["Day of month"]] == waits["day"][0]
    assert first[col["Visits"]] == waits["visits"][0]
    assert first[col["Wait, 95th percentile (min)"]] == pytest.approx(waits["wait_min_p95"][0])

    # who gains, month by month: the subgroups sheet divides subgroups.parquet's sums
    words = Lang("en")
    subgroups = pl.read_parquet(run_dir / "subgroups.parquet")
    expected = {
        (f"{r['period']:%Y-%m}", words.name("group", r["subgroup"])): r for r in subgroups.iter_rows(named=True)
    }
    ws = wb["Subgroups"]
    col = header_index(ws)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(expected) == subgroups.height
    for row in rows:
        r = expected[(row[col["Month"]], row[col["Group"]])]
        assert row[col["Payments made"]] == r["payments"] > 0
        assert row[col["Cost per payment to beneficiaries (VND)"]] == round(r["beneficiary_cost_vnd"] / r["payments"])
        days = r["days_to_money_total"] / r["money_in_hand"]
        assert row[col["Days to money in hand, mean (days)"]] == pytest.approx(days)
        assert row[col["Travel per payment, both ways (min)"]] == pytest.approx(r["travel_min_total"] / r["payments"])
        assert row[col["Queue wait per payment (min)"]] == pytest.approx(r["wait_min_total"] / r["payments"])

    summary = json.loads((run_dir / "summary.json").read_text())
    headline = {r[0]: r[1] for r in wb["Headline"].iter_rows(min_row=2, values_only=True)}
    assert headline["Beneficiaries, first month"] == summary["beneficiaries"]["first_month"]
    assert headline["Cost per payment to the state"] == summary["cost_vnd"]["state_per_payment"]
    assert headline["Account coverage, last month"] == pytest.approx(
        summary["account_coverage"]["last_month"]
    )


def test_assumptions_sheet_gives_value_status_and_source(reported: Path, run_dir: Path) -> None:
    wb = openpyxl.load_workbook(run_dir / "report.xlsx")
    rows = list(wb["Assumptions"].iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r[0] == "Key (for --set)"))
    table = {r[0]: r for r in rows[header + 1 :]}
    resolved = yaml.safe_load((run_dir / "scenario.resolved.yaml").read_text())
    apply = table["assumptions.opening.monthly_apply_prob"]
    assert apply[2] == resolved["assumptions"]["opening"]["monthly_apply_prob"]
    assert apply[3] == "assumption"
    suspend = table["payment_run.suspend_after_months"]
    assert suspend[2] == resolved["payment_run"]["suspend_after_months"]
    assert suspend[3] == "sourced" and "[C02]" in suspend[4] and "Circular 02/2021" in suspend[6]
    # a value set with --set says so
    months = table["months"]
    assert (
        months[2] == 3 and months[3] == "set on the command line" and "--set months=3" in months[4]
    )
    # every value of the resolved scenario is listed
    from welfare_sim.sim.report.sources import flatten

    assert {".".join(p) for p, _ in flatten(resolved)} <= set(table)


@pytest.fixture(scope="module")
def vi_run(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the run folder with its report in Vietnamese."""
    folder = tmp_path_factory.mktemp("report") / "vi"
    shutil.copytree(run_dir, folder)
    write_report(folder, "vi")
    return folder


@pytest.fixture(scope="module")
def vi_wide(wide_comparison: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the four-strategy comparison with its report in Vietnamese."""
    folder = tmp_path_factory.mktemp("report") / "cmp-vi"
    shutil.copytree(wide_comparison, folder)
    write_report(folder, "vi")
    return folder


def test_vietnamese_report(vi_run: Path) -> None:
    import json

    folder = vi_run
    html = (folder / "report.vi.html").read_text(encoding="utf-8")
    summary = json.loads((folder / "summary.json").read_text())
    assert '<html lang="vi">' in html and "Các chỉ số chính" in html
    first = f"{summary['beneficiaries']['first_month']:,}".replace(",", ".")
    assert f">{first}<" in html  # 34.400
    cov = f"{100 * summary['account_coverage']['last_month']:.1f}".replace(".", ",")
    assert f"{cov} %" in html  # 37,8 %
    state = f"{summary['cost_vnd']['state_per_payment']:,}".replace(",", ".")
    assert f"{state} VND" in html  # 66.919 VND
    assert len(charts_of(html)) == 6
    wb = openpyxl.load_workbook(folder / "report.vi.xlsx")
    assert wb.sheetnames == RUN_SHEETS_VI
    ws = wb["Theo tháng"]
    col = header_index(ws)
    cell = ws.cell(row=2, column=col["Đã chi trả (VND)"] + 1)
    assert isinstance(cell.value, int)  # a number, shown the Vietnamese way by its format
    assert cell.number_format == "[$-42A]#,##0"
    assert ws.cell(row=2, column=col["Tháng"] + 1).value == "/".join(
        reversed(summary["period"][0].split("-"))
    )


def test_run_without_payments_still_reports(tmp_path: Path) -> None:
    folder = tmp_path / "nopay"
    write_run(validate_scenario(small(), "small"), folder, payments=False)
    html = write_report(folder).read_text(encoding="utf-8")
    assert len(charts_of(html)) == 6
    assert "Days from the start of the payment run" in html


# --------------------------------------------------------------------------- comparison


def test_comparison_report(comparison_dir: Path) -> None:
    html = write_report(comparison_dir, "en").read_text(encoding="utf-8")
    charts = charts_of(html)
    # what each strategy buys, then coverage, cashless share, each strategy against the base
    assert len(charts) == 4
    assert "faster" in charts[3][1] or "None of the" in charts[3][1]
    table = pl.read_parquet(comparison_dir / "table.parquet")
    wb = openpyxl.load_workbook(comparison_dir / "report.xlsx")
    assert wb.sheetnames == [
        "Headline", "Runs", "Strategies", "Cost-effectiveness", "Who gains", "By month", "Assumptions", "About"
    ]
    ws = wb["Headline"]
    got = {(r[0], r[1]): r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert len(got) == table.height
    for row in table.iter_rows(named=True):
        cell = got[(row["scenario"], row["figure"])]
        assert cell[4] == pytest.approx(row["mean"], nan_ok=True)
        assert cell[5] == pytest.approx(row["diff_mean"], nan_ok=True)
        assert cell[6] == pytest.approx(row["diff_lo"]) and cell[7] == pytest.approx(row["diff_hi"])
        assert cell[8] == ("yes" if row["distinguishable"] else "no")
    runs = pl.read_parquet(comparison_dir / "runs.parquet")
    ws = wb["Runs"]
    assert ws.max_row == runs.height + 1
    header = [c.value for c in ws[1]]
    coverage = header.index("Account coverage, last month (%)")
    assert [r[coverage] for r in ws.iter_rows(min_row=2, values_only=True)] == pytest.approx(
        runs["account_coverage_last"].to_list()
    )
    # the assumptions sheet puts what the strategies change first
    first = next(
        r for r in wb["Assumptions"].iter_rows(values_only=True) if r[0] and "." in str(r[0])
    )
    assert first[0] == "assumptions.opening.monthly_apply_prob" and first[2:5] == (0.1, 0.5, "yes")


def test_who_gains_shows_every_subgroups_days_hours_and_cost(comparison_dir: Path) -> None:
    from welfare_sim.sim.report.decision import gains_section
    from welfare_sim.sim.report.i18n import Lang

    gains = pl.read_parquet(comparison_dir / "gains.parquet")
    for lang, label in (("en", "subgroup: aged 80+"), ("vi", None)):
        words = Lang(lang)
        html = gains_section(gains, words)
        rows = re.findall(r"<tr>(.*?)</tr>", html)
        for key in ("aged_80_plus", "disabled", "ethnic_minority", "mountain_communes"):
            name = f"{words.t('dec.level.subgroup')}: {words.name('group', key)}"
            row = next(r for r in rows if name in r)
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            assert len(cells) == 6 and "–" not in cells[1:], (lang, key, cells)
        if label:
            assert label in html
        assert "aged_80_plus" not in html and "aged 80 plus" not in html  # names, not ids
    # the figures are those of gains.parquet
    row = gains.filter(pl.col("group") == "disabled").row(0, named=True)
    html = gains_section(gains.filter(pl.col("group") == "disabled"), Lang("en"))
    assert Lang("en").signed(Lang("en").num(row["hours_per_month_change"], 2), row["hours_per_month_change"]) in html
    # a comparison written before the subgroups kept days and cost still reads, with dashes there
    nan = {c: float("nan") for c in gains.columns if c.startswith(("days_", "hours_", "beneficiary_cost_"))}
    older = gains.with_columns(
        pl.when(pl.col("group_level") == "subgroup").then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        for c, v in nan.items()
    )
    html = gains_section(older, Lang("en"))
    assert "subgroup: disabled" in html and "–" in html


def test_report_command_on_a_comparison(comparison_dir: Path) -> None:
    proc = cli("report", str(comparison_dir), "--lang", "vi")
    assert proc.returncode == 0, proc.stderr
    assert "report.vi.html" in proc.stdout and "report.vi.xlsx" in proc.stdout
    html = (comparison_dir / "report.vi.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html and "Tỷ lệ có tài khoản, tháng cuối" in html


def test_compare_with_report_flag_and_one_seed(tmp_path: Path) -> None:
    """`welfare-sim compare --report` writes the report; with one seed, no interval is shown."""
    base, faster = strategy_files(tmp_path)
    out = tmp_path / "cmp"
    proc = cli("compare", str(base), str(faster), "--seeds", "1", "--out", str(out), "--report")
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    readings = [reading for _png, reading in charts_of(html)]
    assert len(readings) == 4 and "With one seed there is no interval" in readings[3]
    assert (out / "report.xlsx").is_file()


# --------------------------------------------------------------------------- command line


def test_run_with_report_flag(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(), allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    proc = cli("run", str(path), "--out", str(out), "--report", "--lang", "vi")
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.vi.html").is_file() and (out / "report.vi.xlsx").is_file()
    assert '<html lang="vi">' in (out / "report.vi.html").read_text(encoding="utf-8")
    plain = tmp_path / "plain"
    assert cli("run", str(path), "--out", str(plain)).returncode == 0
    assert not (plain / "report.html").exists()


def test_bad_language(run_dir: Path, tmp_path: Path) -> None:
    assert_clean_failure(cli("report", str(run_dir), "--lang", "fr"), "--lang fr", "en, vi")
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(), allow_unicode=True), encoding="utf-8")
    assert_clean_failure(
        cli("run", str(path), "--out", str(tmp_path / "o"), "--report", "--lang", "xx"), "--lang xx"
    )
    assert not (tmp_path / "o").exists()  # checked before running
    with pytest.raises(ReportError):
        write_report(run_dir, "de")


def report_problems(folder: Path) -> list[str]:
    """The problems write_report raises (the command prints these, one line each, exit 2)."""
    with pytest.raises(ReportError) as info:
        write_report(folder)
    return info.value.problems


def test_not_a_run_folder(tmp_path: Path) -> None:
    # through the command once: exit code 2, one line, no traceback
    assert_clean_failure(cli("report", str(tmp_path / "nowhere")), "nowhere", "folder not found")
    (tmp_path / "empty").mkdir()
    [problem] = report_problems(tmp_path / "empty")
    assert "not a run folder" in problem and "comparison.json" in problem
    (tmp_path / "file.txt").write_text("x")
    [problem] = report_problems(tmp_path / "file.txt")
    assert "is a file, not a folder" in problem


def test_missing_and_damaged_files(run_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken, ignore=shutil.ignore_patterns("report.*"))
    (broken / "waits.parquet").unlink()
    assert_clean_failure(cli("report", str(broken)), "missing waits.parquet", "welfare-sim run")
    shutil.copy(run_dir / "waits.parquet", broken / "waits.parquet")
    (broken / "points.parquet").write_bytes(b"not parquet")
    [problem] = report_problems(broken)
    assert "points.parquet" in problem and "cannot be read" in problem
    shutil.copy(run_dir / "points.parquet", broken / "points.parquet")
    (broken / "summary.json").write_text("{ nope")
    [problem] = report_problems(broken)
    assert "summary.json" in problem and "not valid JSON" in problem
    assert not (broken / "report.html").exists()


def test_damaged_comparison(comparison_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "cmp"
    shutil.copytree(comparison_dir, broken)
    (broken / "table.parquet").unlink()
    assert_clean_failure(cli("report", str(broken)), "missing table.parquet", "welfare-sim compare")


# --------------------------------------------------------------------------- sources from comments


YAML = """\
# Header.
#   [D20]   Decree 20/2021/NĐ-CP (base level)
#   [VNPost] VNPost, May 2024

name: x
geography:
  # ten districts [census]; split assumed
  districts:
    - name: A
      atms: 3
travel:                             # one-way, minutes; assumption
  mean_min: {urban: 10, rural: 25}
levels:
  - {start: 2021-07, vnd: 360000}   # [D20]
shares:                             # coefficients exist [D20]; shares are an assumption,
  "1.0": 0.35                       # set so the mean matches, as 8.4 bn VND over
  "1.5": 0.45                       # 16,332 recipients implies it
  "2.0": 0.2
window: {first_day: 2}              # "#1 point" [VNPost]
drives:
  # the push [bhb]
  - name: push
    teams: 10
  # a second, assumed
  - name: pilot
"""


def test_comments_are_read_back_as_sources(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(YAML, encoding="utf-8")
    comments = parse_comments(path)
    assert comments.tags == {
        "D20": "Decree 20/2021/NĐ-CP (base level)",
        "VNPost": "VNPost, May 2024",
    }
    sources = ScenarioSources(path)
    text, at = sources.comment(("travel", "mean_min", "rural"))
    assert text == "one-way, minutes; assumption" and at == "travel"
    assert (
        sources.comment(("geography", "districts", "0", "atms"))[0]
        == "ten districts [census]; split assumed"
    )
    assert sources.comment(("levels", "0", "vnd")) == ("[D20]", "levels.0")
    joined = sources.comment(("shares", "2.0"))[0]
    assert joined.startswith("coefficients exist [D20]") and joined.endswith(
        "16,332 recipients implies it"
    )
    assert sources.comment(("window", "first_day"))[0] == '"#1 point" [VNPost]'
    assert sources.comment(("drives", "0", "teams"))[0] == "the push [bhb]"
    assert sources.comment(("drives", "1", "name"))[0] == "a second, assumed"
    assert sources.source(("levels", "0", "vnd"), {}).status == "sourced"
    assert sources.source(("shares", "1.0"), {}).status == "mixed"
    assert sources.source(("travel", "mean_min", "urban"), {}).status == "assumption"
    assert "Decree 20/2021" in sources.source(("levels", "0", "vnd"), {}).refs


# --------------------------------------------------------------------------- numbers in Vietnamese


def test_vietnamese_number_format() -> None:
    """vi: dot between thousands, comma before decimals, months as 01/2023; en: the reverse."""
    from welfare_sim.sim.report.i18n import Lang, fmt_diff, fmt_value, interval_text

    vi, en = Lang("vi"), Lang("en")
    assert vi.count(1_234_567) == "1.234.567" and en.count(1_234_567) == "1,234,567"
    assert vi.vnd(66_919) == "66.919 VND" and en.vnd(66_919) == "66,919 VND"
    assert vi.vnd(49_781_337_000) == "49.781.337.000 VND"
    assert vi.num(1234.5, 1) == "1.234,5" and en.num(1234.5, 1) == "1,234.5"
    assert vi.pct(0.378, 1) == "37,8 %" and en.pct(0.378, 1) == "37.8%"
    assert vi.period("2023-01") == "01/2023" and en.period("2023-01") == "2023-01"
    # large sums in the comparison: millions (triệu) and billions (tỷ)
    assert vi.vnd_short(52_310_935_400) == "52,31 tỷ VND"
    assert en.vnd_short(52_310_935_400) == "52.31 billion VND"
    assert vi.vnd_short(130_472_000) == "130,5 triệu VND"
    assert vi.vnd_short(70_447) == "70.447 VND"
    assert fmt_value(vi, 0.513, "%") == "51,3 %"
    assert fmt_diff(vi, 0.138, "%") == "+13,8 điểm %" and fmt_diff(en, -0.012, "%") == "-1.2 pp"
    assert fmt_diff(vi, 1_549.0, "VND") == "+1.549 VND"
    # a difference that rounds to zero has no sign
    assert fmt_diff(en, -0.0001, "days") == "0.00 days" and vi.num(-0.0004, 2) == "0,00"
    assert interval_text(en, 0.136, 0.140, "%") == "+13.6 to +14.0 pp"
    assert interval_text(vi, 128_599_630, 132_344_370, "VND", short=True) == (
        "+128,6 đến +132,3 triệu VND"
    )
    # workbook cells stay numbers; only the format carries the Vietnamese locale
    assert vi.xl_format("vnd") == "[$-42A]#,##0" and en.xl_format("vnd") == "#,##0"


def test_vietnamese_report_has_no_english_numbers(vi_run: Path, vi_wide: Path) -> None:
    """Every VND amount and percentage on the vi pages is written the Vietnamese way."""
    pages = [(f / "report.vi.html").read_text(encoding="utf-8") for f in (vi_run, vi_wide)]
    for html in pages:
        text = re.sub(r"<[^>]+>", " ", html)
        amounts = re.findall(r"([-+]?\d[\d.,]*) (?:VND|triệu VND|tỷ VND)", text)
        shares = re.findall(r"([-+]?\d[\d.,]*) (?:%|điểm %)", text)
        assert len(amounts) > 10 and len(shares) > 10
        for number in amounts + shares:
            assert re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})*(,\d+)?", number), number
        # no English figure label or unit left
        assert " pp" not in text and "billion" not in text and "million" not in text


# --------------------------------------------------------------------------- what each chart shows

UNIT_WORDS = ("%", "VND", "day", "min", "month", "percentage points", "visits")
UNIT_WORDS_VI = ("%", "VND", "ngày", "phút", "tháng", "điểm phần trăm", "lượt")


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_every_chart_has_a_title_and_axis_labels_with_units(
    run_dir: Path, comparison_dir: Path, lang: str
) -> None:
    from welfare_sim.sim.report.charts import comparison_charts, run_charts
    from welfare_sim.sim.report.data import load_comparison, load_run
    from welfare_sim.sim.report.i18n import Lang

    words = Lang(lang)
    units = UNIT_WORDS if lang == "en" else UNIT_WORDS_VI
    run_set = run_charts(load_run(run_dir), words)
    cmp_set = comparison_charts(load_comparison(comparison_dir), words)
    assert [c.key for c in run_set] == [
        "c.coverage",
        "c.cashless",
        "days",
        "waits",
        "subgroups",
        "costs",
    ]
    assert [c.key for c in cmp_set] == ["c.scen_coverage", "c.scen_cashless", "forest"]
    # the charts whose y axis is a list of names (groups, strategies) need no unit there
    categorical_y = {"subgroups", "forest"}
    for chart in run_set + cmp_set:
        assert chart.title and chart.title in chart.drawn_titles, chart.key
        assert chart.x_labels, chart.key
        labels = chart.x_labels + chart.y_labels
        if chart.key not in categorical_y:
            assert chart.y_labels, chart.key
        for label in labels:
            assert any(u in label for u in units), f"{chart.key}: no unit in {label!r}"
        assert chart.reading.endswith(".") and len(chart.reading) > 40


# --------------------------------------------------------------------------- the comparison page


def test_comparison_page_shows_each_strategy_with_its_interval(wide_comparison: Path) -> None:
    import html as html_lib
    import json

    raw = write_report(wide_comparison, "en").read_text(encoding="utf-8")
    page = html_lib.unescape(raw)
    meta = json.loads((wide_comparison / "comparison.json").read_text())
    table = pl.read_parquet(wide_comparison / "table.parquet")
    others = [s for s in meta["scenarios"] if s != meta["base"]]
    assert len(others) == 3
    # every strategy's description, from its scenario file
    for path in meta["files"]:
        description = yaml.safe_load(Path(path).read_text())["description"]
        assert description in page
    # coverage in the last month: each strategy's mean, its difference and interval, in pp
    for name in others:
        row = table.filter(
            (pl.col("scenario") == name) & (pl.col("figure") == "account_coverage_last")
        ).row(0, named=True)
        assert f"{100 * row['mean']:.1f}%" in page
        if abs(row["diff_mean"]) >= 0.001:
            assert f"{100 * row['diff_mean']:+.1f} pp" in page
        lo, hi = 100 * row["diff_lo"], 100 * row["diff_hi"]
        if min(abs(lo), abs(hi)) >= 0.05:
            assert f"({lo:+.1f} to {hi:+.1f} pp)" in page
    # the reading under the last chart names the strategy that moved the first figure furthest,
    # computed here from table.parquet
    first = meta["figures"][0]["figure"]
    moved = table.filter((pl.col("figure") == first) & (pl.col("scenario") != meta["base"]))
    furthest = moved.sort(pl.col("diff_mean").abs())["scenario"][-1]
    reading = charts_of(raw)[3][1]
    assert f", {furthest} moved furthest from the base" in html_lib.unescape(reading)


def test_vietnamese_comparison_names_every_figure_in_vietnamese(vi_wide: Path) -> None:
    import html as html_lib

    page = (vi_wide / "report.vi.html").read_text(encoding="utf-8")
    page = html_lib.unescape(page).lower()
    labels = pl.read_parquet(vi_wide / "table.parquet")["label"].unique().to_list()
    assert len(labels) > 10
    for label in labels:
        assert label.lower() not in page, label
    assert "tỷ lệ có tài khoản, tháng cuối: người cao tuổi (60+)" in page


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_vietnamese_workbook_as_libreoffice_shows_it(vi_run: Path, tmp_path: Path) -> None:
    """LibreOffice opens report.xlsx and shows VND with dots between thousands, shares with a
    decimal comma (cells as shown, exported sheet by sheet to CSV)."""
    import csv

    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile}",
            "--convert-to",
            # comma-separated, UTF-8, cells as shown, every sheet to its own file
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
            "--outdir",
            str(tmp_path),
            str(vi_run / "report.vi.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    sheet = tmp_path / "report.vi-Theo tháng.csv"
    assert sheet.is_file(), proc.stdout + proc.stderr
    rows = list(csv.reader(sheet.read_text(encoding="utf-8").splitlines()))
    col = {name: i for i, name in enumerate(rows[0])}
    monthly = pl.read_parquet(vi_run / "monthly.parquet")
    first = monthly.filter(pl.col("month") == monthly["month"].min())
    paid = f"{first['paid_vnd'].sum():,}".replace(",", ".")
    assert rows[1][col["Đã chi trả (VND)"]] == paid  # 15.418.080.000
    share = first["with_account"].sum() / first["beneficiaries"].sum()
    assert rows[1][col["Tỷ lệ có tài khoản (%)"]] == f"{100 * share:.1f} %".replace(".", ",")
    assert rows[1][col["Tháng"]] == f"{first['period'][0]:%m/%Y}"


def test_many_districts_keep_a_readable_legend(tmp_path: Path) -> None:
    """With more districts than colours, the lowest three and highest three at the end are named
    in colour and the rest drawn in grey as 'other districts'."""
    import copy

    from welfare_sim.sim.report.charts import run_charts
    from welfare_sim.sim.report.data import district_month, load_run
    from welfare_sim.sim.report.i18n import Lang

    data = small()
    two = data["geography"]["districts"]
    data["geography"]["districts"] = []
    for i in range(14):
        district = copy.deepcopy(two[i % 2])
        district["name"] = f"D{i:02d}"
        data["geography"]["districts"].append(district)
    folder = tmp_path / "many"
    write_run(validate_scenario(data, "many"), folder, months=2, payments=False)
    run = load_run(folder)
    charts = run_charts(run, Lang("en"))
    coverage = charts[0]
    dm = district_month(run)
    last = dm.filter(pl.col("month") == dm["month"].max()).sort("account_coverage")
    ends = last["district_name"].to_list()
    named = [n for n in coverage.legend if n.startswith("D")]
    assert sorted(named) == sorted(ends[:3] + ends[-3:])
    assert "other districts" in coverage.legend and len(coverage.legend) == 8
    # without payments.parquet, days to money is drawn by district too, the same way
    assert charts[2].key == "days" and "other districts" in charts[2].legend
    assert len(charts[2].legend) == 8


# --------------------------------------------------------------------------- catalogues and languages side by side


def test_every_message_has_a_vietnamese_translation_in_the_catalogue() -> None:
    from babel.messages.pofile import read_po

    from welfare_sim.sim.report import i18n

    with i18n.po_path("vi").open("rb") as handle:
        catalogue = read_po(handle, locale="vi")
    entries = {(m.context, m.id): m.string for m in catalogue if m.id}
    wanted = set(i18n.messages())
    assert wanted - set(entries) == set(), "run: python -m welfare_sim.sim.report.i18n, then translate"
    assert set(entries) - wanted == set()  # no stale message left behind
    assert [key for key, vi in entries.items() if not vi.strip()] == []
    # a template's fields survive translation
    for (context, english), vi in entries.items():
        assert set(re.findall(r"\{(\w*)", english)) == set(re.findall(r"\{(\w*)", vi)), context


def test_the_committed_mo_is_the_compiled_po() -> None:
    from welfare_sim.sim.report import i18n

    assert i18n.po_path("vi").with_suffix(".mo").read_bytes() == i18n.compiled("vi")


def test_wording_of_seeds_and_indices() -> None:
    from welfare_sim.sim.report.i18n import Lang

    vi = Lang("vi")
    for name in ("district", "commune", "point", "seed"):
        assert not vi.col(name).startswith("Mã"), vi.col(name)
    assert vi.col("district") == "Số thứ tự huyện" and vi.col("commune") == "Số thứ tự xã"
    texts = [vi.t(key) for key in ("about.seeds",)] + [vi.col("seed")]
    assert all("hạt giống" not in t.lower() for t in texts)
    subtitle = vi.t(
        "subtitle_run", province="P", scenario="s", start="01/2023", end="12/2023", months=12, seed=7
    )
    assert "giá trị khởi tạo ngẫu nhiên (seed) 7" in subtitle


def test_months_are_formatted_from_dates_and_text() -> None:
    import datetime as dt

    from welfare_sim.sim.report.i18n import Lang

    vi, en = Lang("vi"), Lang("en")
    assert vi.period(dt.date(2024, 11, 1)) == "11/2024" and en.period(dt.date(2024, 11, 1)) == "2024-11"
    assert vi.period("2024-11-01") == "11/2024"
    assert vi.pct(-0.0001, 1) == "0,0 %" and en.pct(1.0, 0) == "100%"


def test_the_vietnamese_report_goes_beside_the_english_one(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "both"
    shutil.copytree(run_dir, folder)
    write_report(folder, "en")
    english = {name: (folder / name).read_bytes() for name in ("report.html", "report.xlsx")}
    assert write_report(folder, "vi") == folder / "report.vi.html"
    assert {name: (folder / name).read_bytes() for name in english} == english  # untouched
    vi_html = (folder / "report.vi.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in vi_html and "report.vi.xlsx" in vi_html
    assert '<html lang="en">' in english["report.html"].decode() and "report.xlsx" in english["report.html"].decode()
    assert openpyxl.load_workbook(folder / "report.vi.xlsx").sheetnames == RUN_SHEETS_VI


def test_the_printed_tables_follow_the_language(tmp_path: Path, comparison_dir: Path) -> None:
    from rich.console import Console

    from welfare_sim.sim.experiments import compare

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small(months=2), allow_unicode=True), encoding="utf-8")
    vi = cli("run", str(path), "--out", str(tmp_path / "vi"), "--lang", "vi")
    en = cli("run", str(path), "--out", str(tmp_path / "en"))
    assert vi.returncode == 0 and en.returncode == 0, vi.stderr + en.stderr
    assert "tỷ lệ có tài khoản" in vi.stdout and "01/2023 đến 02/2023" in vi.stdout
    assert "account coverage" not in vi.stdout
    assert "account coverage (first → last month)" in en.stdout and "2023-01 to 2023-02" in en.stdout
    assert "tỷ lệ" not in en.stdout
    assert "đã ghi " in vi.stdout and "wrote " not in vi.stdout and "wrote " in en.stdout
    both = cli("compare", str(path), str(path), "--seeds", "2", "--out", str(tmp_path / "cmp-vi"), "--lang", "vi")
    assert both.returncode == 0, both.stderr
    assert "kịch bản" in both.stdout and "ghép cặp theo từng seed" in both.stdout and "đã ghi " in both.stdout
    assert "scenarios ·" not in both.stdout and "paired seed by seed" not in both.stdout
    bad = cli("run", str(path), "--out", str(tmp_path / "xx"), "--lang", "fr")
    assert bad.returncode == 2 and "--lang fr" in bad.stderr and not (tmp_path / "xx").exists()

    table = pl.read_parquet(comparison_dir / "table.parquet")
    names = table["scenario"].unique(maintain_order=True).to_list()
    n_seeds = int(table["n_seeds"][0])
    for lang, word in (("vi", "Tỷ lệ có tài khoản, tháng cuối"), ("en", "account coverage, last month")):
        console = Console(width=200, record=True)
        console.print(compare.table_for_console(table, names, n_seeds, "t", lang))
        text = console.export_text()
        assert word in text
        assert ("điểm %" in text) == (lang == "vi") and (" pp" in text) == (lang == "en")


# --------------------------------------------------------------------------- the map


def map_svgs(html: str) -> dict[str, str]:
    """The page's maps by figure key, each its whole <svg> element."""
    found = re.finditer(r'<svg class="commune-map" data-figure="([a-z]+)".*?</svg>', html, re.S)
    return {m.group(1): m.group(0) for m in found}


def test_the_map_draws_every_commune_at_its_register_place(run_dir: Path) -> None:
    from welfare_sim.sim import register
    from welfare_sim.sim.report.geomap import FIGURES

    html = write_report(run_dir, "en").read_text(encoding="utf-8")
    maps = map_svgs(html)
    assert list(maps) == ["coverage", "unpaid", "wait", "cost"]
    places = pl.read_parquet(run_dir / "places.parquet")
    reg = register.communes("Hòa Bình", "legacy").select("code", "latitude", "longitude")
    last = pl.read_parquet(run_dir / "communes.parquet").filter(pl.col("month") == 2)
    for fig in FIGURES:
        svg = maps[fig.key]
        circles = re.findall(
            r'<circle class="commune" data-code="(\d+)" cx="([\d.]+)" cy="([\d.]+)"[^>]*fill="(#\w+)"', svg
        )
        assert sorted(c[0] for c in circles) == sorted(places["commune_code"].to_list())  # one shape per commune
        drawn = (
            pl.DataFrame(
                {
                    "code": [c[0] for c in circles],
                    "cx": [float(c[1]) for c in circles],
                    "cy": [float(c[2]) for c in circles],
                    "fill": [c[3] for c in circles],
                }
            )
            .join(reg, on="code")
            .join(last.select(code="commune_code", value=fig.column), on="code")
        )
        # north is up and east is right: the order of the coordinates is the order on the page
        assert drawn.sort("latitude")["cy"].is_sorted(descending=True)
        assert drawn.sort("longitude")["cx"].is_sorted()
        # the highest value is in the darkest class, the lowest in the lightest
        valued = drawn.filter(pl.col("value").is_not_null())
        assert valued.sort("value")["fill"][-1] == fig.palette[-1]
        assert valued.sort("value")["fill"][0] == fig.palette[0]
        assert '<g class="legend">' in svg and "Colour: " in svg
        assert svg.count('class="swatch"') >= 5
    assert "Colour: % of beneficiaries" in maps["coverage"] and "Colour: VND" in maps["cost"]
    assert "Colour: minutes" in maps["wait"]
    # the points: a commune point in every commune, post offices and ATMs at their district's centre
    # (the register puts Tân Thành and Sơn Thủy of Mai Châu at one place: one mark for both)
    communes = [int(n) for n in re.findall(r"<title>commune points: (\d+)</title>", maps["coverage"])]
    assert sum(communes) == places.height and len(communes) == places.height - 1
    points = pl.read_parquet(run_dir / "points.parquet").filter(pl.col("kind") == "post_office")
    offices = [int(n) for n in re.findall(r"<title>district post offices: (\d+)</title>", maps["coverage"])]
    assert sum(offices) == points["point"].n_unique() and len(offices) == points["district"].n_unique()
    assert 'class="point post_office"' in maps["coverage"] and 'class="point atm"' in maps["coverage"]
    section = html[html.index('<section id="map">') :]
    section = section[: section.index("</section>")]
    assert "<script" not in section and "http://" not in section.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in section and "<image" not in section


def test_the_map_in_vietnamese_and_a_world_off_the_map(vi_run: Path, tmp_path: Path) -> None:
    html = (vi_run / "report.vi.html").read_text(encoding="utf-8")
    vi = Lang("vi")
    assert "Bản đồ các xã" in html and f"Màu: {vi.t('unit.share')}" in html
    assert len(map_svgs(html)) == 4
    folder = tmp_path / "small"  # register: none, anonymous communes: nothing to place
    write_run(validate_scenario(small(), "small"), folder, payments=False)
    plain = write_report(folder).read_text(encoding="utf-8")
    assert "No map: the scenario's communes have no official codes" in plain.replace("&#x27;", "'")
    assert "<svg" not in plain
