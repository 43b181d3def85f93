"""The one scoped stylesheet of the rendered HTML, and the status -> badge class mapping.

Every rule is under a ``lamina-`` class so nothing leaks into the notebook; every colour is a
JupyterLab ``--jp-*`` variable with a fallback (checked by a test), so light and dark themes
read well: text on a coloured badge or a selected toggle is ``--jp-ui-inverse-font-color1``
on ``--jp-brand-color1``/status colours, the pairing JupyterLab's own primary buttons use. The
widget can rely on ``.lamina-app .widget-toggle-button.mod-active`` (a selected toggle in a
``LaminaApp``) being visible in both themes. Where a
sanitizer drops the ``<style>`` (GitHub, untrusted notebooks in JupyterLab) the markup alone must
read well: block elements, ``SEP`` separators, and only inline styles that JupyterLab's sanitizer
keeps (plain lengths, ``display``, ``overflow-x``, ``white-space``; no ``var()`` or grid).
``.lamina-table.lamina-table`` outranks JupyterLab's ``.jp-RenderedHTMLCommon table``, whose
``table-layout: fixed`` made every column equally wide (a history row's time ran into the app's
name); pictures in a grid's compare table fill their cell instead of the 64 px of a thumbnail.
"""

from __future__ import annotations

__all__ = ["CSS", "ERROR_STYLE", "MUTED_STYLE", "STYLE_TAG", "status_class"]

#: Inline styles for widget HTML, whose views are not under the stylesheet's classes: muted
#: (secondary) text and error text, in the theme's colours.
MUTED_STYLE = "color:var(--jp-ui-font-color2,#666)"
ERROR_STYLE = "color:var(--jp-error-color1,#c62828)"

CSS = """
.lamina-card{font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;
 color:var(--jp-ui-font-color1,#1f2328);background:var(--jp-layout-color1,#fff);
 border:1px solid var(--jp-border-color2,#d0d7de);border-radius:6px;padding:10px 12px;
 margin:4px 0;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere}
.lamina-head{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin-bottom:8px}
.lamina-title{font-weight:600;font-size:14px}
.lamina-id,.lamina-muted{color:var(--jp-ui-font-color2,#59636e);font-size:12px}
.lamina-id{font-family:var(--jp-code-font-family,monospace)}
.lamina-badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11px;
 font-weight:600;color:var(--jp-ui-inverse-font-color1,#fff);
 background:var(--jp-layout-color4,#6e7781);white-space:nowrap}
.lamina-s-completed{background:var(--jp-success-color1,#1a7f37)}
.lamina-s-failed{background:var(--jp-error-color1,#cf222e)}
.lamina-s-running{background:var(--jp-brand-color1,#0969da)}
.lamina-s-queued{background:var(--jp-warn-color1,#9a6700)}
.lamina-gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px}
.lamina-out{margin:0;min-width:0}
.lamina-out img,.lamina-out video{max-width:100%;height:auto;display:block;border-radius:4px;
 background:var(--jp-layout-color2,#f6f8fa)}
.lamina-out figcaption{margin-top:4px;color:var(--jp-ui-font-color2,#59636e);font-size:12px}
.lamina-wide{grid-column:1/-1}
.lamina-text{white-space:pre-wrap;margin:0;padding:8px;border-radius:4px;
 font-family:var(--jp-content-font-family,system-ui,sans-serif);
 background:var(--jp-layout-color2,#f6f8fa);color:var(--jp-ui-font-color1,#1f2328)}
.lamina-pending{display:flex;align-items:center;justify-content:center;min-height:80px;
 border:1px dashed var(--jp-border-color2,#d0d7de);border-radius:4px;
 color:var(--jp-ui-font-color2,#59636e)}
.lamina-error{border-left:4px solid var(--jp-error-color1,#cf222e);padding:6px 10px;margin:6px 0;
 background:var(--jp-layout-color2,#f6f8fa);color:var(--jp-ui-font-color1,#1f2328)}
.lamina-error ul{margin:4px 0 0 0;padding-left:18px}
.lamina-hint{color:var(--jp-ui-font-color2,#59636e);margin-top:4px}
.lamina-link{color:var(--jp-content-link-color,var(--jp-brand-color1,#0969da))}
.lamina-table{border-collapse:collapse;width:100%;font-size:12px;margin-bottom:6px;
 color:var(--jp-ui-font-color1,#1f2328)}
.lamina-table.lamina-table{table-layout:auto}
.lamina-table th,.lamina-table td{text-align:left;vertical-align:top;padding:4px 8px;
 border-bottom:1px solid var(--jp-border-color2,#d0d7de);color:inherit}
.lamina-table th{color:var(--jp-ui-font-color2,#59636e);font-weight:600}
.lamina-table td,.lamina-table th{overflow-wrap:break-word}
.lamina-chip{display:inline-block;white-space:nowrap;margin:1px 0}
.lamina-short-id{white-space:nowrap;cursor:help}
.lamina-star{color:var(--jp-warn-color1,#9a6700)}
.lamina-diff,.lamina-note{font-size:12px;margin-top:2px;color:var(--jp-ui-font-color2,#59636e)}
.lamina-note{font-style:italic}
.lamina-reuse summary{cursor:pointer;color:var(--jp-ui-font-color2,#59636e);font-size:12px}
.lamina-more{margin:6px 0 2px 0}
.lamina-table img{max-width:64px;max-height:64px;border-radius:3px}
.lamina-table.lamina-compare img{max-width:100%;max-height:none}
.lamina-code{font-family:var(--jp-code-font-family,monospace);font-size:12px}
.lamina-bar{height:6px;border-radius:3px;background:var(--jp-layout-color3,#e6e8eb);
 overflow:hidden;margin:4px 0}
.lamina-bar>div{height:100%;background:var(--jp-brand-color1,#0969da)}
.lamina-sep{display:none}
.lamina-sweep{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));
 gap:12px 10px;align-items:start}
.lamina-sweep>.lamina-sweep-cell{width:auto!important;margin:0!important;min-width:0}
.lamina-grid-label{font-weight:600;color:var(--jp-ui-font-color1,#1f2328);font-size:12px;
 margin-bottom:4px;overflow-wrap:normal}
.lamina-progress-label{white-space:normal!important;height:auto!important;
 line-height:1.4!important;padding:4px 0}
.lamina-sweep-cell .widget-label{height:auto!important;line-height:1.6!important;
 white-space:normal!important;overflow-wrap:anywhere}
.lamina-compare{width:auto}
.lamina-compare td{border-bottom:none}
.lamina-inputs summary{cursor:pointer;color:var(--jp-ui-font-color2,#59636e);margin-top:8px}
.lamina-app .widget-toggle-button.mod-active,
.lamina-app .jupyter-button.widget-toggle-button.mod-active{
 background:var(--jp-brand-color1,#0969da);color:var(--jp-ui-inverse-font-color1,#fff)}
"""

STYLE_TAG = f"<style>{' '.join(CSS.split())}</style>"

_STATUS_CLASS = {
    "completed": "lamina-s-completed",
    "failed": "lamina-s-failed",
    "cancelled": "lamina-s-failed",
    "error": "lamina-s-failed",
    "running": "lamina-s-running",
    "processing": "lamina-s-running",
    "queued": "lamina-s-queued",
    "pending": "lamina-s-queued",
    "unconfirmed": "lamina-s-queued",  # a start whose answer was lost: warn, not fail
}


def status_class(status: str | None) -> str:
    """A fixed class for a status (service text never becomes a class name)."""
    return _STATUS_CLASS.get((status or "").lower(), "lamina-s-other")
