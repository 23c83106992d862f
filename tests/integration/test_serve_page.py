"""The web page in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by selenium) loads the page from a running `seq2seq serve`, types
inputs, clicks Translate, and reads the translations, n-best lists, phonemes and alignment
from the page; for a speech model it uploads a WAV file, clicks Transcribe and reads the
transcript and its score. Skips, saying why, only where Chromium or its driver is not
installed (or, for the speech test, the speech extra).

SEQ2SEQ_SCREENSHOT=docs/serve.png saves a screenshot of the page with its results.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import REPO, running_server

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve]'")
pytest.importorskip("httpx2", reason="the dev extra is not installed: pip install -e '.[dev]'")
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (dev extra)"
)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from seq2seq.translator import Translator  # noqa: E402

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (BROWSER and DRIVER):
        pytest.skip(
            "Chromium or chromedriver is not installed; on Debian: "
            "apt-get install -y chromium chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1300"):
        options.add_argument(arg)
    options.add_argument("--disable-dev-shm-usage")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_the_page_translates_in_a_browser(browser, memorised, g2p_attention):
    g2p_run, g2p_pairs = g2p_attention
    words = [s for s, _ in g2p_pairs[:3]]
    with running_server("--model", f"tiny={memorised[0]}", "--model", f"g2p={g2p_run}") as (
        _,
        url,
    ):
        browser.get(url)
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: len(Select(d.find_element(By.ID, "model")).options) == 2)

        # a translation model: one input per line, the 1-best and the n-best list
        Select(browser.find_element(By.ID, "model")).select_by_value("tiny")
        box = browser.find_element(By.ID, "inputs")
        box.clear()
        box.send_keys("abc\ndefg")
        browser.find_element(By.ID, "translate").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .output")) == 2)
        outputs = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#results .output")]
        library = Translator.load(memorised[0], device="cpu", precision="fp32")
        assert outputs == library.translate(["abc", "defg"])
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results .nbest li")) == 2 * 3

        # a G2P model with attention: a line's words each get their phonemes and an alignment
        Select(browser.find_element(By.ID, "model")).select_by_value("g2p")
        box.clear()
        box.send_keys(f"{words[0]} {words[1]}\n{words[2]}")
        browser.find_element(By.ID, "translate").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#results table.alignment")))
        outputs = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#results .output")]
        assert outputs == [t for _, t in g2p_pairs[:3]]
        first = browser.find_elements(By.CSS_SELECTOR, "#results .card")[0]
        assert [c.text for c in first.find_elements(By.CLASS_NAME, "chip")] == g2p_pairs[0][
            1
        ].split()
        headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#results h3")]
        assert headings == [f"{words[0]} {words[1]}"]  # the two-word line, split into words
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results table.alignment")) == 3
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None
        _screenshot(browser)

        # an error from the API is shown, not swallowed: n-best 3 with beam 2
        browser.find_element(By.ID, "beam").clear()
        browser.find_element(By.ID, "beam").send_keys("2")
        browser.find_element(By.ID, "translate").click()
        wait.until(ec.visibility_of_element_located((By.ID, "error")))
        assert browser.find_element(By.ID, "error").text.startswith("422: decoding options")


def test_the_page_transcribes_an_upload_in_a_browser(browser, speech_run, memorised, tmp_path):
    from seq2seq.transcriber import Transcriber

    run, corpus = speech_run
    wav = corpus / "wav" / "u2.wav"
    (tmp_path / "garbage.wav").write_bytes(b"RIFF but not a wave file at all")
    with running_server("--model", f"asr={run}", "--model", f"tiny={memorised[0]}") as (_, url):
        browser.get(url)
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: len(Select(d.find_element(By.ID, "model")).options) == 2)
        Select(browser.find_element(By.ID, "model")).select_by_value("asr")
        assert not browser.find_element(By.ID, "inputs").is_displayed()  # no text box
        assert not browser.find_element(By.ID, "translate").is_displayed()
        audio = browser.find_element(By.ID, "audio")
        assert audio.get_attribute("accept") == "audio/*" and audio.is_displayed()
        audio.send_keys(str(wav))
        browser.find_element(By.ID, "transcribe").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results .output"))

        # what the page asked for: the model's beam, n-best min(3, beam), its CTC weight
        beam = int(browser.find_element(By.ID, "beam").get_attribute("value"))
        nbest = int(browser.find_element(By.ID, "nbest").get_attribute("value"))
        weight = float(browser.find_element(By.ID, "ctc").get_attribute("value"))
        library = Transcriber.load(run, device="cpu")
        expected = library.transcribe([wav], beam=beam, nbest=nbest, ctc_weight=weight)[0]
        output = browser.find_element(By.CSS_SELECTOR, "#results .output").text
        assert output == expected[0].text and output  # the tiny model says something
        card = browser.find_element(By.CSS_SELECTOR, "#results .card")
        assert card.find_element(By.CLASS_NAME, "input").text == "u2.wav"
        assert f"score {expected[0].score:.3f}" in card.text
        listed = [e.text for e in card.find_elements(By.CSS_SELECTOR, ".nbest .hyp")]
        assert listed == [t.text for t in expected]
        assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None

        # bad audio: the API's one line on the page
        audio.send_keys(str(tmp_path / "garbage.wav"))
        browser.find_element(By.ID, "transcribe").click()
        wait.until(ec.visibility_of_element_located((By.ID, "error")))
        assert browser.find_element(By.ID, "error").text.startswith(
            "422: audio: not readable audio"
        )

        # a text model: the text box is back
        Select(browser.find_element(By.ID, "model")).select_by_value("tiny")
        assert browser.find_element(By.ID, "inputs").is_displayed()
        assert not browser.find_element(By.ID, "audio").is_displayed()


def _screenshot(browser) -> None:
    target = os.environ.get("SEQ2SEQ_SCREENSHOT")
    if not target:
        return
    path = Path(target) if Path(target).is_absolute() else REPO / target
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1100, min(height + 200, 2400))
    assert browser.save_screenshot(str(path)), f"could not write {path}"
