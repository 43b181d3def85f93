"""The Sweep tab after a sweep: its price line says what running it again costs (every value
reused: nothing) without a click."""

from __future__ import annotations

from widget_helpers import wait_until

from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp


def test_the_sweep_tab_price_says_a_finished_sweep_costs_nothing_again(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a sweep priced again once done", "Aspect Ratio": "9:16"}
    panel = w.parts.sweep
    w.parts.tabs.selected_index = 2
    panel.param.value = "Style"
    panel.labels.value = ("Anime", "Watercolor", "Pixel Art")
    price = panel.batch.price
    wait_until(lambda: "balance" in price.value)
    assert "Run sweep: 3 new runs" in price.value
    panel.run_button.click()
    (sweep,) = w.parts.sweeps
    sweep.results(timeout=60)
    assert sweep.reused == 0
    # No click, no change of the choices: the price line learns that the sweep ended and that
    # its runs are reused now.
    wait_until(lambda: "0 new runs" in price.value and "saves" in price.value)
    assert "3 reused from earlier runs (no charge)" in price.value
    assert "about 0 credits" in price.value


def test_a_sweep_from_code_also_re_prices_the_tab_when_it_ends(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a sweep from code, priced again", "Aspect Ratio": "1:1"}
    panel = w.parts.sweep
    panel.param.value = "Style"
    panel.labels.value = ("Anime", "Watercolor")
    price = panel.batch.price
    wait_until(lambda: "balance" in price.value)
    assert "Run sweep: 2 new runs" in price.value
    created = wsb.stats.run_creations
    sweep = w.sweep("Style", values=["Anime", "Watercolor"])
    sweep.results(timeout=60)
    assert wsb.stats.run_creations == created + 2
    wait_until(lambda: "0 new runs" in price.value and "saves" in price.value)
    assert "2 reused from earlier runs (no charge)" in price.value
