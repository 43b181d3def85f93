"""Grid planning: axes (values, ``all``, search-and-replace), every cell validated before
anything is sent, reuse of journaled runs, run counts. Pure: an App and a real journal file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lamina_notebook.errors import InputValidationError
from lamina_notebook.grids import (
    MAX_CELLS,
    Axis,
    CellState,
    GridSpec,
    cell_key,
    parse_axis,
    plan,
)
from lamina_notebook.journal import Journal
from lamina_notebook.models import App, Execution
from lamina_notebook.validation import validate_inputs

STYLES = ["Photorealistic", "Watercolor", "Anime", "Pixel Art", "Oil Painting", "Neon Noir"]
PROMPTS = ["a fox in the snow", "a lighthouse in a storm at night", "a robot", "a city"]
BASE = "http://127.0.0.1:9"

APP = App.from_json(
    {
        "appId": "app-t2i",
        "name": "Text to Image",
        "parameters": [
            {"id": "p1", "name": "Prompt", "type": "text", "default": None},
            {
                "id": "p2",
                "name": "Style",
                "type": "options",
                "options": STYLES,
                "default": "Photorealistic",
            },
            {
                "id": "p3",
                "name": "Aspect Ratio",
                "key": "aspect_ratio_text",
                "type": "options",
                "options": ["1:1", "16:9"],
                "default": "1:1",
            },
            {"id": "p4", "name": "Ratio: W/H", "type": "text", "default": "1"},
            {"id": "p5", "name": "Caption", "type": "text", "default": "a fox at dawn"},
        ],
    }
)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


# -- axes ----------------------------------------------------------------------------------------

PARSE_CASES: list[tuple[str, str, tuple[str, ...], str | None]] = [
    # text, param, values, search term
    ("Style", "Style", tuple(STYLES), None),
    ("Style=all", "Style", tuple(STYLES), None),
    ("style = ALL", "Style", tuple(STYLES), None),  # names and `all` in any case
    ("Style=Anime,Watercolor", "Style", ("Anime", "Watercolor"), None),
    ("Style=Anime | Watercolor", "Style", ("Anime", "Watercolor"), None),
    ("Style=Anime,Anime,Watercolor", "Style", ("Anime", "Watercolor"), None),  # de-duplicated
    ("Prompt=a fox, at night|a lighthouse", "Prompt", ("a fox, at night", "a lighthouse"), None),
    ("Prompt=a fox, at night", "Prompt", ("a fox, at night",), None),  # commas stay in text
    ("Prompt:fox=cat,owl", "Prompt", ("fox", "cat", "owl"), "fox"),
    ("Prompt:fox=a cat, asleep|owl", "Prompt", ("fox", "a cat, asleep", "owl"), "fox"),
    ("Prompt:fox=fox,cat", "Prompt", ("fox", "cat"), "fox"),  # the search term once, first
    ("Aspect Ratio=16:9|1:1", "Aspect Ratio", ("16:9", "1:1"), None),
    ("aspect_ratio_text=16:9", "Aspect Ratio", ("16:9",), None),  # by key
    ("Ratio: W/H=1|2", "Ratio: W/H", ("1", "2"), None),  # a name holding ':'
    ("Caption:fox=cat", "Caption", ("fox", "cat"), "fox"),
]


@pytest.mark.parametrize(("text", "param", "values", "search"), PARSE_CASES)
def test_parse_axis(text: str, param: str, values: tuple[str, ...], search: str | None) -> None:
    axis = parse_axis(text, APP)
    assert (axis.param, axis.items, axis.search) == (param, values, search)


PARSE_ERRORS = [
    ("Prompt", "no options to take all of"),
    ("Prompt=all", "no options to take all of"),
    ("Stlye=Anime", 'did you mean "Style"'),
    ("Colour=red", "is not a parameter of Text to Image"),
    ("Prompt:fox", "Prompt:SEARCH=REPLACEMENT"),
    ("Prompt=", "the axis has no values"),
    ("   ", "an axis is"),
]


@pytest.mark.parametrize(("text", "message"), PARSE_ERRORS)
def test_parse_axis_errors_name_the_fix(text: str, message: str) -> None:
    with pytest.raises(InputValidationError) as info:
        parse_axis(text, APP)
    assert message in str(info.value)


def test_axis_values_are_a_list_and_replace_builds_them() -> None:
    with pytest.raises(TypeError, match="list of strings"):
        Axis("Prompt", "a fox")  # a lone string is not a list of one
    with pytest.raises(TypeError, match="strings"):
        Axis("Prompt", ["a", 3])  # type: ignore[list-item]
    sr = Axis("Prompt", replace=("fox", ["cat", "fox", "owl", "cat"]))
    assert sr.items == ("fox", "cat", "owl") and sr.is_replace and sr.name == "Prompt S/R"
    assert Axis("Style", "all").wants_all and Axis("Style").wants_all
    with pytest.raises(ValueError, match="search-and-replace"):
        Axis("Prompt", ["x"], replace=("fox", ["cat"]))


def test_spec_round_trips_through_json_and_extends_without_renaming_cells() -> None:
    spec = GridSpec(
        APP.app_id,
        APP.name,
        Axis("Style", ["Anime", "Watercolor"]),
        Axis("Prompt", replace=("fox", ["cat"])),
        Axis("Aspect Ratio", ["1:1", "16:9"]),
        fixed={"Prompt": "a fox"},
    )
    again = GridSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert again == spec
    keys = {cell_key(x, y, z) for *_, x, y, z in spec.positions()}
    grown = spec.extended(x=["Anime", "Pixel Art"], y=["owl"])
    assert grown.x.items == ("Anime", "Watercolor", "Pixel Art")
    assert grown.y is not None and grown.y.items == ("fox", "cat", "owl")
    assert keys < {cell_key(x, y, z) for *_, x, y, z in grown.positions()}
    with pytest.raises(ValueError, match="newer"):
        GridSpec.from_json({**spec.to_json(), "version": 99})


# -- cells ---------------------------------------------------------------------------------------


def grid(x: str, y: str | None = None, z: str | None = None, **fixed: Any) -> GridSpec:
    return GridSpec(
        APP.app_id,
        APP.name,
        parse_axis(x, APP),
        parse_axis(y, APP) if y else None,
        parse_axis(z, APP) if z else None,
        fixed=fixed,
    )


def inputs_of(p: Any) -> dict[tuple[str | None, ...], dict[str, Any]]:
    return {(c.x, c.y, c.z): dict(c.inputs) for c in p.cells}


def test_search_and_replace_keeps_the_first_column_as_written(journal: Journal) -> None:
    p = plan(grid("Prompt:fox=cat,owl", Prompt="a fox in the snow"), APP, journal, base_url=BASE)
    assert [c.inputs["Prompt"] for c in p.cells] == [
        "a fox in the snow",
        "a cat in the snow",
        "a owl in the snow",
    ]


def test_search_and_replace_applies_to_another_axis_and_to_the_default(journal: Journal) -> None:
    p = plan(grid("Prompt:fox=cat", "Prompt=a fox|two fox cubs"), APP, journal, base_url=BASE)
    assert [c.inputs["Prompt"] for c in p.cells] == [
        "a fox",
        "a cat",
        "two fox cubs",
        "two cat cubs",
    ]
    # No fixed Caption: the replace works on the parameter's default text; the first column
    # leaves it out (the service applies the same default), so it matches a plain run.
    q = plan(grid("Caption:fox=owl", Prompt="p"), APP, journal, base_url=BASE)
    assert [dict(c.inputs) for c in q.cells] == [
        {"Prompt": "p"},
        {"Prompt": "p", "Caption": "a owl at dawn"},
    ]


def test_every_cell_is_validated_and_all_problems_come_at_once(journal: Journal) -> None:
    spec = grid("Style=Anime|Anim|Watercolour", "Prompt:fox=cat", Prompt="a dog", Colour="red")
    with pytest.raises(InputValidationError) as info:
        plan(spec, APP, journal, base_url=BASE)
    exc = info.value
    text = str(exc)
    assert "nothing was sent" in text
    by_param: dict[str | None, str] = {}
    for problem in exc.problems:
        by_param[problem.param] = by_param.get(problem.param, "") + problem.message
    # A shared problem is listed once and says where it is.
    assert 'invalid option "Anim" (did you mean "Anime"?' in by_param["Style"]
    assert "in the column Style=Anim" in text and "in the column Style=Watercolour" in text
    assert 'search term "fox" does not occur in the Prompt ("a dog")' in by_param["Prompt"]
    assert "(in every cell)" in by_param["Prompt"] and "(in every cell)" in by_param["Colour"]
    assert len(exc.problems) == 4  # Anim, Watercolour, the S/R term, the unknown input
    assert f"of the grid's {spec.size} cells" in text


def test_a_problem_of_some_cells_names_them(journal: Journal) -> None:
    spec = grid("Prompt:fox=cat", "Prompt=a fox|a dog")
    with pytest.raises(InputValidationError) as info:
        plan(spec, APP, journal, base_url=BASE)
    assert "in the row Prompt=a dog" in str(info.value)
    one = grid("Style=Anime|Watercolor", "Prompt=a fox|")
    assert plan(one, APP, journal, base_url=BASE).runs == 2  # an empty value is skipped


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (lambda: grid("Style=Anime", "Style=Watercolor", Prompt="p"), "is on two axes"),
        (lambda: grid("Style=Anime", Prompt="p", Style="Anime"), "is both a fixed input"),
    ],
)
def test_axes_that_contradict_each_other(journal: Journal, spec: Any, message: str) -> None:
    with pytest.raises(InputValidationError, match=message):
        plan(spec(), APP, journal, base_url=BASE)


def test_fan_out_is_capped_unless_asked(journal: Journal) -> None:
    values = "|".join(f"p{i}" for i in range(MAX_CELLS // 6 + 1))
    spec = grid("Style", f"Prompt={values}")
    with pytest.raises(InputValidationError, match="over the limit"):
        plan(spec, APP, journal, base_url=BASE)
    assert plan(spec, APP, journal, base_url=BASE, max_cells=spec.size).runs == spec.size


def test_cells_with_equal_inputs_run_once(journal: Journal) -> None:
    # panel 2 turns both "cat and dog" and "dog and dog" into "cat and cat"
    spec = grid("Prompt:cat=dog", None, "Prompt:dog=cat", Prompt="cat and dog")
    p = plan(spec, APP, journal, base_url=BASE)
    assert [c.inputs["Prompt"] for c in p.cells] == [
        "cat and dog",
        "dog and dog",
        "cat and cat",
        "cat and cat",
    ]
    assert [c.action for c in p.cells] == ["run", "run", "run", "same"]
    assert p.runs == 3 and p.duplicates[0].same_as == p.cells[2].key


# -- reuse and run counts ------------------------------------------------------------------------


def complete(journal: Journal, p: Any, cells: Any = None, *, base_url: str = BASE) -> None:
    """Journal a completed run for each cell, as the client would have."""
    for n, cell in enumerate(cells if cells is not None else p.cells):
        ex = Execution.from_json(
            {
                "executionId": f"run-{cell.inputs_key[:12]}-{n}-{abs(hash(base_url))}",
                "status": "completed",
                "outputs": [
                    {
                        "id": "o1",
                        "label": "Image",
                        "type": "image",
                        "status": "completed",
                        "value": f"{base_url}/files/{n}.png",
                    }
                ],
            }
        )
        journal.record_started(
            ex, app_id=APP.app_id, app_name=APP.name, inputs=cell.inputs, base_url=base_url
        )


def test_six_by_four_then_rerun_then_one_more_row(journal: Journal) -> None:
    spec = grid("Style", "Prompt=" + "|".join(PROMPTS))
    first = plan(spec, APP, journal, base_url=BASE)
    assert (len(first.cells), first.runs, len(first.reused)) == (24, 24, 0)
    complete(journal, first)
    again = plan(spec, APP, journal, base_url=BASE)
    assert (again.runs, len(again.reused)) == (0, 24)  # rerunning the same grid costs 0 runs
    assert {c.reuse_of for c in again.cells} == {
        journal.find_reusable(APP.app_id, c.inputs, base_url=BASE).execution_id  # type: ignore[union-attr]
        for c in first.cells
    }
    bigger = plan(spec.extended(y=["a boat at dawn"]), APP, journal, base_url=BASE)
    assert (bigger.runs, len(bigger.reused)) == (6, 24)  # one more prompt row costs 6
    assert {c.y for c in bigger.to_run} == {"a boat at dawn"}


def test_reuse_needs_the_same_service_variant_and_a_completed_run(journal: Journal) -> None:
    spec = grid("Style=Anime|Watercolor", Prompt="a fox")
    p = plan(spec, APP, journal, base_url=BASE)
    complete(journal, p, p.cells[:1], base_url="http://other:1")
    assert plan(spec, APP, journal, base_url=BASE).runs == 2  # another service's run
    complete(journal, p, p.cells[:1])
    assert plan(spec, APP, journal, base_url=BASE).runs == 1
    assert plan(spec, APP, journal, base_url=BASE, variant=1).runs == 2  # a new sample
    assert plan(spec, APP, journal, base_url=BASE, reuse=False).runs == 2
    assert plan(spec, APP, None, base_url=BASE).runs == 2  # no journal, no reuse


def test_known_cells_are_kept_not_run(journal: Journal) -> None:
    spec = grid("Style=Anime|Watercolor", Prompt="a fox")
    key = cell_key("Anime", None, None)
    p = plan(spec, APP, journal, base_url=BASE, grid_id="g-1", known={key: "exec-1"})
    assert p.grid_id == "g-1" and p.runs == 1 and p.kept[0].existing == "exec-1"


def test_cell_inputs_are_valid_inputs_that_the_client_trusts(journal: Journal) -> None:
    p = plan(grid("aspect_ratio_text=16:9", Prompt="x"), APP, journal, base_url=BASE)
    cell = p.cells[0]
    assert dict(cell.inputs) == {"Prompt": "x", "Aspect Ratio": "16:9"}
    assert cell.inputs.app_id == APP.app_id
    assert validate_inputs(APP, cell.inputs) == cell.inputs


def test_cell_state_flags() -> None:
    state = CellState("k", "Anime", None, None, "Style=Anime", {})
    assert not state.is_done and state.url is None
    failed = CellState("k", "a", None, None, "l", {}, status="failed")
    assert failed.is_done and failed.is_failed
    unconfirmed = CellState("k", "a", None, None, "l", {}, status="unconfirmed")
    assert unconfirmed.is_done and not unconfirmed.is_failed  # never retried as "failed"


def test_the_grid_engine_is_core() -> None:
    code = (
        "import json, sys, lamina_notebook.grids\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not loaded & {"IPython", "ipywidgets", "PIL", "traitlets", "starlette", "httpx"}
