"""The web page in headless Chromium (Debian's chromium + chromium-driver, through Selenium).

An image is dropped on the page (a real ``drop`` event carrying a File), a second is picked with
the file input; the score, the diagnosis column, the overlay and its weight/score toggle, the
sorting and the CSV are read back. Skipped only where Chromium is not installed; CI installs it
(.ci/run) and fails rather than skips.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from _service_fixtures import encode, live, small_model

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    reason = "the browser test needs Chromium and its driver: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (.ci/run installs them)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,900")

DROP = """
const [b64, name, done] = arguments;
const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], name, { type: "image/png" }));
const zone = document.querySelector("#drop");
for (const type of ["dragenter", "dragover", "drop"]) {
  zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
}
done(true);
"""


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="lpfiqa-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_drop_an_image_and_read_score_overlay_and_csv_back(browser, tmp_path: Path) -> None:
    model = small_model("browser-test", diagnosis=True)
    dropped, picked = encode("PNG", seed=3, size=(96, 64)), encode("PNG", seed=4, size=(64, 64))
    expected = {"dropped.png": model.predict(dropped), "picked.png": model.predict(picked)}
    (tmp_path / "picked.png").write_bytes(picked)
    wait = WebDriverWait(browser, 60)
    with live(model) as url:
        browser.get(url + "/")
        wait.until(lambda d: "browser-test" in d.find_element(By.ID, "model").text)
        browser.execute_async_script(DROP, base64.b64encode(dropped).decode(), "dropped.png")
        browser.find_element(By.ID, "pick").send_keys(str(tmp_path / "picked.png"))
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results tbody td.score")) == 2)

        rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        seen = {r.find_element(By.CSS_SELECTOR, "td.file").text: r for r in rows}
        assert set(seen) == set(expected)
        for name, pred in expected.items():
            assert seen[name].find_element(By.CSS_SELECTOR, "td.score").text == f"{pred.score:.2f}"
            assert seen[name].find_element(By.CSS_SELECTOR, "td.diag").text.startswith(f"{pred.top_family}:")

        overlay = browser.find_element(By.ID, "overlay")  # the first scored image is shown
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", overlay))
        assert overlay.get_attribute("src").startswith("data:image/png;base64,")
        assert browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]",
                                      overlay) == [96, 64]
        weight_src = overlay.get_attribute("src")
        browser.find_element(By.ID, "map-score").click()
        assert overlay.get_attribute("data-map") == "score" and overlay.get_attribute("src") != weight_src
        assert "red: low quality" in browser.find_element(By.ID, "legend").text

        header = browser.find_element(By.ID, "sort-score")
        header.click()
        assert header.get_attribute("aria-sort") == "descending"
        cells = [float(c.text) for c in browser.find_elements(By.CSS_SELECTOR, "#results tbody td.score")]
        assert cells == sorted(cells, reverse=True)
        header.click()
        cells = [float(c.text) for c in browser.find_elements(By.CSS_SELECTOR, "#results tbody td.score")]
        assert cells == sorted(cells)

        text = browser.execute_script("return window.lpfiqa.toCsv()")
        lines = text.strip().splitlines()
        assert lines[0] == "filename,score,width,height,top_family,blur,noise,error"
        for line in lines[1:]:
            name, score = line.split(",")[:2]
            assert abs(float(score) - expected[name].score) < 1e-3
        assert browser.find_element(By.ID, "csv").is_displayed()
