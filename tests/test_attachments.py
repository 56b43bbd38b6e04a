"""Photos and files in a conversation: a customer's photo to the owner, the owner's image or PDF
to the customer. Real images made by Pillow (one with the customer's location in its EXIF and a
script appended after its pixels), hostile files named .jpg, the real app, a real backup."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient
from PIL import Image
from pypdf import PdfReader

from appliance.clock import utc_now
from appliance.conversations import attachments, privacy
from appliance.ops import backup

from .helpers import bearer, make_api_client, password_hash, pdf, post, sign_in, start_chat

HTML_AS_JPG = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_AS_JPG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'


def photo(size: tuple[int, int] = (3000, 1500), *, exif_gps: bool = True, trailer: bytes = b"") -> bytes:
    """A JPEG as a phone writes one: EXIF with where it was taken (and the way up)."""
    img = Image.new("RGB", size, (200, 40, 40))
    for x in range(0, size[0], 50):  # something that isn't one colour
        img.paste((20, 20, 200), (x, 0, x + 10, size[1]))
    exif = Image.Exif()
    if exif_gps:
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0112] = 6  # Orientation: rotate 90° to show
        exif[0x8825] = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (51.0, 23.0, 19.0)}  # GPS: Tehran
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue() + trailer


# -- what is stored is never what was sent ------------------------------------------------------


def test_a_photo_is_drawn_again_upright_smaller_and_without_its_metadata() -> None:
    sent = photo(trailer=b"<script>alert(1)</script>")
    assert b"PhoneMaker" in sent
    clean = attachments.clean_image(sent, "../../etc/عکس بسته.jpeg", 8_000_000)
    assert clean.mime == "image/jpeg" and clean.kind == "image"
    assert clean.name == "عکس بسته.jpg"  # no path, the real type's extension
    stored = Image.open(io.BytesIO(clean.data))
    # Orientation 6 applied: the 3000x1500 landscape is a portrait, at most 2000 a side
    assert (clean.width, clean.height) == stored.size == (1000, 2000)
    assert not stored.getexif() and "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"PhoneMaker" not in clean.data and b"<script>" not in clean.data
    assert clean.data.endswith(b"\xff\xd9")  # nothing after the image's end


def test_a_lossless_picture_stays_png_and_an_animation_keeps_its_first_frame() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(out, "PNG")
    clean = attachments.clean_image(out.getvalue(), "logo.png", 1_000_000)
    assert clean.mime == "image/png" and Image.open(io.BytesIO(clean.data)).mode == "RGBA"
    frames = [Image.new("P", (20, 20), n) for n in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    first = attachments.clean_image(gif.getvalue(), "a.gif", 1_000_000)
    assert first.mime == "image/png" and first.name == "a.png"
    assert attachments.clean_image(photo((40, 30)), "a.webp", 1_000_000).mime == "image/jpeg"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (HTML_AS_JPG, "attachment.not_image"),
        (SVG_AS_JPG, "attachment.not_image"),
        (b"", "attachment.empty"),
        (photo((300, 200))[:400], "attachment.damaged"),  # cut off mid-image
        (pdf(), "attachment.not_image"),  # a customer sends photos only
    ],
)
def test_what_isnt_a_photo_is_refused_whatever_its_name(content: bytes, key: str) -> None:
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean_image(content, "holiday.jpg", 8_000_000)
    assert refused.value.key == key


def test_a_decompression_bomb_and_a_big_file_are_refused() -> None:
    bomb = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(bomb, "PNG")  # 60 megapixels in a few kB
    assert len(bomb.getvalue()) < 100_000
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean_image(bomb.getvalue(), "x.png", 8_000_000)
    assert refused.value.key in {"attachment.too_many_pixels", "attachment.not_image"}
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean_image(photo(), "x.jpg", 1000)
    assert refused.value.key == "attachment.too_big"


def test_the_owner_may_send_a_pdf_but_not_a_damaged_one() -> None:
    clean = attachments.clean_owner_file(pdf(), "راهنمای گارانتی.pdf", 1_000_000)
    assert (clean.kind, clean.mime, clean.name) == ("pdf", "application/pdf", "راهنمای گارانتی.pdf")
    with pytest.raises(attachments.AttachmentRefused) as refused:
        attachments.clean_owner_file(b"%PDF-1.4\nthis is not a pdf", "x.pdf", 1_000_000)
    assert refused.value.key == "attachment.damaged"
    with pytest.raises(attachments.AttachmentRefused):
        attachments.clean_owner_file(HTML_AS_JPG, "x.pdf", 1_000_000)


# -- the customer's photo, through the widget's API ----------------------------------------------


def _send_photo(c: TestClient, conv: str, token: str, content: bytes, name: str = "parcel.jpg", text: str = ""):
    return c.post(
        f"/api/v1/conversations/{conv}/attachments",
        files={"file": (name, content, "image/jpeg")},
        data={"text": text, "lang": "fa"},
        headers=bearer(token),
    )


def test_a_customers_photo_goes_to_the_owner_and_only_that_visitor_can_fetch_it(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db) as c:
        conv, token, _ = start_chat(c, "fa")
        r = _send_photo(c, conv, token, photo(), text="کتاب پاره رسید")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["handoff"] is True and "عکس" in body["text"]
        message = body["message"]
        assert message["role"] == "customer" and message["text"] == "کتاب پاره رسید"
        (file,) = message["attachments"]
        assert (
            file["kind"] == "image" and file["mime"] == "image/jpeg" and (file["width"], file["height"]) == (1000, 2000)
        )
        assert c.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()["status"] == "waiting"

        got = c.get(f"/api/v1/attachments/{file['id']}", headers=bearer(token))
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        assert got.headers["content-disposition"].startswith("inline;")
        assert not Image.open(io.BytesIO(got.content)).getexif()

        # Another visitor, or nobody, gets nothing (a 404: ids can't be probed)
        _, other, _ = start_chat(c, "fa")
        assert c.get(f"/api/v1/attachments/{file['id']}", headers=bearer(other)).status_code == 404
        assert c.get(f"/api/v1/attachments/{file['id']}").status_code == 401
        assert c.get("/api/v1/attachments/nope", headers=bearer(token)).status_code == 404


def test_hostile_and_oversized_photos_are_refused_and_nothing_is_stored(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db, attachment_max_mb=1) as c:
        conv, token, _ = start_chat(c, "en")
        for content in (HTML_AS_JPG, SVG_AS_JPG):
            r = _send_photo(c, conv, token, content)
            assert r.status_code == 415 and r.json()["error"] == "attachment.not_image"
        big = photo((4000, 3000), exif_gps=False) + b"\0" * 1_200_000
        r = _send_photo(c, conv, token, big)
        assert r.status_code == 413 and r.json()["error"] == "attachment.too_big"
        # A photo is a form, but nothing else is: a text/plain post is still refused
        r = c.post(
            f"/api/v1/conversations/{conv}/attachments",
            content=b"x",
            headers={**bearer(token), "content-type": "text/plain"},
        )
        assert r.status_code == 415
        # and another site's page can't send one
        r = c.post(
            f"/api/v1/conversations/{conv}/attachments",
            files={"file": ("a.jpg", photo((50, 50)), "image/jpeg")},
            headers={**bearer(token), "origin": "https://evil.example"},
        )
        assert r.status_code == 403
        history = c.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()
        assert history["messages"] == []
    with make_api_client(data_dir, demo_db, customer_photos=False) as c:
        conv, token, _ = start_chat(c, "en")
        assert _send_photo(c, conv, token, photo((50, 50))).json()["error"] == "photos_off"
        assert 'id="photo"' not in c.get("/widget?lang=en").text


def test_photos_are_rate_limited_per_visitor_and_per_address(
    data_dir: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.web.api import photos

    with make_api_client(data_dir, demo_db, attachments_per_hour=2) as c:
        conv, token, _ = start_chat(c, "en")
        small = photo((60, 40), exif_gps=False)
        assert [_send_photo(c, conv, token, small).status_code for _ in range(3)] == [200, 200, 429]
        # new visitors cost nothing: the address has a daily limit of its own
        c.app.state.services.apply_settings(c.app.state.services.settings.replace(photos_per_address_per_day=3))
        other_conv, other, _ = start_chat(c, "en")
        codes = [_send_photo(c, other_conv, other, small).status_code for _ in range(2)]
        assert codes == [200, 429]  # the first visitor's two count too
        # a nearly full disk takes no photos (and says so) rather than fill up under the database
        real = photos.shutil.disk_usage
        monkeypatch.setattr(photos.shutil, "disk_usage", lambda p: real(p)._replace(free=10_000_000))
        third_conv, third, _ = start_chat(c, "en")
        r = _send_photo(c, third_conv, third, small)
        assert r.status_code == 507 and r.json()["error"] == "storage_full"


# -- the owner's side ----------------------------------------------------------------------------


def test_the_owner_sees_the_photo_and_sends_a_pdf_and_an_image_back(data_dir: Path, demo_db: Path) -> None:

    with make_api_client(data_dir, demo_db) as c:
        from appliance.owner import account as owner

        owner.set_password(c.app.state.services.store, password_hash(), utc_now)
        conv, token, _ = start_chat(c, "fa")
        file_id = _send_photo(c, conv, token, photo()).json()["message"]["attachments"][0]["id"]
        assert c.get(f"/admin/attachments/{file_id}", follow_redirects=False).status_code in {302, 303, 401}
        assert sign_in(c).status_code in {200, 302, 303}
        page = c.get(f"/admin/conversations/{conv}")
        assert f'src="/admin/attachments/{file_id}"' in page.text and 'name="file"' in page.text
        seen = c.get(f"/admin/attachments/{file_id}")
        assert seen.status_code == 200 and seen.headers["x-content-type-options"] == "nosniff"

        # A PDF with a few words, in a multipart form as the page sends it
        r = post(
            c,
            f"/admin/conversations/{conv}/reply",
            files={"file": ("راهنمای گارانتی.pdf", pdf(), "application/pdf")},
            data={"text": "راهنمای گارانتی پیوست است"},
        )
        assert r.status_code == 200, r.text
        # An image alone, no words
        r = post(
            c, f"/admin/conversations/{conv}/reply", files={"file": ("x.png", _png(), "image/png")}, data={"text": ""}
        )
        assert r.status_code == 200
        # An SVG named .png is refused, in the owner's language, and the draft is kept
        r = post(
            c,
            f"/admin/conversations/{conv}/reply",
            files={"file": ("x.png", SVG_AS_JPG, "image/png")},
            data={"text": "سلام"},
        )
        assert r.status_code == 422 and "عکس نیست" in r.text and "سلام" in r.text

        history = c.get(f"/api/v1/conversations/{conv}/messages", headers=bearer(token)).json()["messages"]
        owners = [m for m in history if m["role"] == "owner"]
        assert [m["text"] for m in owners] == ["راهنمای گارانتی پیوست است", ""]
        sent_pdf, sent_png = owners[0]["attachments"][0], owners[1]["attachments"][0]
        assert sent_pdf["kind"] == "pdf" and sent_png["mime"] == "image/png"
        got = c.get(f"/api/v1/attachments/{sent_pdf['id']}", headers=bearer(token))
        # written again (without scripts or what follows its end: test_abuse_limits.py), same page
        assert len(PdfReader(io.BytesIO(got.content)).pages) == 1
        assert got.headers["content-disposition"].startswith("attachment;")
        assert "filename*=UTF-8''" in got.headers["content-disposition"]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


def test_erasing_a_customer_erases_their_photos_and_backups_keep_them(data_dir: Path, demo_db: Path) -> None:
    with make_api_client(data_dir, demo_db) as c:
        conv, token, _ = start_chat(c, "en")
        assert _send_photo(c, conv, token, photo((200, 100))).status_code == 200
        store = c.app.state.services.store
        taken = backup.take(data_dir / "appliance.db", data_dir / "backups", utc_now())
        kept = sqlite3.connect(taken.path)
        assert kept.execute("SELECT count(*), sum(length(data)) > 1000 FROM attachments").fetchone() == (1, 1)
        kept.close()
        assert privacy.export_customer(store, [conv])["conversations"][0]["messages"][0]["attachments"][0]["mime"] == (
            "image/jpeg"
        )
        privacy.erase_customer(store, privacy.customer_ids(store, conversation_id=conv))
        assert store.read().execute("SELECT count(*) FROM attachments").fetchone()[0] == 0


def test_the_upload_is_in_the_openapi_schema_as_multipart(api: TestClient) -> None:
    schema = api.get("/api/schema/openapi.json").json()
    post_op = schema["paths"]["/api/v1/conversations/{conversation_id}/attachments"]["post"]
    assert "multipart/form-data" in post_op["requestBody"]["content"]
    assert "/api/v1/attachments/{attachment_id}" in schema["paths"]
