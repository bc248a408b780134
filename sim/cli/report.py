"""`welfare-sim report`: the command over welfare_sim.sim.report (parse, write, print)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from welfare_sim.sim.cli import err, fail, out


def register(app: typer.Typer) -> None:
    """Add `report` to `welfare-sim` (entry point group welfare_sim.commands)."""
    app.command("report")(report)


def report(
    folder: Annotated[
        Path,
        typer.Argument(help="a run folder (welfare-sim run) or a comparison folder (welfare-sim compare)"),
    ],
    lang: Annotated[str, typer.Option("--lang", help="language of the report: en (English) or vi (Vietnamese)")] = "en",
) -> None:
    """Write report.html (headline, charts) and report.xlsx (tables, assumptions) in FOLDER."""
    from welfare_sim.sim.publish import folder_kind, remove_stale, report_files
    from welfare_sim.sim.report import ReportError, write_report, xlsx_beside

    mine = report_files(folder) if folder.is_dir() and folder_kind(folder) is None else []
    if mine:
        # a folder welfare-sim did not write (or holds other files too): its report files may be a user's
        fail(
            [
                f"{folder}: already holds {', '.join(p.name for p in mine)} and is not a folder welfare-sim wrote "
                "(or holds other files too); nothing was changed. Move those files, or report a run or "
                "comparison folder as welfare-sim wrote it"
            ]
        )
    if folder.is_dir():
        remove_stale(folder)  # temporary files of a report that was killed while writing
    t0 = time.perf_counter()
    try:
        path = write_report(folder, lang)
    except ReportError as exc:
        fail(exc.problems)
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] cannot write the report into {folder}: {exc.strerror or exc}; "
            "check that the folder is writable",
            highlight=False,
        )
        raise typer.Exit(1) from None
    out.print(
        f"wrote {path} and {xlsx_beside(path)} in {time.perf_counter() - t0:.1f} s",
        highlight=False,
    )
