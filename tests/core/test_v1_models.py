"""The /v1 extras' models read the service's JSON: tolerant of extra and missing fields, strict
where a field is the point (a run without an id, a list without its rows)."""

from __future__ import annotations

from typing import Any

import pytest

from lamina_notebook.errors import InvalidResponseError
from lamina_notebook.models import Account, Estimate, Execution, RunPage, RunSummary

ESTIMATE = {
    "appId": "a1",
    "name": "Catalog Studio",
    "estimatedCredits": {"expected": 22, "min": 18, "max": "27"},
    "breakdown": [{"nodeId": "n1", "nodeType": "aiDesignerNode", "credits": 6}, "junk"],
    "currentBalance": 1000.0,
    "affordable": "true",
    "newField": {"kept": True},
}


def test_an_estimate_reads_credits_balance_and_steps() -> None:
    est = Estimate.from_json(ESTIMATE)
    assert (est.expected, est.minimum, est.maximum, est.balance) == (22, 18, 27, 1000)
    assert est.affordable is True and len(est.breakdown) == 1 and est.times(3) == 66
    assert est.raw["newField"] == {"kept": True}
    bare = Estimate.from_json({"appId": "a1"})
    assert bare.expected is None and bare.affordable is None and bare.times(5) is None


def test_a_run_summary_reads_the_list_row_and_its_aliases() -> None:
    row = RunSummary.from_json(
        {
            "runId": "r1",
            "workflowId": "w1",
            "status": "CANCELED",
            "source": "web",
            "createdAt": "2026-06-01T12:00:00Z",
            "extra": 1,
        }
    )
    assert row.execution_id == "r1" and row.status == "cancelled" and row.is_terminal
    assert row.created_at is not None and row.created_at.year == 2026
    execution = row.to_execution()
    assert isinstance(execution, Execution) and execution.execution_id == "r1"
    assert RunSummary.from_json({"executionId": "e1"}).run_id == "e1"
    with pytest.raises(InvalidResponseError, match="runId"):
        RunSummary.from_json({"status": "queued"})


def test_a_run_page_reads_pagination_or_makes_do_without() -> None:
    rows: list[dict[str, Any]] = [{"runId": f"r{i}", "status": "completed"} for i in range(3)]
    page = RunPage.from_json({"data": rows, "pagination": {"total": 7, "limit": 3, "offset": 3}})
    assert [r.run_id for r in page.runs] == ["r0", "r1", "r2"] and page.has_more
    alone = RunPage.from_json({"data": rows})
    assert (alone.total, alone.limit, alone.offset, alone.has_more) == (3, 3, 0, False)
    with pytest.raises(InvalidResponseError, match="data"):
        RunPage.from_json({"runs": rows})


def test_an_account_names_the_workspace_and_survives_a_sparse_answer() -> None:
    full = Account.from_json(
        {
            "user": {"id": "u1", "email": "me@example.com"},
            "workspace": {"id": "w1", "name": "Studio", "slug": "studio", "role": "admin"},
            "memberships": [{"workspaceId": "w1"}, "junk"],
        }
    )
    assert full.workspace == "Studio (studio), admin" and len(full.memberships) == 1
    assert Account.from_json({"workspace": {"slug": "solo"}}).workspace == "solo"
    assert Account.from_json({}).workspace == "unknown"
