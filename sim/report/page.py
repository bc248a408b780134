"""report.html: one self-contained page (inline CSS, charts as embedded PNG, the map as inline SVG, no script)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from welfare_sim.sim.report.charts import Chart
from welfare_sim.sim.report.i18n import Lang

CSS = """
:root { --ink: #1b1f24; --muted: #5b6570; --line: #d9dee3; --accent: #1f4e79; --card: #f4f7fa; }
* { box-sizing: border-box; }
body {
  margin: 0;
  color: var(--ink);
  background: #fff;
  font: 15px/1.5 "Segoe UI", "Noto Sans", "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
}
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; color: var(--accent); }
h2 {
  font-size: 19px;
  margin: 36px 0 12px;
  padding-bottom: 4px;
  border-bottom: 2px solid var(--line);
}
p.sub { margin: 0 0 8px; color: var(--muted); }
p.note { color: var(--muted); font-size: 13px; }
.cards {
  display: grid;
  grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
  gap: 12px;
  margin: 16px 0;
}
.card { background: var(--card); border-radius: 8px; padding: 12px 14px; }
.card .v { font-size: 22px; font-weight: 700; color: var(--accent); white-space: nowrap; }
.card .l { font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 8px 0 4px; }
th, td {
  padding: 5px 8px;
  border-bottom: 1px solid var(--line);
  text-align: left;
  vertical-align: top;
}
th { background: var(--card); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
td:first-child { min-width: 9em; }
tr.yes td { font-weight: 600; }
figure { margin: 24px 0 30px; }
figure img {
  display: block;
  max-width: 100%;
  height: auto;
  border: 1px solid var(--line);
  border-radius: 6px;
}
figcaption { margin-top: 8px; font-size: 14.5px; }
figcaption b { color: var(--accent); }
table.cmp th { overflow-wrap: anywhere; }
table.cmp td.n { white-space: normal; }
table.cmp td:first-child { min-width: 14em; }
table.cmp .m { font-weight: 600; white-space: nowrap; }
table.cmp .d { color: var(--muted); font-size: 12.5px; }
table.cmp .d.yes { color: var(--ink); }
tr.group td { background: #fbfcfd; font-weight: 600; color: var(--accent); padding-top: 10px; }
ul.strategies { margin: 8px 0 12px; padding-left: 20px; }
.maps { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
figure.map { margin: 8px 0; }
figure.map svg { display: block; width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figure.map figcaption { font-weight: 600; color: var(--accent); }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
@media print { main { max-width: none; padding: 0; } figure, table { break-inside: avoid; } }
"""


class Raw(str):
    """Text that is already HTML (built here from escaped parts): table() does not escape it."""


def esc(text: object) -> str:
    if isinstance(text, Raw):
        return str(text)
    return html.escape(str(text), quote=True)


def figure(chart: Chart, lang: Lang) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure id="chart-{esc(chart.key)}" class="chart">'
        f'<img src="data:image/png;base64,{data}" alt="{esc(chart.title)}. {esc(chart.reading)}">'
        f"<figcaption><b>{esc(lang.t('reading'))}:</b> {esc(chart.reading)}</figcaption></figure>"
    )


def cards(items: Sequence[tuple[str, str]]) -> str:
    inner = "".join(
        f'<div class="card"><div class="v">{esc(v)}</div><div class="l">{esc(label)}</div></div>'
        for v, label in items
    )
    return f'<div class="cards">{inner}</div>'


def table(
    header: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[tuple[str, bool]]],
    row_classes: Sequence[str] | None = None,
    css_class: str = "",
) -> str:
    """A table; each cell is (text, is_number) so numbers align right."""
    head = "".join(f'<th class="{"n" if num else ""}">{esc(text)}</th>' for text, num in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(f'<td class="{"n" if num else ""}">{esc(text)}</td>' for text, num in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(lang: Lang, title: str, subtitle: str, sections: Sequence[str], footer: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # no favicon request: the page must open without any network or sibling file
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f'<body><main><header><h1>{esc(title)}</h1><p class="sub">{esc(subtitle)}</p></header>\n'
        + "\n".join(sections)
        + f"\n<footer>{footer}</footer></main></body></html>\n"
    )
