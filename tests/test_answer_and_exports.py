"""The answer first: the report's opening section, the run's title and overrides, ``odds.csv``,
the self-contained ``report.html`` and the CF attributes of ``results.nc``."""

from __future__ import annotations

import base64
import csv
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats as scipy_stats

from sim import results
from sim.report.answer import likelihood_words
from sim.stats import rank_correlation

from helpers import MEDIUM, run_cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def withdrawn(tmp_path_factory) -> tuple[Path, str]:
    """A run with every lever withdrawn (``levers=none``), charts drawn: its folder and console."""
    out = tmp_path_factory.mktemp("withdrawn")
    r = run_cli([*MEDIUM, "levers=none", f"hydra.run.dir={out}"], cwd=out)
    assert r.returncode == 0, r.stderr
    return out, r.stdout


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


def _answer(folder: Path) -> str:
    """The report's text from its title to the first appendix heading."""
    text = (folder / "report.md").read_text()
    return text.split("## Appendix", 1)[0]


def test_the_report_opens_with_the_primary_readings_odds_equal_to_the_summary(withdrawn):
    folder, _ = withdrawn
    summary, answer = _summary(folder), _answer(folder)
    headings = re.findall(r"^## (.+)$", (folder / "report.md").read_text(), flags=re.M)
    assert headings[0] == "Answer"
    rows = [t for t in summary["targets"] if t["primary"]]
    assert {t["year"] for t in rows} == {2027, 2030}
    for t in rows:
        lo, hi = t["ci95"]
        line = next(x for x in answer.splitlines() if f"by end-{t['year']}" in x)
        assert f"{likelihood_words(t['p_hit'])}, {100 * t['p_hit']:.1f}%" in line
        assert f"95% interval {100 * lo:.1f}% to {100 * hi:.1f}%" in line
    assert "rank correlation" in answer and "**Assumptions:**" in answer


def test_a_run_without_levers_is_titled_as_such_everywhere(withdrawn):
    folder, console = withdrawn
    title = "Baseline, support withdrawn"
    assert _summary(folder)["title"] == title
    assert (folder / "report.md").read_text().splitlines()[0] == f"# {title}"
    assert f"({title})" in console.splitlines()[0]
    assert "current intensity" not in _answer(folder).split("The file describes:")[0]


def test_a_run_records_its_overrides_in_summary_report_and_console(withdrawn):
    folder, console = withdrawn
    over = _summary(folder)["overrides"]
    assert over["command_line"] == [*MEDIUM, "levers=none"]  # hydra.run.dir is no override
    assert over["scenario"] == []  # the baseline file overrides nothing
    assert "`levers=none`" in (folder / "report.md").read_text()
    assert "levers=none" in console.splitlines()[1]


def test_odds_csv_rows_equal_the_summary(withdrawn):
    folder, _ = withdrawn
    with open(folder / "odds.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    targets = _summary(folder)["targets"]
    assert len(rows) == len(targets)
    for row, t in zip(rows, targets, strict=True):
        assert (int(row["year"]), float(row["threshold"])) == (t["year"], t["threshold"])
        assert (row["metric"], row["tech"], row["primary"]) == (
            t["metric"],
            t["tech"],
            str(t["primary"]),
        )
        for key in ("p_hit", "share_median", "share_p05", "share_p95"):
            assert float(row[key]) == t[key]
        assert [float(row["ci95_low"]), float(row["ci95_high"])] == t["ci95"]


def test_report_html_embeds_every_chart_and_opens_in_chromium(withdrawn, tmp_path):
    folder, _ = withdrawn
    page = (folder / "report.html").read_text()
    charts = sorted((folder / "charts").glob("*.png"))
    assert charts
    embedded = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert sorted(embedded) == sorted(base64.b64encode(c.read_bytes()).decode() for c in charts)
    assert 'src="charts/' not in page

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(path), f"{path} missing: apt-get install chromium chromium-driver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    alone = tmp_path / "report.html"  # a copy without its charts folder: nothing else needed
    alone.write_text(page)
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    try:
        driver.get(alone.as_uri())
        assert driver.title == "Baseline, support withdrawn"
        images = driver.find_elements(By.TAG_NAME, "img")
        assert len(images) == len(charts)
        assert all(driver.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
        assert driver.save_screenshot(str(tmp_path / "report.png"))
    finally:
        driver.quit()
    assert (tmp_path / "report.png").stat().st_size > 0


def test_results_nc_follows_cf_conventions(withdrawn):
    path = withdrawn[0] / "results.nc"
    with xr.open_dataset(path, engine="h5netcdf", decode_times=False) as raw:
        assert raw.attrs["Conventions"] == "CF-1.10"
        for name, var in {**raw.data_vars, **raw.coords}.items():
            assert var.attrs.get("long_name"), name
            assert "units" in var.attrs, name
            if name.startswith("share"):
                assert var.attrs["units"] == "1"
        assert raw["time"].attrs["units"].startswith("days since")
    with xr.open_dataset(path, engine="h5netcdf") as ds:  # round trip: times decode
        assert np.issubdtype(ds["time"].dtype, np.datetime64)
        assert json.loads(ds.attrs["targets"])  # structured attributes stay readable
        assert json.loads(ds.attrs["overrides"])["command_line"]
        again = results.read(path)
    xr.testing.assert_identical(ds.load(), again)


@pytest.mark.parametrize(
    ("p", "words"),
    [(1.0, "virtually certain"), (0.9, "very likely"), (0.5, "about as likely as not"),
     (0.2, "unlikely"), (0.05, "very unlikely"), (0.0, "exceptionally unlikely")],
)  # fmt: skip
def test_odds_in_words_follow_the_ipcc_scale(p, words):
    assert likelihood_words(p) == words


def test_rank_correlation_is_spearmans_unweighted():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=30), rng.normal(size=30) + np.linspace(0, 2, 30)
    assert rank_correlation(x, y) == pytest.approx(scipy_stats.spearmanr(x, y).statistic)
    assert rank_correlation(x, 2 * x + 1) == pytest.approx(1.0)
    assert math.isnan(rank_correlation(np.ones(5), np.arange(5)))


def test_rank_correlation_ignores_draws_of_zero_weight_in_its_moments():
    # Ranks span every draw; the weighted draws' ranks (x: 1, 3, 5; y: 3, 4, 5) lie on a line.
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y = np.array([1.0, -9.0, 3.0, 20.0, 5.0, -3.0])
    w = np.array([1, 0, 1, 0, 1, 0])
    assert rank_correlation(x, y, weights=w) == pytest.approx(1.0)
    assert rank_correlation(x, y) < 0.9


def test_a_comparison_answers_with_each_scenarios_paired_change_or_none():
    import sim
    from sim.report.answer import comparison_answer_markdown
    from sim.report.style import pp

    comp = sim.compare(["baseline", "full_implementation", "headwinds"], overrides=MEDIUM)
    lines = comparison_answer_markdown(comp)
    assert lines[0] == "## Answer"
    primary = [j for j, t in enumerate(comp.targets) if t.primary]
    for s in comp.scenarios[1:]:
        line = next(x for x in lines if f"(`{s.scenario}`)" in x)
        for j in primary:
            c, year = s.rows[j].change, comp.targets[j].year
            lo, hi = c.p_hit_diff_ci95
            if lo <= 0 <= hi:
                assert re.search(rf"changes nothing measurable in [0-9, ]*{year}", line)
            else:
                verb = "raises" if c.p_hit_diff > 0 else "lowers"
                size = pp(abs(c.p_hit_diff)).lstrip("+")
                assert f"{verb} the {year} odds by {size} points [{pp(lo)}, {pp(hi)}]" in line
