"""report.html as a person sees it: opened in headless Chromium (Debian's `chromium`), every chart
decoded and drawn, no console error, no request beyond the file itself, and a screenshot saved.

Chromium is driven over the DevTools protocol (package websocket-client). Without Chromium the
test is skipped, unless CI is set: there a missing browser is a failure. Screenshots are saved in
each test's tmp_path (report-run-en.png, report-run-vi.png, report-comparison-en.png, ...), and
copied to $REPORT_SCREENSHOTS when that is set.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from welfare_sim.sim.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH = 1200

if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); CI installs it",
        allow_module_level=True,
    )


class Page:
    """One browser tab, spoken to over the DevTools protocol."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client, a test dependency

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    def wait_for(self, method: str, timeout_s: float = 60) -> None:
        end = time.monotonic() + timeout_s
        while not any(e.get("method") == method for e in self.events):
            assert time.monotonic() < end, f"no {method} within {timeout_s} s"
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str) -> object:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in result, result
        return result["result"]["value"]

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A headless Chromium with no network habits of its own; yields its DevTools port."""
    assert CHROMIUM is not None, (
        "CI is set but chromium is not installed: apt-get install -y chromium"
    )
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, f"chromium exited with {proc.returncode}"
            assert time.monotonic() < end, "chromium did not open its DevTools port within 60 s"
            time.sleep(0.05)
        yield int(port_file.read_text().split()[0])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def open_page(port: int, html: Path, screenshot: Path) -> dict:
    """Load the page, check it as a reader would, save a full-page screenshot; return facts."""
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    target = next(t for t in targets if t["type"] == "page")
    page = Page(target["webSocketDebuggerUrl"])
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.events.clear()
        page.call("Page.navigate", url=html.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        images = page.evaluate(
            "Promise.all([...document.images].map(i => i.decode().then(() => true, () => false)))"
            ".then(ok => [...document.images].map((i, k) => ({ok: ok[k], w: i.naturalWidth,"
            " h: i.naturalHeight, shown: i.getBoundingClientRect().width, alt: i.alt})))"
        )
        figures = page.evaluate("document.querySelectorAll('figure.chart').length")
        captions = page.evaluate(
            "[...document.querySelectorAll('figure.chart figcaption')].map(c => c.innerText)"
        )
        # each map as drawn: its size on the page, its commune circles (laid out, inside the map) and legend
        maps = page.evaluate(
            "[...document.querySelectorAll('svg.commune-map')].map(s => { const box = s.getBoundingClientRect();"
            " const cs = [...s.querySelectorAll('circle.commune')].map(c => c.getBoundingClientRect());"
            " return {figure: s.dataset.figure, w: box.width, h: box.height, communes: cs.length,"
            " drawn: cs.filter(c => c.width > 1 && c.left >= box.left - 1 && c.right <= box.right + 1"
            " && c.top >= box.top - 1 && c.bottom <= box.bottom + 1).length,"
            " points: s.querySelectorAll('g.point').length,"
            " swatches: s.querySelectorAll('g.legend rect.swatch').length,"
            " legend: s.querySelector('g.legend') ? s.querySelector('g.legend').textContent : ''}; })"
        )
        height = page.evaluate("document.documentElement.scrollHeight")
        # wider than the window = a table or chart the reader has to scroll sideways for
        overflow = page.evaluate(
            "[...document.querySelectorAll('main *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".map(e => e.tagName + ' ' + (e.innerText || '').slice(0, 60))"
        )
        page_width = page.evaluate("document.documentElement.scrollWidth")
        shot = page.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        errors = [
            e["params"]
            for e in page.events
            if (
                e.get("method") == "Runtime.consoleAPICalled"
                and e["params"].get("type") in {"error", "assert"}
            )
            or e.get("method") == "Runtime.exceptionThrown"
            or (
                e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"
            )
        ]
        requests = [
            e["params"]["request"]["url"]
            for e in page.events
            if e.get("method") == "Network.requestWillBeSent"
        ]
    finally:
        page.close()
    return {
        "images": images,
        "figures": figures,
        "captions": captions,
        "maps": maps,
        "errors": errors,
        "requests": requests,
        "height": height,
        "overflow": overflow,
        "page_width": page_width,
    }


def check_page(facts: dict, html: Path, charts: int, screenshot: Path) -> None:
    assert facts["errors"] == [], facts["errors"]
    assert facts["figures"] == charts
    assert len(facts["images"]) == charts
    for image in facts["images"]:
        assert image["ok"], f"chart did not decode: {image['alt'][:80]}"
        assert image["w"] > 400 and image["h"] > 200, image
        assert image["shown"] > 400, image  # laid out at a readable size
    assert all(len(c) > 40 for c in facts["captions"]), facts["captions"]
    # the file itself and its embedded data: nothing from the network or from other files
    outside = [
        u for u in facts["requests"] if not (u.startswith("data:") or u == html.resolve().as_uri())
    ]
    assert outside == []
    assert screenshot.stat().st_size > 50_000
    assert facts["height"] > 2000
    assert facts["overflow"] == [] and facts["page_width"] <= WIDTH, facts["overflow"][:5]
    keep = os.environ.get("REPORT_SCREENSHOTS")
    if keep:  # a folder to collect the screenshots in, e.g. as CI artefacts
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep) / screenshot.name)


def check_maps(facts: dict, communes: int, legend_words: tuple[str, ...]) -> None:
    """Four maps, each with one circle per commune drawn inside it, points and a legend with units."""
    maps = facts["maps"]
    assert [m["figure"] for m in maps] == ["coverage", "unpaid", "wait", "cost"]
    for m in maps:
        assert m["w"] > 400 and m["h"] > 300, m
        assert m["communes"] == m["drawn"] == communes, m
        assert m["points"] > communes / 2 and m["swatches"] >= 5, m
    for m, word in zip(maps, legend_words, strict=True):
        assert word in m["legend"], (word, m["legend"])


def test_run_report_renders_in_chromium(browser: int, tmp_path: Path) -> None:
    from test_report import HOA_BINH

    from welfare_sim.sim.report.i18n import Lang
    from welfare_sim.sim.run import write_run
    from welfare_sim.sim.scenario import load_scenario

    folder = tmp_path / "run"
    write_run(
        load_scenario(HOA_BINH, ["months=3"]), folder, source=str(HOA_BINH), overrides=["months=3"]
    )
    communes = 151  # Hòa Bình's, from the register
    for lang in ("en", "vi"):
        html = write_report(folder, lang)
        screenshot = tmp_path / f"report-run-{lang}.png"
        facts = open_page(browser, html, screenshot)
        check_page(facts, html, 6, screenshot)
        words = Lang(lang)
        units = (words.t("unit.share"), words.t("unit.share"), words.t("unit.min"), "VND")
        check_maps(facts, communes, tuple(words.t("map.legend", unit=u) for u in units))
        print(f"screenshot: {screenshot}")


def test_comparison_report_renders_in_chromium(browser: int, tmp_path: Path) -> None:
    """Four strategies with long names: the table must still fit the window."""
    from test_report import build_comparison

    folder = build_comparison(tmp_path / "comparison", wide=True)
    for lang in ("en", "vi"):
        html = write_report(folder, lang)
        screenshot = tmp_path / f"report-comparison-{lang}.png"
        check_page(open_page(browser, html, screenshot), html, 4, screenshot)  # 3 charts and the cost-effectiveness one
        print(f"screenshot: {screenshot}")
