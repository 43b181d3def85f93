"""The /v1 calls through %lamina (cancel, upload, estimate, runs), local files and Python objects
as url inputs, and the awkward catalogue apps, in a real InteractiveShell against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_support import fails, loaded_shell, magic, texts
from PIL import Image

from lamina_notebook.errors import InputValidationError
from lamina_notebook.models import Estimate, RunPage
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import get_session
from lamina_notebook.session.results import Result, RunHandle


@pytest.fixture
def shell(sandbox_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A loaded shell whose working directory (the notebook's folder) holds me.jpg, with
    ``img`` (a PIL image) and ``url`` (a picture the sandbox serves) defined."""
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (96, 64), (200, 40, 40)).save(tmp_path / "me.jpg")
    for ip in loaded_shell():
        ip.user_ns["img"] = Image.new("RGB", (80, 80), (20, 90, 200))
        ip.user_ns["url"] = f"{sandbox_env.base_url}/samples/portrait.png"
        yield ip


@pytest.fixture
def slow() -> Iterator[Sandbox]:
    """A sandbox whose runs stay queued for five real seconds (a cancel finds them queued)."""
    with Sandbox(time_scale=0.02, rate_limit=0, queue_seconds=5.0) as sb:
        yield sb


def test_cancel_by_short_id_stops_a_queued_run_at_the_service(
    shell: InteractiveShell, slow: Sandbox
) -> None:
    get_session().configure(base_url=slow.base_url)
    handle, _ = magic(shell, 'run "Text to Image" "Prompt=never mind" --no-wait -o job')
    assert isinstance(handle, RunHandle)
    _, cap = magic(shell, f"cancel {handle.execution_id[:6]}")
    assert f"Cancelled run {handle.execution_id}" in cap.stdout
    assert "0 of 1 outputs were made" in cap.stdout and "bills no more" in cap.stdout
    assert slow.stats.cancellations == 1
    assert handle.result(timeout=30).status == "cancelled"  # the watch saw it at once
    assert slow.outputs_produced(handle.execution_id) == 0
    _, cap = magic(shell, f"cancel {handle.execution_id}")  # idempotent
    assert "had already ended" in cap.stdout and slow.stats.cancellations == 1


def test_upload_a_path_and_a_picture_object_once_each(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    before = sandbox_env.stats.uploads
    url, cap = magic(shell, "upload me.jpg -o photo_url")
    assert url.startswith(sandbox_env.base_url + "/assets/") and url.endswith("me.jpg")
    assert shell.user_ns["photo_url"] == url and "pass this URL" in cap.stdout
    again, _ = magic(shell, "upload ./me.jpg")
    assert again == url and sandbox_env.stats.uploads == before + 1  # same content: once
    picture, cap = magic(shell, "upload {img}")
    assert picture != url and sandbox_env.stats.uploads == before + 2
    assert "the Image" in cap.stdout


def test_a_local_file_and_objects_as_url_inputs(
    shell: InteractiveShell, sandbox_env: Any, tmp_path: Path
) -> None:
    before = sandbox_env.stats.uploads
    result, _ = magic(shell, 'run "Photo Stylizer" Upload=@me.jpg "Style=Disney / Pixar" -o a')
    assert isinstance(result, Result) and result.is_completed and result.media
    asset = result.inputs["Upload"]
    assert asset.startswith(sandbox_env.base_url + "/assets/") and asset.endswith("/me.jpg")
    assert sandbox_env.stats.uploads == before + 1
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (64, 64), (0, 200, 0)).save(tmp_path / "sub" / "green.png")
    shell.user_ns["green"] = tmp_path / "sub" / "green.png"
    shell.user_ns["where"] = "sub/green.png"
    full = tmp_path / "sub" / "green.png"
    values = ("{img}", "{green}", "@sub/green.png", f"@{full}", "@{where}")
    for value in values:
        result, _ = magic(shell, f'run "Photo Stylizer" Upload={value} Style=Ghibli')
        assert result.is_completed, value
        assert result.inputs["Upload"].startswith(sandbox_env.base_url + "/assets/"), value
    assert sandbox_env.stats.uploads == before + 3  # the green file once, by path or object


def test_a_literal_at_sign_and_nothing_uploaded_for_a_bad_line(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    magic(shell, 'info "Photo Stylizer"')
    before = sandbox_env.stats.snapshot()
    # @@ is a literal @: not a file, so the URL check speaks, and nothing is uploaded
    exc, cap = fails(shell, 'run "Photo Stylizer" Upload=@@me.jpg')
    assert isinstance(exc, InputValidationError) and '"@me.jpg" is not an http(s) URL' in texts(cap)
    # a good file beside a bad option: the option is reported, the file not uploaded
    exc, cap = fails(shell, 'run "Photo Stylizer" Upload=@me.jpg Style=Cubism')
    assert "Cubism" in texts(cap)
    after = sandbox_env.stats.snapshot()
    assert after["uploads"] == before["uploads"] and after["requests"] == before["requests"]


def test_estimate_names_credits_and_balance_and_uploads_nothing(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    before = sandbox_env.stats.snapshot()
    _, cap = magic(shell, 'estimate "Photo Stylizer" Upload=@me.jpg -o price')
    price = shell.user_ns["price"]
    assert isinstance(price, Estimate) and price.expected
    out = texts(cap)
    assert f"about {price.expected:,} credits per run" in out
    assert f"Balance: {price.balance:,} credits" in out and "affordable" in out
    assert "lamina-estimate" in texts(cap, "text/html")
    after = sandbox_env.stats.snapshot()
    assert after["estimates"] == before["estimates"] + 1
    assert after["uploads"] == before["uploads"] and after["run_requests"] == before["run_requests"]


def test_runs_lists_the_services_runs_with_filters(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    mine, _ = magic(shell, 'run "Text to Image" "Prompt=listed here"')
    elsewhere = sandbox_env.start_run("Product Copywriter", {"Product": "a kettle"}, source="web")
    _, cap = magic(shell, "runs --limit 100 -o page")
    page = shell.user_ns["page"]
    assert isinstance(page, RunPage)
    ids = [r.run_id for r in page.runs]
    assert mine.execution_id in ids and elsewhere in ids
    out = texts(cap)
    assert mine.execution_id in out and elsewhere in out
    mine_row = next(line for line in out.splitlines() if mine.execution_id in line)
    web_row = next(line for line in out.splitlines() if elsewhere in line)
    assert "Text to Image" in mine_row and " api " in mine_row  # named from the journal
    assert " web " in web_row  # started elsewhere: the service says where
    _, cap = magic(shell, 'runs --app "Text to Image" --since 1h --status completed')
    out = texts(cap)
    assert mine.execution_id in out and elsewhere not in out
    _, cap = magic(shell, "runs --limit 1")
    assert "next: --offset 1" in texts(cap)


# -- the awkward catalogue apps -----------------------------------------------------------


def test_model_photoshoot_double_space_name_and_trailing_space_label(
    shell: InteractiveShell,
) -> None:
    result, _ = magic(
        shell,
        'run "Model Photoshoot" Garment={url} "Model  Ethnicity=East Asian" '
        '"Quality=Standard " "Background=a white studio"',
    )
    assert result.is_completed and len(result.urls) == 3
    assert result.inputs["Model  Ethnicity"] == "East Asian"
    assert result.inputs["Quality"] == "Standard "
    # the same label without its space is refused before sending, saying so
    _, cap = fails(shell, 'run "Model Photoshoot" Garment={url} Quality=Standard "Background=x"')
    assert 'did you mean "Standard ", with its space at the end?' in texts(cap)


def test_selfie_with_celebrity_by_parameter_keys(shell: InteractiveShell) -> None:
    result, _ = magic(
        shell,
        'run "Selfie With Celebrity" your_photo_image_url=@me.jpg "celebrity_text=Ada Lovelace"',
    )
    assert result.is_completed
    assert set(result.inputs) == {"Your Photo", "Celebrity"}  # sent under the names
    assert result.inputs["Celebrity"] == "Ada Lovelace"


def test_mood_board_takes_a_json_list_or_a_python_list(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    url = shell.user_ns["url"]
    line = f'run "Mood Board" "Reference Images=[\\"@me.jpg\\", \\"{url}\\"]" "Title=Moods"'
    result, _ = magic(shell, line)
    assert result.is_completed
    images = result.inputs["Reference Images"]
    assert isinstance(images, list) and len(images) == 2 and images[1] == url
    assert images[0].startswith(sandbox_env.base_url + "/assets/")
    shell.user_ns["urls"] = [url, f"{sandbox_env.base_url}/samples/landscape.png"]
    result, _ = magic(shell, 'run "Mood Board" "Reference Images={urls}" Layout=Strip')
    assert result.is_completed and result.inputs["Reference Images"] == shell.user_ns["urls"]
    assert result.inputs.get("Title") is None  # "" default: left to the service
    one, _ = magic(shell, 'run "Mood Board" "Reference Images={url}"')
    assert one.is_completed and one.inputs["Reference Images"] == [url]  # one is a list of one
    journaled = json.dumps(one.inputs)
    assert url in journaled
