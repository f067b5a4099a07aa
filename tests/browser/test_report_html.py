"""`report.html` of `lyap analyze` in a real headless browser (Chromium driven through
chromedriver by selenium): the page loads without console errors (browser log level SEVERE,
which includes images that fail to load), every <img> has a nonzero natural size, and the
report's sections exist (docs/DESIGN.md section 6, "report.html").

Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
`.ci/run` installs them). Without them the test is skipped with the reason printed, except in
CI (`CI` or `LYAP_REQUIRE_SHARED=1` set), where their absence is a failure.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A sweep small enough for a debug build (a few seconds), with running estimates (Fig. 2):
# fixed `lyap train` flags, and the learning rate drawn log-uniformly.
TRAIN = {
    "task": '"synthetic-text"',
    "hidden": 8,
    "epochs": 3,
    "batch-size": 8,
    "seq-len": 16,
    "max-chars": 3000,
    "le-batch": 2,
    "le-steps": 16,
    "le-trace": "true",
}
SPEC = "\n".join(
    ["trials = 4", "seed = 1", "[train]"]
    + [f"{key} = {value}" for key, value in TRAIN.items()]
    + ["[sample.lr]", 'dist = "loguniform"', "low = 0.003", "high = 0.05", ""]
)

SECTIONS = [
    "verdict",
    "loss-curves",
    "spectra",
    "fig2",
    "fig3",
    "fig4",
    "early-readout",
    "cost",
    "correlations",
    "trials",
    "failed",
]

# Sections that must show at least one figure.
WITH_FIGURES = ["loss-curves", "spectra", "fig2", "fig3", "fig4", "early-readout"]


def required():
    ci = os.environ.get("CI", "") not in ("", "0", "false")
    return ci or os.environ.get("LYAP_REQUIRE_SHARED") == "1"


def missing(reason):
    if required():
        pytest.fail(f"{reason} (CI or LYAP_REQUIRE_SHARED=1 set)")
    print(f"skipping: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        missing("chromium and chromedriver not found (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    lyap = os.environ.get("LYAP_BIN") or str(REPO / "target" / "debug" / "lyap")
    work = tmp_path_factory.mktemp("browser")
    (work / "sweep.toml").write_text(SPEC)
    for args in (
        ["sweep", "sweep.toml", "--out", "sw", "--workers", "2"],
        ["analyze", "sw", "--resamples", "200"],
    ):
        done = subprocess.run([lyap, *args], cwd=work, capture_output=True, text=True)
        assert done.returncode == 0, f"lyap {args}: {done.stderr}"
    path = work / "sw" / "analysis" / "report.html"
    assert path.is_file()
    return path


def test_report_loads_with_images_and_sections_and_no_console_errors(browser, report):
    browser.get(report.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert severe == [], severe
    images = browser.execute_script(
        "return Array.from(document.images).map(i => "
        "[i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight]);"
    )
    assert len(images) >= 10, images
    for src, complete, width, height in images:
        assert complete and width > 0 and height > 0, (src, complete, width, height)
    for section in SECTIONS:
        found = browser.execute_script(
            "const s = document.getElementById(arguments[0]);"
            "return s ? [s.querySelectorAll('h2').length, s.querySelectorAll('img').length,"
            " s.querySelectorAll('table, pre').length] : null;",
            section,
        )
        assert found is not None, f"section #{section} missing"
        headings, figures, tables = found
        assert headings == 1, section
        if section in WITH_FIGURES:
            assert figures >= 1, f"section #{section} has no figure"
    verdict = browser.execute_script("return document.querySelector('#verdict pre').textContent")
    assert "trials; final loss" in verdict, verdict
    cost = browser.execute_script("return document.getElementById('cost').textContent")
    assert "at this setting: task = synthetic-text" in cost, cost
