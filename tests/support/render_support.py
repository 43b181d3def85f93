"""Executions the render tests draw (pure data: no network, no widgets)."""

from __future__ import annotations

from lamina_notebook.models import Execution


def half_done(execution_id: str, app_name: str, app_id: str = "id") -> Execution:
    """A running execution with one of its two outputs completed (an image) and one pending."""
    return Execution.from_json(
        {
            "executionId": execution_id,
            "status": "running",
            "outputs": [
                {
                    "id": "a",
                    "label": "A",
                    "type": "image",
                    "value": "https://x/a",
                    "status": "completed",
                },
                {"id": "b", "label": "B", "type": "pending", "value": None, "status": "pending"},
            ],
        }
    ).with_app(app_id, app_name)
