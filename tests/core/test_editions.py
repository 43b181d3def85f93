"""The two API editions: paths, id field, offered extras, the setting, and auto's probe."""

from __future__ import annotations

import asyncio

import pytest

from lamina_notebook.editions import (
    API,
    V1,
    EditionProbe,
    NotOfferedError,
    edition_setting,
    forget_found_editions,
)
from lamina_notebook.errors import ConfigurationError, LaminaError


def test_each_edition_names_its_own_paths_and_id_field() -> None:
    assert API.prefix + API.app_runs("a b") == "/api/apps/a%20b/executions"
    assert API.prefix + API.run("e/1") == "/api/executions/e%2F1"
    assert V1.prefix + V1.app_runs("a") == "/v1/apps/a/runs"
    assert V1.prefix + V1.run("r") == "/v1/runs/r"
    assert (API.id_field, V1.id_field) == ("executionId", "runId")


def test_extras_are_only_in_v1_and_their_absence_names_the_fix() -> None:
    for feature in ("cancel", "uploads", "estimate", "list_runs", "server_wait", "account"):
        assert V1.offers(feature) and not API.offers(feature)
    with pytest.raises(NotOfferedError) as info:
        API.require("cancel", "Cancelling a run")
    assert isinstance(info.value, LaminaError)
    assert "not offered by the /api edition" in str(info.value)
    assert "LAMINA_API_EDITION=v1" in (info.value.hint or "")


@pytest.mark.parametrize(("given", "expected"), [("auto", "auto"), ("V1", "v1"), ("/api", "api")])
def test_the_setting_accepts_the_three_choices(given: str, expected: str) -> None:
    assert edition_setting(given) == expected


def test_the_setting_comes_from_the_environment_and_refuses_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAMINA_API_EDITION", raising=False)
    assert edition_setting(None) == "auto"
    monkeypatch.setenv("LAMINA_API_EDITION", "v1")
    assert edition_setting(None) == "v1"
    monkeypatch.setenv("LAMINA_API_EDITION", "v2")
    with pytest.raises(ConfigurationError, match="LAMINA_API_EDITION='v2'"):
        edition_setting(None)


def test_auto_probes_once_per_base_url_even_when_asked_at_once() -> None:
    forget_found_editions()
    calls: list[str] = []

    async def probe(edition: object) -> bool:
        calls.append("probe")
        await asyncio.sleep(0.01)
        return False  # /v1 answered 404: an /api-only service

    async def main() -> None:
        first = EditionProbe("http://svc", None)
        found = await asyncio.gather(*(first.resolve(probe) for _ in range(5)))
        assert found == [API] * 5 and first.probes == 1
        again = EditionProbe("http://svc", None)  # a client rebuilt for the same service
        assert await again.resolve(probe) is API and again.probes == 0
        other = EditionProbe("http://other", None)
        assert await other.resolve(lambda _e: asyncio.sleep(0, True)) is V1

    asyncio.run(main())
    assert calls == ["probe"]
    forget_found_editions()


def test_a_fixed_edition_never_probes_and_is_not_remembered_for_auto() -> None:
    forget_found_editions()

    async def never(_edition: object) -> bool:
        raise AssertionError("a fixed edition must not probe")

    async def main() -> None:
        fixed = EditionProbe("http://svc", API)
        assert await fixed.resolve(never) is API and fixed.probes == 0
        auto = EditionProbe("http://svc", None)
        assert auto.edition is None

    asyncio.run(main())
