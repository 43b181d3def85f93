"""User-level actions on a JupyterLab 4 page: open a notebook, Run All, wait, find widgets, shoot.

Every selector the browser tests rely on is here, with the console log the page produced.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labdriver import BENIGN_CONSOLE, SCREENSHOTS, WIDGET_CONSOLE, JupyterLab, notebook_url
from playwright.sync_api import ConsoleMessage, Error, Locator, Page

IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
CODE_PROMPTS = ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt"
# JupyterLab 4 renders an error (a traceback or a `_render_traceback_` display) as stderr.
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
# "done" when every code cell has `[n]:`; "stopped" when some has `[ ]:` but the kernel is
# idle and nothing is queued (`[*]:`), as Run All leaves a notebook after a cell raised.
STOPPED_OR_DONE = """([promptSel, idleSel]) => {
    const prompts = [...document.querySelectorAll(promptSel)].map(p => p.textContent.trim());
    if (prompts.length && prompts.every(p => /^\\[\\d+\\]:$/.test(p))) return "done";
    const ran = prompts.some(p => /^\\[\\d+\\]:$/.test(p));
    const queued = prompts.some(p => p === "[*]:");
    return ran && !queued && document.querySelector(idleSel) ? "stopped" : false;
}"""
DONE_PROMPT = re.compile(r"^\[\d+\]:$")
# The status bar names a real kernel ("Python 3 (ipykernel) | Idle"), not "No Kernel | ...".
STATUS_IDLE = """(idleSel) => {
    const bar = document.querySelector('#jp-main-statusbar');
    return !!document.querySelector(idleSel) && !!bar &&
           /(^|\\n)(?!No Kernel)[^\\n|]+ \\| Idle(\\n|$)/.test(bar.innerText);
}"""


@dataclass
class LabPage:
    """A Playwright page on a JupyterLab server, collecting console errors as it goes."""

    page: Page
    lab: JupyterLab
    console_errors: list[str] = field(default_factory=list)
    console_log: list[str] = field(default_factory=list)
    relpath: str = ""

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def _on_console(self, msg: ConsoleMessage) -> None:
        self.console_log.append(f"{msg.type}: {msg.text}")
        if msg.type == "error" and not any(p.search(msg.text) for p in BENIGN_CONSOLE):
            self.console_errors.append(msg.text)

    # -- notebook life cycle -------------------------------------------------------------------
    def open_notebook(self, relpath: str, *, timeout: float = 60) -> None:
        """Open `relpath` (relative to the lab root) and wait until its kernel is idle."""
        self.relpath = relpath
        self.page.goto(notebook_url(self.lab, relpath))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def menu(self, menu: str, command: str) -> None:
        """Click a main-menu entry, e.g. menu("Kernel", "kernelmenu:shutdown")."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(f"li.lm-Menu-item[data-command='{command}']").click()

    def interrupt_kernel(self) -> None:
        """Kernel > Interrupt Kernel (what a user clicks to stop a cell that waits)."""
        self.menu("Kernel", "kernelmenu:interrupt")

    def set_theme(self, name: str, timeout: float = 15) -> None:
        """Settings > Theme > `name` ("JupyterLab Light", "JupyterLab Dark"); waits until the
        page shows it."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).click()
        label = re.compile(f"^{re.escape(name)}$")
        item = self.page.locator("li.lm-Menu-item[data-command='apputils:change-theme']").filter(
            has=self.page.locator(".lm-Menu-itemLabel", has_text=label)
        )
        theme_menu = self.page.locator("li.lm-Menu-item[data-type='submenu']").filter(
            has=self.page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Theme$"))
        )
        theme_menu.hover()
        item.click()
        self.page.wait_for_function(
            "name => document.body.dataset.jpThemeName === name", arg=name, timeout=timeout * 1000
        )
        self.page.wait_for_timeout(300)  # the theme's stylesheet applies on the next frames

    def widen(self, width: int = 1600) -> None:
        """A wider window without the left sidebar (View > Appearance), for wide outputs."""
        height = (self.page.viewport_size or {"height": 1000})["height"]
        self.page.set_viewport_size({"width": width, "height": height})
        if self.page.locator("#jp-left-stack").is_visible():
            self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^View$")).click()
            self.page.locator("li.lm-Menu-item[data-type='submenu']").filter(
                has=self.page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Appearance$"))
            ).hover()
            self.page.locator(
                "li.lm-Menu-item[data-command='application:toggle-left-area']"
            ).click()
        self.page.locator("#jp-left-stack").wait_for(state="hidden")

    def prompt(self, index: int) -> str:
        """The execution prompt of the `index`-th code cell: "[3]:", "[*]:" or "[ ]:"."""
        prompt = self.code_cell(index).locator(".jp-InputArea-prompt")
        return str(prompt.inner_text()).strip()

    def outputs_text(self, index: int) -> str:
        """Everything the `index`-th code cell's output area shows, as text."""
        return str(self.code_cell(index).locator(".jp-OutputArea").inner_text())

    def shutdown_kernel(self, timeout: float = 30) -> None:
        """Kernel > Shut Down Kernel (confirming the dialog); waits until the server has none."""
        self.menu("Kernel", "kernelmenu:shutdown")
        confirm = self.page.locator(".jp-Dialog").get_by_role("button", name="Shut Down")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if confirm.count() and confirm.first.is_visible():
                confirm.first.click()
            if not self.lab.api("GET", "kernels").json():
                return
            self.page.wait_for_timeout(200)
        raise AssertionError("the kernel was still running after Shut Down Kernel")

    def _kernel_state(self) -> str | None:
        """The execution state of this notebook's kernel, from the server's session list."""
        for session in self.lab.api("GET", "sessions").json():
            if session.get("path") == self.relpath and session.get("kernel"):
                return str(session["kernel"].get("execution_state"))
        return None

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        """Wait until this notebook's kernel runs and is idle, in the server and on the page.

        A "Select Kernel" dialog (JupyterLab shows one when a start races a restore) is
        answered with the notebook's own kernel.
        """
        deadline = time.monotonic() + timeout
        dialog = self.page.locator(".jp-Dialog").get_by_role("button", name="Select")
        while time.monotonic() < deadline:
            if dialog.count() and dialog.first.is_visible():
                dialog.first.click()
            elif self._kernel_state() == "idle" and self.page.evaluate(STATUS_IDLE, IDLE):
                return
            self.page.wait_for_timeout(200)
        self.screenshot("kernel-not-idle")
        raise AssertionError(f"the kernel of {self.relpath} was not idle after {timeout:.0f} s")

    def run_all(self, timeout: float = 180, *, stops: bool = False) -> None:
        """Run > Run All Cells, then wait until every code cell has an execution count; with
        `stops`, Run All must instead stop at a cell that raised (the test's own failing cell)."""
        self.menu("Run", "runmenu:run-all")
        if stops:
            assert self._wait_stopped_or_done(timeout) == "stopped", "Run All did not stop"
            return
        self.wait_cells_done(timeout)

    def run_cell(self, index: int, timeout: float = 60) -> None:
        """Select the `index`-th code cell, run it alone (Shift+Enter) and wait for its `[n]:`."""
        prompt = self.code_cell(index).locator(".jp-InputArea-prompt")
        prompt.click()
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_function(
            "(el) => /^\\[\\d+\\]:$/.test(el.textContent.trim())",
            arg=prompt.element_handle(),
            timeout=timeout * 1000,
            polling=250,
        )
        self.wait_kernel_idle(timeout)

    def _wait_stopped_or_done(self, timeout: float) -> str:
        """ "done" or "stopped" (the same twice, a second apart: a cell between two others is
        never idle and unqueued that long)."""
        while True:
            self.page.wait_for_function(
                STOPPED_OR_DONE, arg=[CODE_PROMPTS, IDLE], timeout=timeout * 1000, polling=250
            )
            state = str(self.eval(STOPPED_OR_DONE, [CODE_PROMPTS, IDLE]))
            if state == "done":
                return state
            self.page.wait_for_timeout(1000)
            if self.eval(STOPPED_OR_DONE, [CODE_PROMPTS, IDLE]) == "stopped":
                return "stopped"

    def wait_cells_done(self, timeout: float = 180) -> None:
        """Wait for all code cells to show `[n]:`; fail at once, with the failing cell's output,
        if Run All stopped at a cell that raised (the kernel idle, nothing queued, cells left)."""
        if self._wait_stopped_or_done(timeout) == "stopped":
            self.screenshot("cell-error")
            errors = self.page.locator(ERROR_OUTPUT)
            shown = "\n---\n".join(e.inner_text()[:1500] for e in errors.all()[-3:])
            raise AssertionError(f"Run All stopped at a cell that raised:\n{shown}")
        self.wait_kernel_idle(timeout)

    def code_cell(self, index: int) -> Locator:
        """The `index`-th code cell (0-based, Markdown cells not counted)."""
        return self.page.locator(".jp-Notebook .jp-CodeCell").nth(index)

    def cell_containing(self, source_fragment: str) -> Locator:
        """The first code cell whose source contains `source_fragment`."""
        return self.page.locator(".jp-Notebook .jp-CodeCell", has_text=source_fragment).first

    # -- widgets -------------------------------------------------------------------------------
    def widget_button(self, label: str, scope: Locator | None = None) -> Locator:
        root = scope if scope is not None else self.page
        return root.locator(".widget-button", has_text=label).first

    def eval(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    # -- evidence ------------------------------------------------------------------------------
    def screenshot(self, name: str, locator: Locator | None = None) -> Path:
        """A PNG under build/screenshots/ (the page, or one element), for people to look at."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        try:
            box = locator.bounding_box() if locator is not None else None
            viewport = self.page.viewport_size or {"height": 0}
            if locator is not None and box is not None and box["height"] <= viewport["height"]:
                locator.screenshot(path=str(path))
                return path
            if locator is not None:  # taller than the window: show its top in context
                locator.evaluate("e => e.scrollIntoView({block: 'start'})")
        except Error:
            pass
        self.page.screenshot(path=str(path))
        return path

    def widget_console_errors(self) -> list[str]:
        """Console errors that mention widgets/comms/models: the widget manager failing."""
        return [e for e in self.console_errors if WIDGET_CONSOLE.search(e)]

    def assert_no_console_errors(self) -> None:
        """Fail on any console error (the widget manager's included) with the whole log attached."""
        assert not self.console_errors, "console errors in JupyterLab:\n" + "\n".join(
            [*self.console_errors, "--- full log ---", *self.console_log[-60:]]
        )
