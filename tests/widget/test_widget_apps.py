"""The awkward catalogue apps through the widget, each run to completion on the sandbox: a double
space in a parameter name and a trailing space in an option label (Model Photoshoot), parameters
addressed by their keys (Selfie With Celebrity), a ``multiple`` url parameter, a ``""`` default
and a parameter without an id (Mood Board)."""

from __future__ import annotations

import ipywidgets as W
import pytest
from widget_helpers import control

from lamina_notebook.errors import InputValidationError
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp


def test_model_photoshoot_keeps_a_double_space_and_a_trailing_space(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Model Photoshoot", session=session)
    assert "Model  Ethnicity" in w.parts.controls  # the name exactly as the author typed it
    quality = control(w, "Quality")
    assert isinstance(quality.input, W.ToggleButtons)
    assert quality.input.value == "Standard "  # the default, trailing space and all
    background = control(w, "Background")
    assert "required" in background.label.value  # required: false, yet no default
    w.value = {
        "Garment": f"{wsb.base_url}/samples/product.png",
        "model_ethnicity_text": "East Asian",  # its key works like its name
        "Background": "white studio",
    }
    assert w.value["Model  Ethnicity"] == "East Asian" and w.value["Quality"] == "Standard "
    result = w.run().result(timeout=60)
    assert result.is_completed and len(result.outputs) == 3
    assert (
        result.inputs["Quality"] == "Standard "
        and result.inputs["Model  Ethnicity"] == "East Asian"
    )
    with pytest.raises(InputValidationError, match="with its space at the end"):
        w.run(Quality="Standard")  # what a user types; the message says what differs
    w.wait(timeout=60)


def test_selfie_with_celebrity_takes_its_keys_anywhere(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Selfie With Celebrity", session=session)
    w.value = {
        "your_photo_image_url": f"{wsb.base_url}/samples/portrait.png",
        "celebrity_text": "Ada Lovelace",
    }
    assert w.value == {
        "Your Photo": f"{wsb.base_url}/samples/portrait.png",
        "Celebrity": "Ada Lovelace",
    }
    handle = w.run(celebrity_text="Alan Turing")  # an override by key replaces the name's value
    result = handle.result(timeout=60)
    assert result.is_completed and result.inputs["Celebrity"] == "Alan Turing"
    with pytest.raises(InputValidationError, match="given twice"):
        w.run({"Celebrity": "a", "celebrity_text": "b"})
    w.wait(timeout=60)


def test_mood_board_takes_several_urls_an_empty_default_and_a_parameter_without_id(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Mood Board", session=session)
    refs = control(w, "Reference Images")
    assert isinstance(refs.input, W.Textarea)  # one URL per line
    assert "required" not in control(w, "Title").label.value  # its default is ""
    layout = control(w, "Layout")
    assert isinstance(layout.input, W.ToggleButtons) and layout.input.value == "Grid"
    urls = [f"{wsb.base_url}/samples/{name}.png" for name in ("portrait", "product", "landscape")]
    refs.input.value = "\n".join(urls)
    assert w.value["Reference Images"] == urls and "Title" not in w.value
    layout.input.value = "Strip"
    result = w.run().result(timeout=60)
    assert result.is_completed
    assert result.inputs["Reference Images"] == urls and result.inputs["Layout"] == "Strip"
    w.value = {"Reference Images": urls[:1], "Title": "Autumn"}  # a list from code works too
    assert refs.input.value == urls[0] and w.value["Title"] == "Autumn"
    second = w.run().result(timeout=60)
    assert second.is_completed and second.inputs["Title"] == "Autumn"
    w.wait(timeout=60)
