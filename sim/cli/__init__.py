"""The `welfare-sim` command. Thin: parse, call the library, print. Bad input exits with 2."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from welfare_sim.sim.scenario import ScenarioError, json_schema, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate the move of Vietnam's monthly welfare payments from cash to accounts.",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, soft_wrap=True)

EXIT_BAD_INPUT = 2


def fail(problems: list[str]) -> None:
    err.print("[bold red]error:[/] " + ("the input has problems:" if len(problems) > 1 else ""), end="")
    if len(problems) == 1:
        err.print(problems[0], markup=False, highlight=False)
    else:
        err.print()
        for line in problems:
            err.print("  " + line, markup=False, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


class DelayedProgress:
    """A progress bar that appears only once the work has taken more than `delay_s`."""

    def __init__(self, total: int, label: str, delay_s: float = 2.0) -> None:
        self.total, self.label, self.delay_s = total, label, delay_s
        self.t0 = time.perf_counter()
        self.done = 0
        self.progress: Progress | None = None

    def advance(self, *_: object) -> None:
        self.done += 1
        if self.progress is None and time.perf_counter() - self.t0 > self.delay_s and self.done < self.total:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=self.total, completed=self.done)
        elif self.progress is not None:
            self.progress.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _vnd(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f} VND"


def _min(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f} min"


def summary_table(summary: dict, title: str) -> Table:
    t = Table(title=title, show_header=True, header_style="bold")
    t.add_column("figure")
    t.add_column("value", justify="right")
    cov, cl, days = summary["account_coverage"], summary["cashless_share"], summary["days_to_money"]
    t.add_row(
        "beneficiaries (first → last month)",
        f"{summary['beneficiaries']['first_month']:,} → {summary['beneficiaries']['last_month']:,}",
    )
    t.add_row("account coverage (first → last month)", f"{_pct(cov['first_month'])} → {_pct(cov['last_month'])}")
    t.add_row("cashless share of payments (whole run)", _pct(cl["run_payments"]))
    t.add_row("cashless share of payments (last month)", _pct(cl["last_month_payments"]))
    t.add_row("days from run start to money in hand (mean / p95)", f"{days['mean_days']} / {days['p95_days']} days")
    for kind, w in summary["queue_wait"].items():
        t.add_row(f"queue wait at {kind.replace('_', ' ')} (p50 / p95)", f"{_min(w['p50_min'])} / {_min(w['p95_min'])}")
    for group, u in summary["unpaid_by_subgroup"].items():
        t.add_row(
            f"unpaid in a month: {group.replace('_', ' ')}",
            f"{u['unpaid_per_month']:,.0f} per month ({_pct(u['unpaid_share'])})",
        )
    fc = summary["failed_credits"]
    t.add_row("failed credits (returned)", f"{fc['count']:,} ({_vnd(fc['vnd'])})")
    c = summary["cost_vnd"]
    t.add_row("cost per payment to the state", _vnd(c["state_per_payment"]))
    t.add_row("cost per payment to the beneficiary (travel + time)", _vnd(c["beneficiary_per_payment"]))
    t.add_row("total cost to the state", _vnd(c["state_total"]))
    return t


PAYMENTS_AUTO_MAX = 1_000_000  # simulated beneficiaries


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    seed: Annotated[int | None, typer.Option(help="run seed (default: the scenario's)")] = None,
    months: Annotated[
        int | None, typer.Option(min=1, max=240, help="months to simulate (default: the scenario's)")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="run folder (default: outputs/NAME-seedSEED)")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a value: key.path=value (repeatable)")
    ] = None,
    payments: Annotated[
        bool | None,
        typer.Option(
            "--payments/--no-payments",
            help="write payments.parquet, one row per beneficiary-month (default: yes up to "
            f"{PAYMENTS_AUTO_MAX:,} simulated beneficiaries, no above, e.g. the whole country)",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON instead of a table")] = False,
    fine_grained: Annotated[
        bool,
        typer.Option(
            "--fine-grained",
            help="serve the queues with one SimPy process per visit: the same "
            "results, ~50x slower; to check a small run",
        ),
    ] = False,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="also write report.html and report.xlsx in the run folder")
    ] = False,
    lang: Annotated[str, typer.Option(help="language of the report: en or vi")] = "en",
) -> None:
    """Run a scenario and write its run folder."""
    from welfare_sim.sim.run import write_run

    if report:
        from welfare_sim.sim.report import check_lang

        if check_lang(lang):
            fail(check_lang(lang))
    overrides = list(set_ or [])
    try:
        sc = load_scenario(scenario, overrides)
    except ScenarioError as exc:
        fail(exc.problems)
    seed = sc.seed if seed is None else seed
    months = sc.months if months is None else months
    out_dir = out_dir or Path("outputs") / f"{sc.name}-seed{seed}"
    if payments is None:
        # per-payment rows for millions of people run to gigabytes: opt in with --payments
        payments = sc.geography.n_beneficiaries * sc.geography.sample_fraction <= PAYMENTS_AUTO_MAX
        if not payments:
            err.print(
                "note: payments.parquet not written for this many beneficiaries; "
                "add --payments to write it (streamed month by month)",
                highlight=False,
            )
    progress = DelayedProgress(months, f"{sc.name}: months")
    t0 = time.perf_counter()
    try:
        result, _timings = write_run(
            sc,
            out_dir,
            source=str(scenario),
            seed=seed,
            months=months,
            overrides=overrides,
            payments=payments,
            on_month=progress.advance,
            fine_grained=fine_grained,
        )
    except ScenarioError as exc:  # the run does not fit (memory, money): sim/budget.py
        progress.close()
        fail(exc.problems)
    except OSError as exc:
        progress.close()
        err.print(
            f"[bold red]error:[/] cannot write the run folder {out_dir}: {exc.strerror or exc}; choose another --out",
            highlight=False,
        )
        raise typer.Exit(1) from None
    finally:
        progress.close()
    wall = time.perf_counter() - t0
    summary = {"scenario": sc.name, "seed": seed, **result.summary}
    report_note = ""
    if report:
        from welfare_sim.sim.report import ReportError, write_report

        try:
            report_note = f"wrote {write_report(out_dir, lang)} and report.xlsx"
        except ReportError as exc:
            fail(exc.problems)
    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False))
        if report_note:
            err.print(report_note, highlight=False)
        return
    out.print(summary_table(summary, f"{sc.name} · seed {seed} · {summary['period'][0]} to {summary['period'][1]}"))
    tables = "monthly, payments, points" if payments else "monthly, points"
    out.print(
        f"wrote {out_dir}/ ({tables}, waits, subgroups, ledger, funnel .parquet; "
        f"summary.json, manifest.json, scenario.resolved.yaml) in {wall:.1f} s",
        highlight=False,
    )
    if report_note:
        out.print(report_note, highlight=False)


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a value: key.path=value")] = None,
) -> None:
    """Check a scenario file; print every problem, or a one-line description if it is valid."""
    try:
        sc = load_scenario(scenario, list(set_ or []))
    except ScenarioError as exc:
        fail(exc.problems)
    geo = sc.geography
    out.print(
        f"{scenario}: valid · {sc.name} · {geo.province}: {len(geo.districts)} districts, "
        f"{geo.n_communes} communes, {geo.n_beneficiaries:,} beneficiaries · {sc.start} for {sc.months} months",
        highlight=False,
    )


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--out", help="write to this file instead of stdout")] = None,
) -> None:
    """Print the scenario JSON schema (for editor autocompletion)."""
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from welfare_sim.sim.run import atomic_write_bytes

        output.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(output, text.encode())
        out.print(f"wrote {output}")


def load_plugins() -> None:
    """Commands of other packages (such as `calibrate`), registered through entry points.

    `calibration/` imports `sim/`; `sim/` never imports it, so its command arrives this way.
    """
    from importlib.metadata import entry_points

    for entry in entry_points(group="welfare_sim.commands"):
        try:
            register = entry.load()
        except ModuleNotFoundError as exc:
            if exc.name == entry.module:  # declared but not installed in this checkout
                continue
            raise
        register(app)


def _command_names() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def main() -> None:
    load_plugins()
    app()


if __name__ == "__main__":
    main()
