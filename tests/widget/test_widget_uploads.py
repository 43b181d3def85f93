"""Local files as url inputs: the file picker beside a URL field uploads the chosen file (once per
content), puts its asset URL in the field and shows a thumbnail at the picture's proportions; a
run with it completes (the sandbox's app fetches the asset). The /api edition takes no uploads:
the picker says so and sends nothing."""

from __future__ import annotations

from widget_helpers import control, image_size, make_session, only_run, pick, png, wait_until

from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.uploads import NO_UPLOADS


def test_a_picked_photo_is_uploaded_used_and_shown_at_its_proportions(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Photo Stylizer", session=session)
    field = control(w, "Upload")
    assert field.upload is not None and field.status is not None
    photo = png(400, 200)  # a wide picture
    before = wsb.stats.uploads
    pick(field.upload, ("holiday.png", photo, "image/png"))
    wait_until(lambda: "uploaded holiday.png" in field.status.value)  # type: ignore[union-attr]
    url = field.input.value
    assert url.startswith(wsb.base_url) and "/assets/" in url
    assert w.value["Upload"] == url and wsb.stats.uploads == before + 1
    assert field.upload.value == ()  # cleared: the same file can be picked again
    preview = field.preview
    assert preview is not None
    width, height = image_size(preview.value)
    assert (width, height) == (160, 80)  # the thumbnail keeps the 2:1 shape...
    assert (
        preview.layout.object_fit == "contain" and preview.layout.height == "auto"
    )  # ...on screen
    assert field.error.value == "" and not w.parts.run_button.disabled
    result = w.run().result(timeout=30)
    assert result.is_completed and result.inputs["Upload"] == url
    w.wait(timeout=30)
    assert only_run(w).result is not None

    pick(field.upload, ("again.png", photo, "image/png"))  # the same content, another name
    wait_until(lambda: "uploaded again.png" in field.status.value)  # type: ignore[union-attr]
    assert field.input.value == url and wsb.stats.uploads == before + 1  # cached: sent once


def test_several_files_fill_a_multiple_url_field(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Mood Board", session=session)
    field = control(w, "Reference Images")
    assert field.upload is not None and field.upload.multiple
    pick(
        field.upload,
        ("a.png", png(300, 300, (10, 120, 200)), "image/png"),
        ("b.png", png(200, 300, (240, 200, 10)), "image/png"),
    )
    wait_until(lambda: "uploaded a.png, b.png" in field.status.value)  # type: ignore[union-attr]
    urls = w.value["Reference Images"]
    assert isinstance(urls, list) and len(urls) == 2 and all("/assets/" in u for u in urls)
    assert field.previews is not None and len(field.previews.children) == 2
    field.input.value += f"\n{wsb.base_url}/samples/landscape.png"  # a URL typed beside them
    assert len(w.value["Reference Images"]) == 3
    wait_until(lambda: "3 reachable" in field.status.value)  # type: ignore[union-attr]
    assert len(field.previews.children) == 3
    result = w.run().result(timeout=30)
    assert result.is_completed and len(result.inputs["Reference Images"]) == 3


def test_the_api_edition_takes_no_uploads_and_says_so(wsb: Sandbox) -> None:
    s = make_session(wsb, api_edition="api")
    try:
        w = LaminaApp("Photo Stylizer", session=s)
        field = control(w, "Upload")
        assert field.upload is not None and field.upload.disabled
        assert field.upload.tooltip == NO_UPLOADS and "public https:// URL" in NO_UPLOADS
        before = wsb.stats.upload_urls
        pick(field.upload, ("me.png", png(20, 20), "image/png"))  # a pick that slips through
        wait_until(lambda: "takes no uploads" in field.status.value)  # type: ignore[union-attr]
        assert wsb.stats.upload_urls == before and field.input.value == ""
        field.input.value = "C:/photos/me.png"  # a local path: no upload to suggest here
        problem = field.error.value
        assert "not an http(s) URL" in problem and "upload" not in problem.lower(), problem
    finally:
        s.close()


def test_a_picker_the_service_refuses_is_disabled_after_the_first_try(wsb: Sandbox) -> None:
    # Where the edition was not known when the widget was built, the first upload finds out.
    s = make_session(wsb, api_edition="api")
    try:
        w = LaminaApp("Photo Stylizer", session=s)
        field = control(w, "Upload")
        assert field.upload is not None
        field.upload.disabled = False  # as if the edition were still unknown
        field.upload.tooltip = ""
        pick(field.upload, ("me.png", png(20, 20), "image/png"))
        wait_until(lambda: field.upload.disabled)  # type: ignore[union-attr]
        assert field.upload.tooltip == NO_UPLOADS
        assert "takes no uploads" in field.status.value  # type: ignore[union-attr]
    finally:
        s.close()
