"""The sourced parameter table of a scenario, generated from the scenario file and its comments.

    python -m welfare_sim.sim.parameters_table scenarios/hoa_binh.yaml            # print the table
    python -m welfare_sim.sim.parameters_table scenarios/hoa_binh.yaml --write docs/model.md
    python -m welfare_sim.sim.parameters_table scenarios/hoa_binh.yaml --check docs/model.md

One row per leaf value of the file (and of the files it `extends`): key path, value, unit, status
and source. The comments are read as the report's workbook reads them
(`welfare_sim.sim.report.sources`): a value's own comment, else the comment block above it, else
the nearest enclosing key's comment. One rule is added, because scenario comments often run on
over aligned lines whose first line holds the source (`coefficients: # ... [D20]; shares are an
assumption, set so` / `"1.0": 0.15  # the mean allowance ...`): an own comment that names neither a
source tag nor an assumption is read with the nearest enclosing comment that does.

Status: `sourced` (a source tag such as `[bhb]`), `assumption`, `mixed` (both), `setting` (the run's
name, dates, length and seed), `label` (a name or note, not a figure) or `unmarked` (no source and
no "assumption": what `unmarked_values` reports and tests/test_parameters_table.py refuses).

`--write` replaces the text between the markers `<!-- parameters:begin FILE -->` and
`<!-- parameters:end -->` in a Markdown file (written atomically; a file without the markers is
refused, never overwritten); `--check` exits 1 if that text differs from what the command generates.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from welfare_sim.sim.report.sources import RUN_SETTINGS, TAG, ScenarioSources, classify, flatten

# Keys whose text values name or describe something; they are not figures and need no source.
LABEL_KEYS = {"name", "description", "province", "note", "path", "tied_paths", "targeting", "register"}
MARKED = {"sourced", "assumption", "mixed"}

# Units by the end of a key's name (the project writes units in names: wait_min, cost_vnd).
_SUFFIX_UNITS = (
    ("_vnd_per_km", "VND/km"),
    ("_vnd_per_day", "VND/day"),
    ("_vnd_per_hour", "VND/hour"),
    ("_per_commune_month", "per commune and month"),
    ("_per_team_per_month", "per team and month"),
    ("_per_team_day", "per team-day"),
    ("_per_courier_day", "per courier-day"),
    ("_per_post_office", "per post office"),
    ("_per_district", "per district"),
    ("_per_day", "per day"),
    ("_vnd", "VND"),
    ("_kmh", "km/h"),
    ("_km", "km"),
    ("_min", "minutes (since midnight)"),
    ("_days", "days"),
    ("_day", "day of month"),
    ("_months", "months"),
    ("_years", "years"),
    ("_prob", "probability"),
    ("_share", "share (0-1)"),
    ("_shares", "shares (0-1)"),
    ("_cv", "coefficient of variation"),
    ("_factor", "factor"),
    ("_weekdays", "weekdays (0 = Monday)"),
)
_DURATION_KEYS = {"wait_min", "move_min", "early_arrival_min", "service_mean_min", "expected_wait_min"}
_NAMED_UNITS = {
    "beneficiaries": "people",
    "counters": "counters",
    "post_office_counters": "counters",
    "atms": "ATMs",
    "teams": "teams",
    "months": "months",
    "vnd": "VND/month",
    "years": "years (age)",
    "seed": "integer",
    "lower": "as the parameter",
    "upper": "as the parameter",
    "reach": "probability",
    "cashless_start": "month",
    "start": "month",
    "end": "month",
    "float_cover": "ratio (cash ÷ cash owed)",
    "multipliers": "multiplier of the apply chance",
    "fail_multipliers": "multiplier of the fail chance",
    "coefficients": "share (0-1) of recipients",
    "terrain": "share (0-1) of the district's communes",
    "age_groups": "share (0-1)",
    "type_shares": "share (0-1)",
    "mode_shares": "share (0-1)",
    "annual_death_prob": "probability per year",
    "visit_hour_shares": "share (0-1) by hour 0-23",
    "scale": "log or linear",
    "model": "fee or bottom_up",
    "partial_fraction": "share (0-1) of the balance",
    "point_by_account_type": "kinds of cash-out point",
    "vnd_per_km": "VND/km",
    "max_vnd_per_run": "VND per run",
    "days_per_commune": "days a month",
    "share": "share (0-1)",
    "share_of_communes": "share (0-1) of communes",
    "home_delivery_takeup": "probability",
    "needs_chip_id": "yes/no",
    "partial_payout": "yes/no",
    "revisit": "yes/no",
}


@dataclass(frozen=True)
class Row:
    path: tuple[str, ...]
    value: Any
    unit: str
    status: str
    source: str  # the comment that documents the value
    source_at: tuple[str, ...] | None  # where that comment sits, if not on the value's own line


def unit_of(parts: tuple[str, ...]) -> str:
    """The unit a key path's name gives, looking up the path for the nearest named key."""
    for depth in range(len(parts), 0, -1):
        key = parts[depth - 1]
        if key.isdigit():
            continue
        if key in LABEL_KEYS or key == "districts":
            return ""  # names, not quantities
        if key in _DURATION_KEYS:
            return "minutes"
        if key in _NAMED_UNITS:
            return _NAMED_UNITS[key]
        for suffix, unit in _SUFFIX_UNITS:
            if key.endswith(suffix):
                return "probability per month" if unit == "probability" and key.startswith("monthly_") else unit
    return ""


def _at_parts(parts: tuple[str, ...], at: str) -> tuple[str, ...]:
    """The key path a comment sits at (`at`, dotted), as parts: a prefix of the value's path, else
    (an item appended with `NAME+`) split at the dots."""
    for depth in range(len(parts), 0, -1):
        if ".".join(parts[:depth]) == at:
            return parts[:depth]
    return tuple(at.split("."))


def _status(sources: ScenarioSources, parts: tuple[str, ...], value: Any) -> tuple[str, str, tuple[str, ...] | None]:
    """(status, comment, where the comment sits if not at the value itself) of one value."""
    if len(parts) == 1 and parts[0] in RUN_SETTINGS:
        found = sources.comment(parts)
        return "setting", found[0] if found else "", None
    label = (isinstance(value, str | list) and parts[-1] in LABEL_KEYS) or (
        len(parts) >= 2 and parts[-2] in LABEL_KEYS and parts[-1].isdigit()
    )
    own = sources.comment(parts)
    if own is None:
        return ("label", "", None) if label else ("unmarked", "", None)
    text, at = own
    own_at = _at_parts(parts, at)
    status = classify(text, in_assumptions=False)
    if status == "unmarked":
        # an own comment that names nothing is read with the nearest enclosing one that does
        outer_at = own_at
        while len(outer_at) > 1:
            enclosing = sources.comment(outer_at[:-1])
            if enclosing is None:
                break
            outer_at = _at_parts(parts, enclosing[1])
            outer = classify(enclosing[0], in_assumptions=False)
            if outer != "unmarked":
                if own_at == parts:
                    return outer, f"{text} (with {_key(outer_at)}: {enclosing[0]})", None
                return outer, enclosing[0], outer_at
        if label:
            status = "label"
    return status, text, None if own_at == parts else own_at


def table_rows(scenario_file: Path) -> list[Row]:
    """Every leaf value of a scenario file (with the files it extends), with its unit and source."""
    sources = ScenarioSources(Path(scenario_file))
    rows = []
    for parts, value in flatten(sources.data):
        if parts == ("extends",):
            continue
        status, text, at = _status(sources, parts, value)
        rows.append(Row(parts, value, unit_of(parts), status, text, at))
    return rows


def unmarked_values(scenario_file: Path) -> list[str]:
    """Key paths of the values that carry neither a source nor the word "assumption"."""
    return [_key(r.path) for r in table_rows(scenario_file) if r.status == "unmarked"]


def undefined_tags(scenario_file: Path) -> list[str]:
    """Source tags cited in the comments of a scenario or target file (and of the files it
    `extends`) that no header among them defines (`#   [tag]  text`).

    Every comment line is read, not only the comments the table attaches to values, so a tag in a
    block comment counts too. A citation names its source first: `[bhb, Oct 2023]` and
    `[seed002: remote areas]` cite `bhb` and `seed002`.
    """
    sources = ScenarioSources(Path(scenario_file))
    defined = dict(sources.tags)
    paths = [Path(f.path) for f in sources.files] or [Path(scenario_file)]
    for path in paths:
        defined.update(tag_legend(path))
    found: list[str] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            comment = _COMMENT.search(line)
            if comment is None:
                continue
            for tag in TAG.findall(comment.group(1)):
                head = re.split(r"[,:]", tag)[0].strip()
                if head not in defined and tag not in found:
                    found.append(tag)
    return found


_COMMENT = re.compile(r"(?:^|\s)#(.*)$")  # a YAML comment: `#` at the start or after a blank
_TAG_LINE = re.compile(r"^#\s+((?:\[[^\]]+\]\s+)+)(\S.*)$")  # `#   [D20] [D76]  text`


def tag_legend(scenario_file: Path) -> dict[str, str]:
    """The source tags a file's comments define (`#   [tag]   text`), each with its whole text: a
    definition runs on over the comment lines indented to its text, as in the files' headers."""
    legend: dict[str, str] = {}
    current: str | None = None
    tags: list[str] = []
    text_column = 0
    for line in Path(scenario_file).read_text(encoding="utf-8").splitlines():
        match = _TAG_LINE.match(line)
        if match:
            tags = re.findall(r"\[([^\]]+)\]", match.group(1))
            text_column = len(line) - len(match.group(2))
            for tag in tags:  # tags named together share their text
                legend.setdefault(tag, match.group(2).strip())
            current = tags[-1]
            continue
        body = line[1:] if line.startswith("#") else None
        indent = len(line) - len(line.lstrip("# ")) if body is not None else 0
        if current is not None and body is not None and body.strip() and indent >= text_column - 1:
            for tag in tags:
                legend[tag] = f"{legend[tag]} {body.strip()}"
            continue
        current = None
    return legend


def _key(parts: tuple[str, ...]) -> str:
    return ".".join(f'"{p}"' if "." in p else p for p in parts)


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, str | int | float):
        text = str(value)
    elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        text = "[" + ", ".join(_cell(v) for v in value) + "]"
    else:
        text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(scenario_file: Path, shown_as: str | None = None) -> str:
    """The parameter table of a scenario as Markdown: the sources named, the table, the block notes."""
    path = Path(scenario_file)
    name = shown_as or path.as_posix()
    sources = ScenarioSources(path)
    rows = table_rows(path)
    notes: dict[tuple[str, ...], tuple[int, str]] = {}
    body = []
    for row in rows:
        source = row.source
        if row.source_at is not None:
            if row.source_at not in notes:
                found = sources.comment(row.source_at)
                notes[row.source_at] = (len(notes) + 1, found[0] if found else source)
            source = f"note {notes[row.source_at][0]} (at `{_key(row.source_at)}`)"
        body.append(f"| `{_key(row.path)}` | {_cell(row.value)} | {row.unit} | {row.status} | {_cell(source)} |")
    counts = {s: sum(r.status == s for r in rows) for s in ("sourced", "mixed", "assumption", "setting", "label")}
    unmarked = [r for r in rows if r.status == "unmarked"]
    lines = [
        f"Generated from `{name}` by `python -m welfare_sim.sim.parameters_table {name}`: "
        f"{len(rows)} values; {counts['sourced']} sourced, {counts['mixed']} sourced in part (a source and an "
        f"assumption in the same comment), {counts['assumption']} assumptions, {counts['setting']} run settings, "
        f"{counts['label']} names or notes" + (f", {len(unmarked)} UNMARKED" if unmarked else "") + ".",
        "",
    ]
    legend: dict[str, str] = {}
    for f in reversed(sources.files):  # the furthest base first; a file's own definitions win
        legend.update(tag_legend(f.path))
    if legend:
        lines += ["Sources the file names (its header):", ""]
        lines += [f"- `[{tag}]` {_cell(text)}" for tag, text in legend.items()]
        lines.append("")
    lines += ["| key path | value | unit | status | source (the file's comment) |", "|---|---|---|---|---|", *body]
    if notes:
        lines += ["", "Comments that document a block of values (the rows say which):", ""]
        lines += [f"{n}. `{_key(at)}`: {_cell(text)}" for at, (n, text) in notes.items()]
    return "\n".join(lines) + "\n"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- parameters:begin {name} -->", "<!-- parameters:end -->"


def embedded(document: str, name: str) -> str | None:
    """The text between a document's parameter markers for `name`, or None without them."""
    begin, end = _markers(name)
    start = document.find(begin)
    if start < 0:
        return None
    stop = document.find(end, start)
    if stop < 0:
        return None
    return document[start + len(begin) : stop].strip("\n") + "\n"


def replace_embedded(document: str, name: str, table: str) -> str | None:
    begin, end = _markers(name)
    start = document.find(begin)
    stop = document.find(end, start) if start >= 0 else -1
    if start < 0 or stop < 0:
        return None
    return document[: start + len(begin)] + "\n" + table + document[stop:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m welfare_sim.sim.parameters_table", description=__doc__.split("\n")[0]
    )
    parser.add_argument("scenario", type=Path)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="MARKDOWN", help="replace the table between the markers")
    group.add_argument("--check", type=Path, metavar="MARKDOWN", help="exit 1 if the table there is out of date")
    args = parser.parse_args(argv)
    if not args.scenario.is_file():
        print(f"{args.scenario}: no such scenario file; give a path such as scenarios/hoa_binh.yaml", file=sys.stderr)
        return 2
    name = args.scenario.as_posix()
    table = markdown(args.scenario, name)
    if args.write is None and args.check is None:
        sys.stdout.write(table)
        return 0
    target: Path = args.write or args.check
    begin, end = _markers(name)
    if not target.is_file():
        print(f"{target}: no such file; it must hold the lines {begin} and {end}", file=sys.stderr)
        return 2
    document = target.read_text(encoding="utf-8")
    if args.check is not None:
        current = embedded(document, name)
        if current is None:
            print(f"{target}: no lines {begin} … {end}; add them where the table goes", file=sys.stderr)
            return 2
        if current != table:
            print(
                f"{target}: the parameter table of {name} is out of date; run "
                f"python -m welfare_sim.sim.parameters_table {name} --write {target}",
                file=sys.stderr,
            )
            return 1
        return 0
    updated = replace_embedded(document, name, table)
    if updated is None:
        print(
            f"{target}: no lines {begin} … {end}; add them where the table goes (the file is left as it is)",
            file=sys.stderr,
        )
        return 2
    from welfare_sim.sim.publish import atomic_write_bytes

    atomic_write_bytes(target, updated.encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
