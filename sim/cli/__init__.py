"""The `welfare-sim` command. Thin: parse, call the library, print. Bad input exits with 2."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

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


def out_folder(out_dir: Path | None, default: Path, kind: str) -> Path:
    """`--out` (or `default`) if a `kind` folder may be written there; otherwise exit 2 with why
    and what to choose instead, before any work is done."""
    from welfare_sim.sim.publish import OutputError, check_out

    try:
        return check_out(out_dir or default, kind, suggestion=default)
    except OutputError as exc:
        fail(exc.problems)
        raise  # fail() has exited; this keeps type checkers content


class DelayedProgress:
    """A progress bar that appears only once the work has taken more than `delay_s`."""

    def __init__(self, total: int, label: str, delay_s: float = 2.0) -> None:
        self.total, self.label, self.delay_s = total, label, delay_s
        self.t0 = time.perf_counter()
        self.done = 0
        self.progress: Progress | None = None

    def advance(self, *_: object) -> None:
        self.done += 1
        now = time.perf_counter()
        if not err.is_terminal:
            # a log gets a plain line at most every 30 s instead of a bar it cannot draw
            last = getattr(self, "last_line", self.t0)
            if now - last >= max(30.0, self.delay_s) and self.done < self.total:
                err.print(f"{self.label}: {self.done}/{self.total} ({int(now - self.t0)} s)", highlight=False,
                          markup=False)
                self.last_line = now
            return
        if self.progress is None and now - self.t0 > self.delay_s and self.done < self.total:
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


def summary_table(summary: dict, title: str, lang: str = "en") -> Table:
    from welfare_sim.sim.report.i18n import Lang, summary_rows

    words = Lang(lang)
    t = Table(title=title, show_header=True, header_style="bold")
    t.add_column(words.t("term.figure"))
    t.add_column(words.t("term.value"), justify="right")
    for label, value in summary_rows(summary, words):
        t.add_row(label, value)
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
    lang: Annotated[str, typer.Option(help="language of the report and the printed table: en or vi")] = "en",
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=256,
            help="a many-province scenario: local processes to run its provinces on (default: the cores)",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="a many-province scenario: Dask scheduler address, e.g. tcp://host:8786, to run it on"),
    ] = None,
) -> None:
    """Run a scenario and write its run folder."""
    from welfare_sim.sim.publish import OutputError
    from welfare_sim.sim.report.i18n import Lang, check_lang
    from welfare_sim.sim.run import write_run
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    if check_lang(lang):
        fail(check_lang(lang))
    overrides = list(set_ or [])
    try:
        sc = load_scenario(scenario, overrides)
    except ScenarioError as exc:
        fail(exc.problems)
    seed = sc.seed if seed is None else seed
    months = sc.months if months is None else months
    out_dir = out_folder(out_dir, Path("outputs") / f"{sc.name}-seed{seed}", "run")
    if sc.roster is not None and not sc.roster.per_person_tables:
        if payments:
            err.print("note: a roster run writes no per-person table unless the scenario sets "
                      "roster.per_person_tables: true (pseudonyms only); --payments is ignored", highlight=False)
        payments = False
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
            workers=workers or os.cpu_count() or 1,
            scheduler=scheduler,
        )
    except (OutputError, ScenarioError) as exc:  # the folder changed while the run ran; or the run does not
        # fit (memory, money: sim/budget.py)
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
            html = write_report(out_dir, lang)
            report_note = f"wrote {html} and {html.name.removesuffix('.html')}.xlsx"
        except ReportError as exc:
            fail(exc.problems)
    if as_json:
        out.print_json(json.dumps(summary, ensure_ascii=False))
        if report_note:
            err.print(report_note, highlight=False)
        return
    words = Lang(lang)
    start, end = (words.period(p) for p in summary["period"])
    title = words.t("term.title", scenario=sc.name, seed=seed, start=start, end=end)
    out.print(summary_table(summary, title, lang))
    tables = "monthly, payments, points" if payments else "monthly, points"
    tables += ", waits, subgroups, ledger, funnel, places, communes"
    out.print(words.t("term.wrote_run", folder=out_dir, tables=tables, seconds=words.num(wall, 1)), highlight=False)
    if report_note:
        out.print(report_note, highlight=False)


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="scenario YAML file")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a value: key.path=value")] = None,
) -> None:
    """Check a scenario file; print every problem, or a one-line description if it is valid."""
    from welfare_sim.sim.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario, list(set_ or []))
    except ScenarioError as exc:
        fail(exc.problems)
    geo = sc.geography
    out.print(
        f"{scenario}: valid · {sc.name} · {geo.province}: {len(geo.groups)} districts, "
        f"{geo.n_communes} communes, {geo.n_beneficiaries:,} beneficiaries · {sc.start} for {sc.months} months",
        highlight=False,
        soft_wrap=True,  # one line, however long the path: scripts read it
    )


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--out", help="write to this file instead of stdout")] = None,
) -> None:
    """Print the scenario JSON schema (for editor autocompletion)."""
    from welfare_sim.sim.scenario import json_schema

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from welfare_sim.sim.publish import atomic_write_bytes

        if output.is_dir() or (output.exists() and not _is_schema_file(output)):
            fail(
                [
                    f"--out {output}: exists and is not a scenario schema that welfare-sim wrote; "
                    "nothing there was changed. Choose a new file name, such as scenario.schema.json"
                ]
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(output, text.encode())
        out.print(f"wrote {output}")


def _is_schema_file(path: Path) -> bool:
    """An earlier `schema --out` file (replacing it loses nothing): JSON with the schema's title."""
    from welfare_sim.sim.scenario import json_schema

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("title") == json_schema().get("title") and "properties" in data


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
