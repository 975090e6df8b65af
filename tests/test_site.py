"""The course's website (scripts/build_site.py): built once from the committed notebooks, offline, then
checked page by page: both editions and their language switch, every figure shown with alternative
text, math and interactive figures from bundled files, search, and nothing loaded from the network.
Then a real headless Chromium opens the home page and one lesson per edition, and must report no
console error and no request that leaves the site."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import build_site

NOTEBOOKS = build_site.NOTEBOOKS
LESSONS = {
    "en": sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")),
    "es": sorted((NOTEBOOKS / "es").glob("[0-9][0-9]_*.ipynb")),
}
EXTERNAL = re.compile(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)=["'](https?:)?//""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    seconds = build_site.build(out)
    print(f"site built in {seconds:.0f} s")
    return out


def page(site: Path, edition: str, notebook: Path) -> str:
    return (site / edition / notebook.with_suffix(".html").name).read_text(encoding="utf-8")


def figures_in(notebook: Path) -> int:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(any(k.startswith("image/") or k == build_site.PLOTLY for k in o.get("data", {}))
               for c in cells for o in c.get("outputs", []))  # fmt: skip


def test_every_lesson_of_both_editions_has_a_page(site):
    assert (site / "index.html").exists() and (site / "es" / "index.html").exists()
    for edition, notebooks in LESSONS.items():
        assert len(notebooks) == 7
        for notebook in notebooks:
            assert (site / edition / notebook.with_suffix(".html").name).exists(), notebook.name


def test_each_page_links_to_its_twin_in_the_other_language(site):
    for english, spanish in zip(LESSONS["en"], LESSONS["es"], strict=True):
        assert f'href="../es/{spanish.with_suffix(".html").name}" hreflang="es"' in page(site, "en", english)
        assert f'href="../en/{english.with_suffix(".html").name}" hreflang="en"' in page(site, "es", spanish)
    assert 'href="es/index.html" hreflang="es"' in (site / "index.html").read_text(encoding="utf-8")


def test_every_figure_is_shown_with_alternative_text(site):
    for edition, notebooks in LESSONS.items():
        for notebook in notebooks:
            html = page(site, edition, notebook)
            images = re.findall(r"<img\b[^>]*>", html)
            live = re.findall(r'<div class="plotly-figure" role="img" aria-label="([^"]+)"', html)
            assert len(images) + len(live) >= figures_in(notebook), f"{notebook.name}: a figure is missing"
            for tag in images:
                alt = re.search(r'alt="([^"]*)"', tag)
                assert alt and alt.group(1).strip(), f"{notebook.name}: {tag[:120]} has no alternative text"


def test_nothing_is_loaded_from_the_network(site):
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), f"{html.relative_to(site)} loads {EXTERNAL.search(text).group(0)}"
    assert (site / "_static" / "plotly.min.js").stat().st_size > 1_000_000  # the real plotly.js, bundled
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_math_is_typeset_by_the_bundled_mathjax(site):
    html = page(site, "en", LESSONS["en"][1])  # lesson 02 writes the cosine formula
    assert 'src="../_static/mathjax/tex-chtml.js' in html
    assert re.search(r'class="math[^"]*"', html) and "\\cos" in html


def test_the_interactive_figures_are_drawn_by_the_bundled_plotly(site):
    for edition in ("en", "es"):
        html = page(site, edition, LESSONS[edition][1])
        figure = re.search(r'data-figure="([^"]+)"', html)
        assert figure, f"{edition}/02 has no interactive figure"
        assert '"data"' in figure.group(1).replace("&quot;", '"')
        assert '_static/plotly.min.js' in html and '_static/plotly-render.js' in html


def test_search_covers_both_editions(site):
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    assert "cosin" in index and "similitud" in index
    assert (site / "search.html").exists()


# ---------------------------------------------------------------- in a real browser

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


class Chromium:
    """Headless Chromium driven over the DevTools protocol: console errors, exceptions, requests."""

    def __init__(self, binary: str):
        import websocket

        self.profile = tempfile.mkdtemp(prefix="site-chromium-")
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(_get(f"http://127.0.0.1:{port}/json/list"))
        target = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id, self.events = 0, []
        for method in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            self.call(method)

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})
            self.events.append(message)

    def visit(self, url: str, settle: float = 3.0) -> list[dict]:
        """Open ``url``, wait for it to load and settle; the events it caused."""
        self.events = []
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        loaded = False
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == "Page.loadEventFired":
                loaded = True
                break
        assert loaded, f"{url} did not finish loading"
        end = time.monotonic() + settle
        while time.monotonic() < end:
            self.ws.settimeout(max(0.05, end - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except Exception:  # the settle time is over
                break
        return self.events

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


def _get(url: str) -> str:
    from urllib.request import urlopen

    with urlopen(url, timeout=30) as response:
        return response.read().decode()


def problems(events: list[dict], origin: str) -> list[str]:
    found = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get('exception', {}).get('description', '')[:200]
            found.append(f"exception: {details.get('text')} {description}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            found.append(f"console.error: {[a.get('value') for a in params.get('args', [])]}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith((origin, "data:", "blob:", "about:")):
                found.append(f"request to {url}")
    return found  # fmt: skip


@pytest.fixture(scope="module")
def served(site):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here: `apt-get install chromium` (.ci/run installs it)")
def test_pages_render_in_a_real_browser_without_errors_or_network(served):
    browser = Chromium(CHROMIUM)
    try:
        lessons = [("en", LESSONS["en"][1]), ("es", LESSONS["es"][1]), ("en", LESSONS["en"][3])]
        pages = ["/index.html"] + [f"/{edition}/{notebook.with_suffix('.html').name}" for edition, notebook in lessons]
        for path in pages:
            events = browser.visit(served + path)
            assert problems(events, served) == [], path
            assert browser.evaluate("document.querySelectorAll('img').length > 0 || document.title.length > 0")
            if "/02_" in path:  # the interactive figure was drawn, and the cosine formula typeset
                assert browser.evaluate("document.querySelectorAll('.plotly-figure .main-svg').length") > 0, path
                assert browser.evaluate("document.querySelectorAll('mjx-container').length") > 0, path
    finally:
        browser.close()


def test_the_pages_workflow_pins_its_actions_and_asks_for_the_least():
    import yaml

    workflow = (build_site.ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    uses = re.findall(r"uses:\s*(\S+)", workflow)
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) for u in uses), uses
    spec = yaml.safe_load(workflow)
    assert spec["permissions"] == {"contents": "read"}
    assert spec["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "permissions" not in spec["jobs"]["build"]
    assert "python scripts/build_site.py" in workflow
