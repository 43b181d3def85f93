"""Models read the contract's JSON and its tolerated variants; status decides, never type."""

from __future__ import annotations

import dataclasses
from datetime import timezone
from typing import Any

import pytest

from lamina_notebook.errors import ExecutionFailed, InvalidResponseError
from lamina_notebook.models import App, Execution, Output, Parameter, parse_timestamp

# The seed's "Run an app" answer, verbatim.
STARTED: dict[str, Any] = {
    "executionId": "fc32ae7d-6840-4be3-8fb1-539a60e33fc3",
    "workflowId": "80d4d454-8844-489f-b903-2ad65a414482",
    "workflowName": "test sync",
    "status": "queued",
    "webhookUrl": "https://your-server.com/lamina-callback",
    "outputs": [
        {
            "id": "aiDesignerNode-1773051929782-5yzqjkwpm",
            "label": "AI Designer",
            "type": "pending",
            "value": None,
            "status": "pending",
            "error": None,
        },
        {
            "id": "aiDesignerNode-1773132653203-v9hn959pe",
            "label": "AI Designer",
            "type": "pending",
            "value": None,
            "status": "pending",
            "error": None,
        },
    ],
}


def test_the_seed_run_answer_parses() -> None:
    e = Execution.from_json(STARTED)
    assert e.execution_id == STARTED["executionId"]
    assert (e.status, e.workflow_name, e.webhook_url) == (
        "queued",
        "test sync",
        "https://your-server.com/lamina-callback",
    )
    assert len(e.outputs) == 2 and not e.is_terminal
    assert all(o.status == "pending" and not o.is_done for o in e.outputs)
    assert e.fraction_done == 0.0 and e.outputs_total == 2


def test_unknown_fields_are_kept_in_raw_and_ignored() -> None:
    e = Execution.from_json({**STARTED, "shinyNewField": {"a": 1}})
    assert e.raw["shinyNewField"] == {"a": 1}
    assert e == Execution.from_json(STARTED)  # raw is not part of equality


def test_run_id_is_an_alias_for_execution_id() -> None:
    payload = {k: v for k, v in STARTED.items() if k != "executionId"}
    assert Execution.from_json({**payload, "runId": "r-1"}).execution_id == "r-1"


def test_completion_is_decided_by_status_not_type() -> None:
    failed_output = {
        "id": "o",
        "label": "Image",
        "type": "pending",
        "value": None,
        "status": "error",
        "error": "GPU fell over",
    }
    e = Execution.from_json(
        {
            **STARTED,
            "status": "failed",
            "errorMessage": "1 output failed",
            "outputs": [failed_output],
        }
    )
    out = e.outputs[0]
    assert out.type == "pending" and out.is_failed and out.is_done and not out.is_completed
    assert e.is_terminal and e.is_failed and e.fraction_done == 1.0
    with pytest.raises(ExecutionFailed) as info:
        e.raise_for_status()
    assert "1 output failed" in str(info.value) and e.execution_id in str(info.value)


def test_output_reasons_are_used_when_there_is_no_error_message() -> None:
    e = Execution.from_json(
        {
            **STARTED,
            "status": "failed",
            "outputs": [
                {
                    "id": "o",
                    "label": "Image",
                    "type": "pending",
                    "status": "error",
                    "error": "no GPU",
                }
            ],
        }
    )
    assert "Image: no GPU" in str(ExecutionFailed(e))


@pytest.mark.parametrize(
    "status,terminal,failed",
    [
        ("queued", False, False),
        ("running", False, False),
        ("completed", True, False),
        ("failed", True, True),
        ("cancelled", True, True),
        ("canceled", True, True),
        ("COMPLETED", True, False),
    ],
)
def test_statuses(status: str, terminal: bool, failed: bool) -> None:
    e = Execution.from_json({**STARTED, "status": status})
    assert (e.is_terminal, e.is_failed) == (terminal, failed)


def test_progress_and_mime_type_are_used_when_present() -> None:
    e = Execution.from_json(
        {
            **STARTED,
            "status": "running",
            "outputs": [],
            "progress": {
                "totalOutputs": 4,
                "completedOutputs": 1,
                "failedOutputs": 1,
                "percentComplete": 50,
            },
        }
    )
    assert e.progress is not None and e.outputs_total == 4 and e.outputs_done == 2
    assert e.fraction_done == 0.5
    out = Output.from_json(
        {
            "id": "v",
            "label": "Clip",
            "type": "file",
            "status": "completed",
            "value": "https://cdn.example/x",
            "mimeType": "video/mp4",
            "durationSeconds": "4.5",
            "dimensions": {"width": 640},
        }
    )
    assert out.kind == "video" and out.duration_seconds == 4.5
    assert out.dimensions == {"width": 640}


def test_unknown_output_types_render_as_url_or_text() -> None:
    url = Output.from_json(
        {
            "id": "a",
            "label": "A",
            "type": "model3d",
            "status": "completed",
            "value": "https://cdn.example/m.glb",
        }
    )
    text = Output.from_json(
        {"id": "b", "label": "B", "type": "json", "status": "completed", "value": "{}"}
    )
    assert (url.kind, text.kind) == ("url", "text")
    assert (
        Output.from_json(
            {
                "id": "c",
                "label": "C",
                "type": "audio",
                "status": "completed",
                "value": "https://x/a.mp3",
            }
        ).kind
        == "audio"
    )


def test_bad_progress_is_ignored() -> None:
    e = Execution.from_json({**STARTED, "progress": {"totalOutputs": "lots"}})
    assert e.progress is None


def test_timestamps_iso_z_and_epoch() -> None:
    e = Execution.from_json(
        {
            **STARTED,
            "createdAt": "2026-03-09T10:00:00.000Z",
            "completedAt": 1773050400,
            "startedAt": "not a date",
        }
    )
    assert e.created_at is not None and e.created_at.tzinfo is not None
    assert e.completed_at is not None and e.completed_at.tzinfo == timezone.utc
    assert e.started_at is None
    assert parse_timestamp("") is None and parse_timestamp(["x"]) is None


@pytest.mark.parametrize(
    "payload", [None, [], "x", {"status": "queued"}, {"executionId": "e", "outputs": "nope"}]
)
def test_malformed_executions_raise_invalid_response(payload: Any) -> None:
    with pytest.raises(InvalidResponseError):
        Execution.from_json(payload)


def test_app_and_parameters_with_variants() -> None:
    app = App.from_json(
        {
            "appId": "a1",
            "name": "Photo Stylizer",
            "description": None,
            "isPublic": True,
            "extra": 1,
            "parameters": [
                {
                    "id": "p1",
                    "name": "Upload",
                    "type": "url",
                    "required": True,
                    "options": None,
                    "default": None,
                    "accept": ["image"],
                    "key": "upload",
                },
                {
                    "id": "p2",
                    "name": "Style",
                    "type": "options",
                    "required": "false",
                    "options": [{"label": "Ghibli", "value": "ghibli"}, "Comic"],
                    "default": "Comic",
                },
                {"key": "seed", "type": "text", "default": 42},
            ],
        }
    )
    upload, style, seed = app.parameters or ()
    assert app.description == "" and app.is_public is True
    assert upload.needs_value and upload.accept == ("image",) and upload.key == "upload"
    assert style.options == ("Ghibli", "Comic") and not style.required and style.has_default
    assert seed.name == "seed" and seed.default == "42" and not seed.needs_value
    assert app.parameter("Style") is style and app.parameter("style") is None


def test_listed_app_has_no_parameters() -> None:
    app = App.from_json({"appId": "a1", "name": "X", "isPublic": False})
    assert app.parameters is None and app.is_public is False


@pytest.mark.parametrize("payload", [{"name": "no id"}, "x"])
def test_malformed_apps_raise_invalid_response(payload: Any) -> None:
    with pytest.raises(InvalidResponseError):
        App.from_json(payload)


def test_parameter_without_a_name_is_invalid() -> None:
    with pytest.raises(InvalidResponseError):
        Parameter.from_json({"type": "text"})


def test_models_are_frozen_and_with_app_copies() -> None:
    e = Execution.from_json(STARTED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.status = "completed"  # type: ignore[misc]
    tagged = e.with_app("a1", "Catalog Studio")
    assert (tagged.app_id, tagged.app_name) == ("a1", "Catalog Studio")
    assert e.app_id is None
    assert tagged.with_app(None, None).app_name == "Catalog Studio"
