"""The analysis as a user gets it: a real 40-trial search run through the CLI, then
``hypermax analyze``, ``export --what <table>``, ``predict`` and ``suggest-fixed`` on its
results folder, and the HTML report loaded in a real (headless) browser."""

from __future__ import annotations

import csv
import io
import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

from hypermax import analysis

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

SPACE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 5},
        "model": {
            "type": "object",
            "properties": {
                "c": {"type": "number", "min": 0.1, "max": 10, "scaling": "logarithmic"},
                "kind": {"type": "string", "enum": ["linear", "rbf"]},
            },
        },
    },
}
# x drives the loss (best at 1), rbf costs 0.5, c does nothing; the model reports its time
MODEL = """\
def train(p):
    penalty = 0.5 if p["model"]["kind"] == "rbf" else 0.0
    return {"loss": (p["x"] - 1) ** 2 + penalty, "time": 1.0 + 0.1 * abs(p["x"])}
"""
TRIALS = 40
PARAMETERS = {"x", "model.c", "model.kind"}


def true_loss(params: dict[str, Any]) -> float:
    return (params["x"] - 1) ** 2 + (0.5 if params["model"]["kind"] == "rbf" else 0.0)


def true_time(params: dict[str, Any]) -> float:
    return 1.0 + 0.1 * abs(params["x"])


COLUMNS = {
    "correlations": ["parameter", "target", "spearman", "pearson", "trials"],
    "importance": ["parameter", "mean", "std"],
    "slices": ["parameter", "bin", "mean_loss", "min_loss"],
    "hotspots": [
        "x",
        "y",
        "x_bin",
        "y_bin",
        "mean_loss",
        "median_loss",
        "min_loss",
        "trials",
    ],
    "coverage": ["parameter", "trials", "distinct", "covered"],
}
TABLES = list(COLUMNS)
PNGS = {
    "history",
    "importance",
    "hotspot-1",
    "hotspot-2",
    "hotspot-3",
    "slice-x",
    "slice-model.c",
    "slice-model.kind",
}
CHARTS = {
    "chart-history",
    "chart-correlations",
    "chart-importance",
    "chart-hotspot-1",
    "chart-hotspot-2",
    "chart-hotspot-3",
    "chart-slice-x",
    "chart-slice-model.c",
    "chart-slice-model.kind",
}


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def csv_header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


def strict_json(text: str) -> Any:
    """Parse as any JSON reader would: NaN and Infinity are not JSON."""

    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not valid JSON")

    return json.loads(text, parse_constant=reject)


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, search_runner) -> Path:
    """The results folder of a finished 40-trial random search."""
    folder = tmp_path_factory.mktemp("report")
    return search_runner(folder, MODEL, SPACE, name="report", iterations=TRIALS)


@pytest.fixture(scope="module")
def report(results: Path, cli) -> Path:
    """``hypermax analyze RESULTS``; returns the analysis folder."""
    code, out, err = cli("analyze", results)
    assert code == 0, err
    folder = results / "analysis"
    assert f"Wrote {folder / 'report.html'}" in out
    return folder


@pytest.fixture(scope="module")
def exports(results: Path, cli) -> dict[tuple[str, str], str]:
    """stdout of ``hypermax export RESULTS --what TABLE --format csv|json`` for every table."""
    found = {}
    for what in TABLES:
        for form in ("csv", "json"):
            code, out, err = cli("export", results, "--what", what, "--format", form)
            assert code == 0, (what, form, err)
            assert err == ""
            found[what, form] = out
    return found


# --- analyze ------------------------------------------------------------------------------


def test_analyze_writes_the_report_pngs_and_csvs(report: Path) -> None:
    assert (report / "report.html").is_file()
    pngs = {p.stem: p for p in (report / "png").glob("*.png")}
    assert set(pngs) == PNGS
    for path in pngs.values():
        assert is_png(path), path
        assert path.stat().st_size > 1000
    assert {p.stem for p in (report / "csv").glob("*.csv")} == set(TABLES)
    for what, columns in COLUMNS.items():
        text = (report / "csv" / f"{what}.csv").read_text("utf-8")
        assert csv_header(text) == columns, what
        assert csv_rows(text), what


def test_the_report_csvs_say_what_the_search_shows(report: Path) -> None:
    def rows(what: str) -> list[dict[str, str]]:
        return csv_rows((report / "csv" / f"{what}.csv").read_text("utf-8"))

    importance = rows("importance")
    assert importance[0]["parameter"] == "x"  # x alone moves the loss much
    assert {r["parameter"] for r in importance} == PARAMETERS
    coverage = {r["parameter"]: r for r in rows("coverage")}
    assert set(coverage) == PARAMETERS
    assert {r["trials"] for r in coverage.values()} == {str(TRIALS)}
    assert coverage["model.kind"]["distinct"] == "2"
    correlations = {(r["parameter"], r["target"]) for r in rows("correlations")}
    assert {("x", "loss"), ("model.c", "loss"), ("model.kind=rbf", "loss")} <= correlations
    hotspots = rows("hotspots")
    pairs = {(r["x"], r["y"]) for r in hotspots}
    assert len(pairs) == 3
    for pair in pairs:
        assert sum(int(r["trials"]) for r in hotspots if (r["x"], r["y"]) == pair) == TRIALS
    slices = rows("slices")
    assert {r["parameter"] for r in slices} == PARAMETERS
    kind_bins = [r["bin"] for r in slices if r["parameter"] == "model.kind"]
    assert sorted(kind_bins) == ["linear", "rbf"]  # one bin per category
    assert len([r for r in slices if r["parameter"] == "x"]) == 10


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def test_the_html_report_is_self_contained(report: Path) -> None:
    page = (report / "report.html").read_text("utf-8")
    tags = _Tags()
    tags.feed(page)
    external = [
        (tag, attrs)
        for tag, attrs in tags.tags
        if tag in ("script", "link", "img", "iframe")
        for key in ("src", "href")
        if (attrs.get(key) or "").startswith(("http://", "https://", "//"))
    ]
    assert external == []
    assert not [attrs for tag, attrs in tags.tags if tag == "script" and attrs.get("src")]
    assert any(get_plotlyjs() in script for script in tags.scripts)  # plotly.js inlined
    charts = {attrs.get("id") for tag, attrs in tags.tags if tag == "div"} & CHARTS
    assert charts == CHARTS


def test_the_html_report_states_the_numbers(report: Path) -> None:
    page = (report / "report.html").read_text("utf-8")
    assert f"{TRIALS} successful trials, 0 failed or killed" in page
    assert "Hyper-model" in page and "cross-validated R²" in page
    assert "and the trial time with R²" in page
    assert "Search space" in page


# --- export -------------------------------------------------------------------------------


@pytest.mark.parametrize("what", TABLES)
def test_export_csv_has_the_expected_columns(
    exports: dict[tuple[str, str], str], report: Path, what: str
) -> None:
    text = exports[what, "csv"]
    assert csv_header(text) == COLUMNS[what]
    assert len(csv_rows(text)) > 0
    # the same table as the report's, computed again from the same folder
    assert text == (report / "csv" / f"{what}.csv").read_text("utf-8")


@pytest.mark.parametrize("what", TABLES)
def test_export_json_has_the_expected_keys(exports: dict[tuple[str, str], str], what: str) -> None:
    rows = json.loads(exports[what, "json"])
    assert isinstance(rows, list) and rows
    assert all(list(row) == COLUMNS[what] for row in rows)
    assert len(rows) == len(csv_rows(exports[what, "csv"]))
    numeric = [c for c in COLUMNS[what] if c not in ("parameter", "target", "bin", "x", "y")]
    numeric = [c for c in numeric if not c.endswith("_bin")]
    for row in rows:
        for column in numeric:
            # null where a figure is undefined (an empty hotspot cell): JSON has no NaN
            assert row[column] is None or isinstance(row[column], (int, float)), (column, row)


@pytest.mark.parametrize("what", TABLES)
def test_export_json_is_valid_json(exports: dict[tuple[str, str], str], what: str) -> None:
    """Strict JSON (jq, JavaScript, other languages): an empty hotspot cell or slice bin is
    ``null``, never the non-standard ``NaN``."""
    rows = strict_json(exports[what, "json"])
    assert len(rows) == len(csv_rows(exports[what, "csv"]))


@pytest.mark.slow
def test_export_importance_png(results: Path, cli, tmp_path: Path) -> None:
    target = tmp_path / "charts"
    code, out, err = cli(
        "export", results, "--what", "importance", "--format", "png", "--output", target
    )
    assert code == 0, err
    assert [p.name for p in target.iterdir()] == ["importance.png"]
    assert is_png(target / "importance.png")
    assert out.strip() == str(target / "importance.png")


# --- predict and suggest-fixed ------------------------------------------------------------


@pytest.mark.slow
def test_predict_prints_loss_time_and_model_accuracy(results: Path, cli) -> None:
    params = {"x": 1.0, "model": {"c": 1.0, "kind": "linear"}}
    code, out, err = cli("predict", results, "--params", json.dumps(params))
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) == {"loss", "time", "model_r2"}
    assert answer["model_r2"] > 0.9
    assert answer["loss"] == pytest.approx(true_loss(params), abs=1.0)
    assert answer["time"] == pytest.approx(true_time(params), abs=0.1)


@pytest.mark.slow
def test_suggest_fixed_holds_the_fixed_values(results: Path, cli) -> None:
    code, out, err = cli(
        "suggest-fixed", results, "--fix", "model.kind=rbf", "--fix", "model.c=2.5"
    )
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) == {"params", "predicted_loss", "model_r2"}
    params = answer["params"]
    assert params["model"] == {"kind": "rbf", "c": 2.5}
    assert params["x"] == pytest.approx(1.0, abs=0.75)  # the best x whatever the rest
    assert answer["predicted_loss"] == pytest.approx(true_loss(params), abs=1.0)


WRONG_PARAMS = [
    (
        {"x": 1.0, "model": {"c": 1.0, "kind": "rbff"}},
        "model.kind: 'rbff' is not one of 'linear', 'rbf'",
    ),
    ({"x": 7, "model": {"c": 1.0, "kind": "rbf"}}, "x: 7 is outside [-5, 5]"),
    (
        {"x": "one", "model": {"c": 1.0, "kind": "rbf"}},
        "x: 'one' is not a number; give a number from -5 to 5",
    ),
    ({"model": {"c": 1.0, "kind": "rbf"}}, "x: missing; give a value (a number from -5 to 5)"),
    (
        {"x": 1.0, "model": {"kind": "rbf"}},
        "model.c: missing; give a value (a number from 0.1 to 10)",
    ),
    (
        {"xx": 1.0, "model": {"c": 1.0, "kind": "rbf"}},
        "--params: xx: not a parameter of this search; did you mean 'x'?",
    ),
    (
        {"x": 1.0, "model": "rbf"},
        "model: 'rbf' is not an object; give an object with 'c', 'kind'",
    ),
]


@pytest.mark.parametrize(("params", "message"), WRONG_PARAMS)
def test_predict_names_the_parameter_the_value_and_what_is_allowed(
    results: Path, cli, params: dict, message: str
) -> None:
    code, out, err = cli("predict", results, "--params", json.dumps(params))
    assert code != 0 and out == ""
    assert message in err, err


@pytest.mark.parametrize(
    ("fix", "message"),
    [
        ("model.kind=rbff", "model.kind: 'rbff' is not one of 'linear', 'rbf'"),
        ("x=7", "x: 7 is outside [-5, 5]"),
        ("model.c=0.01", "model.c: 0.01 is outside [0.1, 10]"),
        ("x=one", "x: 'one' is not a number; give a number from -5 to 5"),
    ],
)
def test_suggest_fixed_names_the_parameter_the_value_and_what_is_allowed(
    results: Path, cli, fix: str, message: str
) -> None:
    code, out, err = cli("suggest-fixed", results, "--fix", fix)
    assert code != 0 and out == ""
    assert message in err, err


def test_load_table_takes_the_folder_as_text_as_documented(results: Path) -> None:
    """The README's example passes a string: ``analysis.load_table("hypermax_results/x")``."""
    table = analysis.load_table(str(results))  # type: ignore[arg-type]
    assert len(table) == TRIALS


# --- a search with too few trials for the hyper-model ---------------------------------------


def test_a_small_search_gets_a_report_without_a_hyper_model(
    tmp_path: Path, search_runner, cli
) -> None:
    results = search_runner(tmp_path, MODEL, SPACE, name="small", iterations=5)
    code, out, err = cli("analyze", results)
    assert code == 0, err
    folder = results / "analysis"
    page = (folder / "report.html").read_text("utf-8")
    assert "needs at least 8 successful trials, this search has 5" in page
    assert "Hyper-model" not in page
    assert not (folder / "csv" / "importance.csv").exists()
    assert not (folder / "png" / "importance.png").exists()
    assert (folder / "csv" / "correlations.csv").is_file()
    code, out, err = cli("export", results, "--what", "importance", "--format", "json")
    assert code == 1
    assert "at least 8 successful trials" in err
    assert "Traceback" not in err and out == ""


# --- the report in a real browser ---------------------------------------------------------


def _chromium_or_skip() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"the browser test needs Chromium and chromedriver; missing: {missing}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run it: install chromium and chromium-driver)")
        pytest.skip(message)


def test_the_report_renders_in_a_browser_without_errors(report: Path, tmp_path: Path) -> None:
    _chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = Options()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get((report / "report.html").resolve().as_uri())
        assert driver.execute_script("return typeof Plotly") != "undefined"  # inlined, ran
        charts = driver.find_elements(By.CSS_SELECTOR, "div[id^='chart-']")
        assert {c.get_attribute("id") for c in charts} == CHARTS

        def rendered(browser: Any) -> bool:
            divs = browser.find_elements(By.CSS_SELECTOR, "div[id^='chart-']")
            return all(div.find_elements(By.CSS_SELECTOR, ".main-svg") for div in divs)

        WebDriverWait(driver, 30).until(rendered)
        for chart in charts:
            traces = driver.execute_script(
                "const d = document.getElementById(arguments[0]);"
                "return d && d.data ? d.data.length : 0;",
                chart.get_attribute("id"),
            )
            assert traces > 0, chart.get_attribute("id")
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name);"
        )
        assert fetched == []  # nothing loaded from anywhere: the page works offline
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()
