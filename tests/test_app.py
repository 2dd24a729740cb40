"""The explorer end to end: ``solara run sim/ui/explorer.py`` on localhost, driven by headless
Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and the ``ui``
extra. A missing browser fails this test: it never skips.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from sim.ui import explorer

APP = Path(__file__).resolve().parents[1] / "sim" / "ui" / "explorer.py"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SERVER_START_TIMEOUT = 120  # s until the server answers (imports the model and builds it)
RENDER_TIMEOUT = 60  # s until widgets show in the page (a shared 2-core machine is slow)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("solara") / "server.log"
    solara = Path(sys.executable).with_name("solara")
    cmd = [
        str(solara),
        "run",
        str(APP),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"solara exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"solara not up after {SERVER_START_TIMEOUT} s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own process group: solara and children
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(path), f"{path} missing: apt-get install chromium chromium-driver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1800",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium-manager must not try to download one.
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def _body(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def _wait_text(driver, needle: str, log: Path, timeout: float = RENDER_TIMEOUT) -> None:
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: needle in _body(d))
    except Exception:
        console = "\n".join(e["message"] for e in driver.get_log("browser"))
        pytest.fail(
            f"{needle!r} not on the page after {timeout} s.\n--- page ---\n{_body(driver)}"
            f"\n--- browser console ---\n{console}\n--- server log ---\n{log.read_text()}"
        )


def _wait(driver, cond, msg: str, timeout: float = RENDER_TIMEOUT):
    # Widgets are re-rendered: stale elements and not-yet-true conditions are retried.
    return WebDriverWait(
        driver,
        timeout,
        poll_frequency=0.2,
        ignored_exceptions=(AssertionError, StaleElementReferenceException),
    ).until(cond, message=msg)


def _button(driver, label: str):
    for b in driver.find_elements(By.TAG_NAME, "button"):
        if b.text.strip().lower() == label.lower():  # CSS upper-cases button text
            return b
    raise AssertionError(f"no button {label!r}")


def _plots(driver) -> list[str]:
    """Sources of the loaded matplotlib images (solara renders each as a blob <img>)."""
    imgs = [
        i
        for i in driver.find_elements(By.TAG_NAME, "img")
        if (i.get_attribute("src") or "").startswith("blob:")
    ]
    assert len(imgs) >= 2, f"{len(imgs)} plot images on the page, expected 2"
    assert all(i.get_property("naturalWidth") > 0 for i in imgs), "a plot image did not load"
    return [i.get_attribute("src") for i in imgs]


def _slider_values(driver) -> dict[str, str]:
    """Each slider's label and the value printed beside it."""
    knobs = driver.find_elements(By.CSS_SELECTOR, "[role='slider']")
    shown = driver.find_elements(By.CSS_SELECTOR, ".slider-value")
    assert len(knobs) == len(shown), f"{len(knobs)} sliders, {len(shown)} values shown"
    out = {k.get_attribute("aria-label"): v.text.strip() for k, v in zip(knobs, shown, strict=True)}
    assert all(out.values()), out
    return out


def test_explorer_renders_steps_and_rebuilds_from_a_slider(server, browser):
    url, log = server
    browser.get(url)
    # Rendered by JavaScript over the websocket: the plain HTML only says "Loading app".
    _wait_text(browser, "month 0 of 72", log)
    _wait_text(browser, "talent 1", log)
    before = _wait(browser, _plots, "no loaded plot images")
    # The browser tab and the page name the tool; Mesa's "Page 0" tab is gone.
    assert browser.title == explorer.TITLE and "PAGE 0" not in _body(browser).upper()
    # Every slider is labelled and shows its value on its thumb.
    n = len(explorer.sliders())
    labels = _wait(browser, _slider_values, "sliders without values")
    assert len(labels) == n and labels["talent lever"] == "1"
    browser.save_screenshot(str(log.with_name("explorer.png")))

    _button(browser, "Step").click()
    _wait_text(browser, "month 1 of 72", log)
    _wait(browser, lambda d: _plots(d)[0] != before[0], "adoption chart not redrawn after Step")

    # The talent lever's slider to its maximum (vuetify: End key), then Reset rebuilds the model.
    slider = browser.find_element(By.CSS_SELECTOR, "[role='slider'][aria-label='talent lever']")
    slider.send_keys(Keys.END)
    _wait(
        browser,
        lambda d: slider.get_attribute("aria-valuenow") == "3",
        "talent slider did not move",
        timeout=15,
    )
    _button(browser, "Reset").click()
    _wait_text(browser, "month 0 of 72", log)
    _wait_text(browser, "talent 3", log)
    _button(browser, "Step").click()
    _wait_text(browser, "month 1 of 72", log)
