"""The Sweep tab after a sweep: its price line says what running it again costs (every value
reused: nothing) without a click, and the grid's cell heads carry their whole value as a hover
text that reaches the page (an escaped ``title``, not a Label tooltip ipywidgets 8 hides)."""

from __future__ import annotations

from widget_helpers import wait_until

from lamina_notebook.render.html import esc
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.sweep import Sweep
from lamina_notebook.widget.ui import TipText


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


def test_sweep_cell_heads_carry_the_whole_value_as_an_escaped_title() -> None:
    hostile = '<script>alert("x")</script> & ' + "a long prompt " * 8
    sweep = Sweep("Prompt", [hostile, "plain"])
    head = sweep.grid.children[0].children[0]
    assert isinstance(head, TipText)
    assert head.tip == hostile  # the whole value on hover
    assert len(head.text) <= 60 and head.text.endswith("…")  # cut on screen
    # ipywidgets 8 puts a Label's tooltip on its hidden description element: the page would
    # get no title at all. The span's title carries it, escaped (service strings are untrusted).
    assert f'<span title="{esc(hostile)}" ' in head.value
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in head.value
    assert "<script>" not in head.value and 'alert("x")' not in head.value
    assert f">{esc(head.text)}</span>" in head.value
    assert not head.tooltip
    plain = sweep.grid.children[1].children[0]
    assert isinstance(plain, TipText) and plain.text == plain.tip == "plain"
