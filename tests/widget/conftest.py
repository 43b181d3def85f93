"""Fixtures of the widget tests: one sandbox per test module, a fresh session per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from widget_helpers import make_session, widget_sandbox

from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session


@pytest.fixture(scope="module")
def wsb() -> Iterator[Sandbox]:
    with widget_sandbox() as sb:
        yield sb


@pytest.fixture
def session(wsb: Sandbox) -> Iterator[Session]:
    s = make_session(wsb)
    yield s
    s.close()
