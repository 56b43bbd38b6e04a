"""The owner's documents: web pages, Markdown, text, PDF and Word read into sections; FAQ
structure proposed as entries; sections answering customers with the document named; pages and
the product feed fetched from a real HTTP server on loopback under the fetch rules. Real SQLite
files, the real app through Litestar's test client, real files made by the libraries that write
them (python-docx) or written byte by byte (a PDF)."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from appliance import i18n
from appliance.app import create_app
from appliance.catalog import feed
from appliance.catalog import store as catalog_store
from appliance.cli import main
from appliance.clock import utc_now
from appliance.db import Store
from appliance.documents import extract, fetch, reply
from appliance.documents import store as documents_store
from appliance.documents.extract import DocumentError
from appliance.kb import embedder
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.settings import Settings

from .helpers import SAME, QuietHandler, csrf, make_pdf, password_hash, reply_of, send, sign_in, start_chat

ZWNJ = "\u200c"
FAQ_PAGE = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>پرسش‌های متداول | کتاب‌فروشی نمونه</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": [
 {"@type": "Question", "name": "هزینهٔ ارسال چقدر است؟",
  "acceptedAnswer": {"@type": "Answer", "text": "<p>ارسال به تهران <b>۴۵ هزار</b> تومان است.</p>"}}]}</script>
</head><body>
<nav><a href="/">خانه</a> <a href="/shop">فروشگاه</a> <a href="/cart">سبد خرید</a></nav>
<main>
<h1>پرسش‌های متداول</h1>
<h2>بسته‌بندی هدیه</h2>
<p>هر کتاب را می‌توانیم با کاغذ کادو و کارت تبریک دست‌نویس بفرستیم. بسته‌بندی هدیه بیست هزار تومان است.
کارت تبریک را هنگام ثبت سفارش در بخش توضیحات بنویسید.</p>
<h2>چطور کتاب را پس بدهم؟</h2>
<p>تا هفت روز پس از دریافت می‌توانید کتاب سالم را با فاکتور پس بدهید. مبلغ ظرف سه روز کاری به کارتتان برمی‌گردد.</p>
<details><summary>ساعت کاری شما چیست؟</summary><p>شنبه تا چهارشنبه ۹ تا ۱۸.</p></details>
<dl><dt>Do you ship abroad?</dt><dd>Not yet: only within Iran.</dd></dl>
</main>
<footer>تمام حقوق محفوظ است © ۱۴۰۵ · <a href="/about">دربارهٔ ما</a></footer>
</body></html>"""


# -- reading documents ------------------------------------------------------------------------------


def test_a_persian_faq_page_keeps_its_headings_words_and_questions() -> None:
    doc = extract.extract(FAQ_PAGE.encode(), "faq.html")
    assert doc.title == "پرسش‌های متداول" and doc.kind == "html" and doc.lang == "fa"
    headings = [s.heading for s in doc.sections]
    assert "بسته‌بندی هدیه" in headings and "چطور کتاب را پس بدهم؟" in headings
    text = "\n".join(s.text for s in doc.sections)
    assert f"می{ZWNJ}توانیم" in text  # the zero-width non-joiner survives the extraction
    assert "سبد خرید" not in text and "تمام حقوق" not in text  # the menu and the footer are not the page
    proposals = {p.question: p.answer for p in doc.proposals}
    assert proposals["هزینهٔ ارسال چقدر است؟"] == "ارسال به تهران ۴۵ هزار تومان است."  # JSON-LD, no tags
    assert proposals["ساعت کاری شما چیست؟"].strip() == "شنبه تا چهارشنبه ۹ تا ۱۸."  # <details>
    assert proposals["Do you ship abroad?"] == "Not yet: only within Iran."  # a definition list
    assert proposals["چطور کتاب را پس بدهم؟"].startswith("تا هفت روز")  # a question heading
    assert "بسته‌بندی هدیه" not in proposals  # a heading that is not a question proposes nothing


def test_markdown_and_text_are_split_at_their_headings() -> None:
    md = "# Shipping policy\n\nIntro line.\n\n## Express\nSame day in **Tehran**, see [rates](https://shop.example/rates).\n"
    doc = extract.extract(md.encode(), "policy.md")
    assert doc.title == "Shipping policy"
    express = next(s for s in doc.sections if s.heading == "Express")
    assert express.text.strip() == "Same day in Tehran, see rates (https://shop.example/rates)."
    txt = "ساعت کاری\n\nشنبه تا چهارشنبه از ۹ صبح تا ۶ عصر باز هستیم.\n\nآدرس فروشگاه\n\nاصفهان، خیابان چهارباغ."
    doc = extract.extract(txt.encode(), "راهنما.txt")
    assert [s.heading for s in doc.sections] == ["ساعت کاری", "آدرس فروشگاه"] and doc.title == "راهنما"
    # Persian sentences with no full stop: short lines, none of them a heading, nothing lost
    loose = "ساعت کاری\n\nشنبه تا چهارشنبه باز هستیم\n\nآدرس\n\nاصفهان خیابان چهارباغ"
    doc = extract.extract(loose.encode(), "notes.txt")
    assert "اصفهان خیابان چهارباغ" in doc.sections[-1].text and "شنبه تا چهارشنبه" in doc.sections[0].text


def _docx(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_heading("شرایط گارانتی", level=0)  # the Title style
    d.add_heading("گارانتی تعویض باتری", level=1)
    d.add_paragraph("باتری‌هایی که ما عوض می‌کنیم شش ماه گارانتی دارند.")
    d.add_heading("Screen repair", level=1)
    d.add_paragraph("Screens we replace carry a three-month warranty.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "آیفون ۱۱", "۳٬۲۰۰٬۰۰۰ تومان"
    table.cell(1, 0).text, table.cell(1, 1).text = "آیفون ۱۲", "۴٬۱۰۰٬۰۰۰ تومان"
    path = tmp_path / "گارانتی.docx"
    d.save(path)
    return path


def test_a_word_file_with_persian_headings_and_a_price_table(tmp_path: Path) -> None:
    doc = extract.extract(_docx(tmp_path).read_bytes(), "گارانتی.docx")
    assert doc.title == "شرایط گارانتی"
    sections = {s.heading: s.text for s in doc.sections}
    assert sections["گارانتی تعویض باتری"].strip() == "باتری‌هایی که ما عوض می‌کنیم شش ماه گارانتی دارند."
    assert "آیفون ۱۱ | ۳٬۲۰۰٬۰۰۰ تومان" in sections["Screen repair"]  # the table, row by row


def test_a_pdf_page_by_page_and_the_pdfs_that_cannot_be_used() -> None:
    pdf = make_pdf(["Returns policy\nBooks can be returned within seven days.", "Gift wrapping\nWe wrap any book."])
    doc = extract.extract(pdf, "policy.pdf")
    assert [s.heading for s in doc.sections] == ["Returns policy", "Gift wrapping"]
    assert doc.sections[0].text == "Books can be returned within seven days."
    with pytest.raises(DocumentError) as scanned:
        extract.extract(make_pdf([None, None]), "scan.pdf")
    assert scanned.value.key == "document.pdf_scanned"
    assert "اسکن" in i18n.refusal("fa", scanned.value)  # told in the owner's language
    with pytest.raises(DocumentError) as broken:
        extract.extract(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R", "broken.pdf")
    assert broken.value.key == "document.bad_pdf"


def test_files_that_are_not_documents_are_refused_with_the_reason() -> None:
    cases = {
        ("big.pdf", b"%PDF" + b"0" * (50 * 2**20)): "document.too_big",
        ("notes.xlsx", b"PK\x03\x04"): "document.file_type",
        ("empty.txt", b"  \n"): "document.empty",
        ("fake.docx", b"<html>not a word file</html>"): "document.bad_docx",
        ("latin1.txt", "café".encode("latin-1")): "entry.not_utf8",
    }
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (extract.MAX_UNPACKED_BYTES + 1))
    cases[("bomb.docx", bomb.getvalue())] = "document.bad_docx"  # a few hundred KiB, unpacking to 200 MB
    for (name, data), key in cases.items():
        with pytest.raises(DocumentError) as refused:
            extract.extract(data, name)
        assert refused.value.key == key, name


def test_the_reply_is_the_sentences_that_answer() -> None:
    text = (
        "We ship every weekday from our Isfahan store. Parcels within Isfahan arrive the same day. "
        "Returns are accepted within seven days of delivery if the book is unused. "
        "Refunds reach your card within three working days. Gift wrapping costs extra."
    )
    quoted = reply.excerpt(text, "when will my refund reach my card?", limit=120)
    assert quoted.startswith("Refunds reach your card") and len(quoted) <= 120
    assert reply.excerpt("Short answer.", "anything") == "Short answer."
    assert (
        reply.cite("متن", "قوانین", "https://shop.example/faq", "fa") == "متن\n\nاز «قوانین» https://shop.example/faq"
    )


# -- storing: sections are entries, re-import replaces them ------------------------------------------


def test_importing_again_replaces_the_sections_and_keeps_their_history(store: Store) -> None:
    e = embedder.shared()
    doc = extract.extract(FAQ_PAGE.encode(), "faq.html")
    first = documents_store.save(store, doc, source="faq.html", data=b"1", embedder=e, now="t1")
    assert (first.added, first.changed, first.removed) == (len(doc.sections), 0, 0)
    ids = documents_store.section_ids(store.read(), first.document)
    assert all(documents_store.is_section(i) for i in ids) and len(ids) == len(doc.sections)

    edited = FAQ_PAGE.replace("بیست هزار تومان", "سی هزار تومان").replace(
        "<details><summary>ساعت کاری شما چیست؟</summary><p>شنبه تا چهارشنبه ۹ تا ۱۸.</p></details>", ""
    )
    doc2 = extract.extract(edited.encode(), "faq.html")
    second = documents_store.save(store, doc2, source="faq.html", data=b"2", embedder=e, now="t2")
    assert second.document == first.document and second.changed >= 1
    db = store.read()
    gift = next(x for x in kb.all_entries(db) if x.title == "بسته‌بندی هدیه")
    assert "سی هزار" in gift.answer
    history = kb.history(db, gift.id)
    assert [h["action"] for h in history] == ["create", "update"] and "بیست هزار" in history[0]["entry"]["answer"]
    assert documents_store.get(db, first.document).sections == len(doc2.sections)


def test_approved_questions_become_the_owners_entries_and_leave_the_sections(store: Store) -> None:
    doc = extract.extract(FAQ_PAGE.encode(), "faq.html")
    returns = next(i for i, p in enumerate(doc.proposals) if p.question == "چطور کتاب را پس بدهم؟")
    done = documents_store.save(
        store, doc, source="faq.html", data=b"x", embedder=embedder.shared(), now="t1", approved=[returns]
    )
    assert done.faq_entries == 1
    db = store.read()
    faq = [x for x in kb.all_entries(db) if x.id.startswith("faq-")]
    assert [(x.title, x.questions, x.lang) for x in faq] == [("چطور کتاب را پس بدهم؟", ["چطور کتاب را پس بدهم؟"], "fa")]
    sections = [kb.get(db, i) for i in documents_store.section_ids(db, done.document)]
    assert all(s is not None and s.title != "چطور کتاب را پس بدهم؟" for s in sections)  # not twice
    assert documents_store.delete(store, done.document, now="t2")
    db = store.read()
    assert documents_store.section_ids(db, done.document) == [] and kb.get(db, faq[0].id) is not None


# -- fetching from the shop's own site: a real HTTP server on loopback ---------------------------------


class Site(QuietHandler):
    feed_body = b"sku,name,price,stock\nB1,Blue Hoodie,890000,3\n"

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        routes = {
            "/faq": (200, "text/html; charset=utf-8", FAQ_PAGE.encode()),
            "/policy.pdf": (200, "application/pdf", make_pdf(["Returns\nWithin seven days."])),
            "/feed.csv": (200, "text/csv", self.feed_body),
            "/feed-page": (200, "text/html", b"<!doctype html><html><body>Log in</body></html>"),
            "/big": (200, "text/html", b"x" * (3 * 2**20)),
        }
        if self.path == "/moved":
            self._send(302, "text/plain", b"", location="/faq")
        elif self.path == "/away":
            self._send(302, "text/plain", b"", location=f"http://localhost:{port}/faq")
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, "text/html", b"<p>late</p>")
        elif self.path in routes:
            self._send(*routes[self.path])
        else:
            self._send(404, "text/plain", b"no")


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _fetch_key(url: str, **kw: object) -> str:
    origin = fetch.origin_of(url)  # the address's own site allowed, unless the test says otherwise
    with pytest.raises(fetch.FetchError) as refused:
        fetch.fetch(url, **{"origins": {origin} if origin else set(), "allow_private": True, **kw})  # type: ignore[arg-type]
    return refused.value.key


def test_fetching_follows_the_shop_rules(site: str) -> None:
    got = fetch.fetch(f"{site}/moved", origins=fetch.shop_origins("", [site]), allow_private=True)
    assert got.url == f"{site}/faq" and b"FAQPage" in got.body  # a redirect on the same site is followed
    assert _fetch_key(f"{site}/faq", allow_private=False) == "fetch.private"  # loopback, not allowed
    assert _fetch_key(f"{site}/faq", origins={("http", "shop.example", 80)}) == "fetch.not_allowed"
    assert _fetch_key(f"{site}/away") == "fetch.redirect"  # localhost is not on the list
    assert _fetch_key(f"{site}/slow", timeout_s=0.5) == "fetch.timeout"
    assert _fetch_key(f"{site}/big", max_bytes=2**20) == "fetch.too_big"
    assert _fetch_key(f"{site}/gone") == "fetch.status"
    assert _fetch_key("file:///etc/passwd") == "fetch.bad_address"
    assert _fetch_key("http://user:pw@127.0.0.1/") == "fetch.bad_address"
    shop = {("https", "shop.example", 443)}
    # a public name that resolves to a private address is refused too (the resolver is the OS's
    # in real use; here it is told what a hostile DNS answer would be)
    with pytest.raises(fetch.FetchError) as refused:
        fetch.check("https://shop.example/", shop, allow_private=False, resolver=lambda h: ["10.0.0.7"])
    assert refused.value.key == "fetch.private"
    fetch.check("https://shop.example/", shop, allow_private=False, resolver=lambda h: ["93.184.216.34"])
    # each site on its standard ports (http 80, https 443); a bare host name is both
    assert fetch.shop_origins("https://support.shop.example/", ["https://shop.example", "www.shop.example"]) == {
        (scheme, host, port)
        for host in ("support.shop.example", "shop.example", "www.shop.example")
        for scheme, port in (("http", 80), ("https", 443))
    }


def test_the_product_feed_on_its_schedule_and_its_failures(site: str, store: Store) -> None:
    now = utc_now()
    settings = Settings(
        data_dir=Path("/nonexistent"),
        catalog_feed_url=f"{site}/feed.csv",
        allowed_origins=(site,),
        fetch_private_addresses=True,
    )
    assert feed.due(store, settings, now)
    assert feed.sync(store, settings, now) == 1
    db = store.read()
    assert catalog_store.get(db, "B1").price == "890000"  # type: ignore[union-attr]
    assert not feed.due(store, settings, now + timedelta(hours=1))
    assert feed.due(store, settings, now + timedelta(hours=24))
    for path, key in [("/feed-page", "fetch.not_catalog"), ("/slow", "fetch.timeout")]:
        bad = Settings(**{**settings.to_dict(), "data_dir": Path("/nonexistent"), "catalog_feed_url": f"{site}{path}"})
        with pytest.raises(fetch.FetchError) as failed:
            if path == "/slow":
                _slow_fetch(bad, store, now)
            else:
                feed.sync(store, bad, now)
        assert failed.value.key == key
    db = store.read()
    assert catalog_store.get(db, "B1") is not None  # a failed fetch changes nothing
    errors = [r.error for r in catalog_store.imports(db) if r.kind == "feed" and r.error]
    assert len(errors) == 2 and "web page" in errors[-1]  # recorded for the catalog page
    private = Settings(**{**settings.to_dict(), "data_dir": Path("/nonexistent"), "fetch_private_addresses": False})
    with pytest.raises(fetch.FetchError) as refused:
        feed.sync(store, private, now)
    assert refused.value.key == "fetch.private"


def _slow_fetch(settings: Settings, store: Store, now: object) -> None:
    original = fetch.TIMEOUT_S
    fetch.fetch.__kwdefaults__["timeout_s"] = 0.5  # type: ignore[index]
    try:
        feed.sync(store, settings, now)  # type: ignore[arg-type]
    finally:
        fetch.fetch.__kwdefaults__["timeout_s"] = original  # type: ignore[index]


# -- the admin and the customer --------------------------------------------------------------------


@pytest.fixture
def owner_app(data_dir: Path, site: str) -> Iterator[TestClient]:
    from appliance.owner import account as owner

    settings = Settings(
        data_dir=data_dir,
        model="none",
        shop_name="کتاب‌فروشی نمونه",
        allowed_origins=(site,),
        fetch_private_addresses=True,
    )
    with TestClient(create_app(settings)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), utc_now)
        sign_in(c)
        yield c


def _htmx(c: TestClient) -> dict[str, str]:
    return {**SAME, "x-csrf-token": csrf(c), "hx-request": "true"}


def test_the_owner_imports_a_page_approving_one_question_and_a_customer_is_answered_from_it(
    owner_app: TestClient, site: str
) -> None:
    c = owner_app
    headers = _htmx(c)
    r = c.post("/admin/documents/fetch?lang=fa", data={"url": f"{site}/faq"}, headers=headers)
    assert r.status_code == 200, r.text
    assert "هزینهٔ ارسال چقدر است؟" in r.text and "بسته‌بندی هدیه" in r.text  # proposals and sections
    token = r.text.split('name="token" value="')[1].split('"')[0]
    doc = extract.extract(FAQ_PAGE.encode(), "faq.html")
    shipping = next(i for i, p in enumerate(doc.proposals) if p.question == "هزینهٔ ارسال چقدر است؟")
    r = c.post("/admin/documents/confirm", data={"token": token, "approve": [str(shipping)]}, headers=headers)
    assert r.status_code == 200 and "ورود سند" in r.text  # it runs in the background, the page shows it
    c.app.state.services.jobs.wait()
    [job] = c.app.state.services.jobs.of_kind("document")
    assert job.state == "done" and job.result.faq_entries == 1, job.error
    page = c.get("/admin/documents?lang=fa").text
    assert "پرسش‌های متداول" in page and f"{site}/faq" in page
    kb_page = c.get("/admin/kb?lang=fa").text
    assert (
        "هزینهٔ ارسال چقدر است؟" in kb_page and "بسته‌بندی هدیه" not in kb_page
    )  # sections are listed with their document

    # a customer asks what only the page's section says
    conv, visitor, _ = start_chat(c, "fa")
    done = reply_of(send(c, conv, visitor, "بسته بندی هدیه دارید؟").text)
    assert done["kind"] == "answer", done
    assert "بیست هزار تومان" in done["text"] and "از «پرسش‌های متداول»" in done["text"]
    assert done["text"].endswith(f"{site}/faq")  # the page, for the rest of it

    # a page that can't be fetched: said in the owner's language, nothing changes
    r = c.post("/admin/documents/fetch?lang=fa", data={"url": "http://169.254.169.254/latest"}, headers=headers)
    assert r.status_code == 422 and "جزو سایت‌های فروشگاه نیست" in r.text


def test_a_page_of_a_site_not_yet_allowed_is_read_after_one_click(owner_app: TestClient, site: str) -> None:
    """Importing the FAQ page waited on "put the chat on your site": the fetch was refused with
    «… سایت فروشگاه نیست (در تنظیمات: نشانی عمومی و سایت‌های مجاز)», naming a setting the settings
    page doesn't show. Now the refusal names the settings as labelled, and offers the site in place."""
    c = owner_app
    headers = _htmx(c)
    other = site.replace("127.0.0.1", "localhost")  # the same server, a site not allowed yet
    r = c.post("/admin/documents/fetch?lang=fa", data={"url": f"{other}/faq"}, headers=headers)
    assert r.status_code == 422
    group, setting = i18n.label("fa", "settings_group", "widget"), i18n.label("fa", "setting", "allowed_origins")
    assert f"«{group}»" in r.text and f"«{setting.split(' (')[0]}»" in r.text and "نشانی عمومی" not in r.text
    assert f"آیا \u2068{other}\u2069 سایت فروشگاه شماست؟" in r.text and "بله، بیفزا و صفحه را بخوان" in r.text
    assert f'name="site" value="{other}"' in r.text and f'name="url" value="{other}/faq"' in r.text
    assert c.app.state.services.settings.allowed_origins == (site,)  # nothing changes by itself
    # one click: the site is added as "allow this site" does, and the page is read
    r = c.post("/admin/documents/fetch-allowing?lang=fa", data={"url": f"{other}/faq", "site": other}, headers=headers)
    assert r.status_code == 200, r.text
    assert "هزینهٔ ارسال چقدر است؟" in r.text  # the proposals
    assert "افزوده شد" in json.loads(r.headers["hx-trigger"])["appliance:toast"]["text"]  # the toast
    assert c.app.state.services.settings.allowed_origins == (site, other)
    toml = (c.app.state.services.settings.data_dir / "settings.toml").read_text(encoding="utf-8")
    assert other in toml
    # a page of the shop's site that sends the reader to a site not allowed: that site is offered
    c.app.state.services.apply_settings(c.app.state.services.settings.replace(allowed_origins=[site]))
    r = c.post("/admin/documents/fetch?lang=en", data={"url": f"{site}/away"}, headers=headers)
    assert r.status_code == 422 and f"Is \u2068{other}\u2069 your shop&#39;s site?" in r.text
    # a refusal for another reason offers nothing; a made-up site is refused, nothing written
    r = c.post("/admin/documents/fetch?lang=fa", data={"url": f"{site}/gone"}, headers=headers)
    assert r.status_code == 422 and "not-shop" not in r.text
    r = c.post(
        "/admin/documents/fetch-allowing", data={"url": f"{site}/faq", "site": "javascript:alert(1)"}, headers=headers
    )
    assert r.status_code == 422 and c.app.state.services.settings.allowed_origins == (site,)
    no_token = c.post("/admin/documents/fetch-allowing", data={"url": f"{other}/faq", "site": other}, headers=SAME)
    assert no_token.status_code == 403 and c.app.state.services.settings.allowed_origins == (site,)


def test_the_owner_uploads_documents_and_bad_ones_are_refused_in_persian(owner_app: TestClient, tmp_path: Path) -> None:
    c = owner_app
    headers = _htmx(c)
    path = _docx(tmp_path)
    r = c.post(
        "/admin/documents/upload?lang=fa",
        files={"file": ("گارانتی.docx", path.read_bytes(), "application/octet-stream")},
        headers=headers,
    )
    assert r.status_code == 200 and "گارانتی تعویض باتری" in r.text
    token = r.text.split('name="token" value="')[1].split('"')[0]
    r = c.post("/admin/documents/confirm", data={"token": token}, headers=headers)
    assert r.status_code == 200
    c.app.state.services.jobs.wait()
    docs = documents_store.all_documents(c.app.state.services.store.read())
    assert [(d.title, d.source, d.kind) for d in docs] == [("شرایط گارانتی", "گارانتی.docx", "docx")]
    r = c.post(
        "/admin/documents/upload?lang=fa",
        files={"file": ("scan.pdf", make_pdf([None]), "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 422 and "اسکن" in r.text
    r = c.post(
        "/admin/documents/upload?lang=fa",
        files={"file": ("huge.pdf", b"0" * (50 * 2**20), "application/pdf")},
        headers=headers,
    )
    assert r.status_code == 413  # refused before it is read whole (the page refuses it before sending)
    assert len(documents_store.all_documents(c.app.state.services.store.read())) == 1  # nothing else changed
    r = c.post(f"/admin/documents/{docs[0].id}/delete", headers=headers)
    assert r.status_code == 200 and documents_store.all_documents(c.app.state.services.store.read()) == []


def test_kb_import_takes_documents_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    page = tmp_path / "faq.html"
    page.write_text(FAQ_PAGE, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["kb", "import", "--data-dir", str(data), str(page)])
    assert r.exit_code == 0, r.output
    assert "4 question/answer pairs found" in r.output
    r = runner.invoke(main, ["kb", "import", "--data-dir", str(data), "--accept-faq", str(page)])
    assert r.exit_code == 0 and "4 FAQ entries" in r.output, r.output
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(make_pdf([None]))
    r = runner.invoke(main, ["kb", "import", "--data-dir", str(data), str(bad)])
    assert r.exit_code != 0 and "nothing imported" in r.output and "scan" in r.output
    s = Store(data / "appliance.db")
    try:
        titles = {x.title for x in kb.all_entries(s.read())}
    finally:
        s.close()
    assert "Do you ship abroad?" in titles and "بسته‌بندی هدیه" in titles


def test_an_entry_from_a_document_answers_in_the_customers_chat_with_its_source(data_dir: Path) -> None:
    """A document's section, decided on like any answer, is quoted with the document named."""
    settings = Settings(data_dir=data_dir, model="none", shop_name="Book Nook")
    with TestClient(create_app(settings)) as c:
        store = c.app.state.services.store
        kb.save(
            store,
            [Entry("hours", "Opening hours", "We open 9 to 18, Saturday to Wednesday.", "en", ["when are you open"])],
            embedder=embedder.shared(),
            now="t0",
        )
        policy = (
            "# Returns policy\n\n## Returning a book\n\nWe want you to be happy with every book you buy from us, "
            "and most customers never need this page. Unused books can be returned within seven days of delivery. "
            "Bring the invoice with the book. Refunds reach your card within three working days. "
            "Sale items and gift cards cannot be returned. Shipping costs of a return are paid by the customer "
            "unless the book arrived damaged, in which case we pay for the return and send a new copy at once.\n"
        )
        doc = extract.extract(policy.encode(), "returns.md")
        documents_store.save(
            store, doc, source="returns.md", data=policy.encode(), embedder=embedder.shared(), now="t1"
        )
        composer = c.app.state.services.chat.composer
        section = documents_store.section_ids(store.read(), 1)[0]
        found = composer.document_of(section)
        assert found is not None and found.title == "Returns policy" and composer.document_of("hours") is None
        conv, visitor, _ = start_chat(c, "en")
        done = reply_of(send(c, conv, visitor, "can I return a book?").text)
        assert done["kind"] == "answer" and done["sources"][0]["id"] == section, done
        # the sentences that answer, not the section's friendly opening; then where it comes from
        assert done["text"].startswith("Unused books can be returned within seven days")
        assert done["text"].endswith("From “Returns policy”") and "happy with every book" not in done["text"]


def test_the_scheduler_fetches_the_feed_when_it_is_due(site: str, data_dir: Path, store: Store) -> None:
    from appliance.ops import scheduler

    settings = Settings(
        data_dir=data_dir,
        catalog_feed_url=f"{site}/feed.csv",
        allowed_origins=(site,),
        fetch_private_addresses=True,
    )
    now = [utc_now()]
    jobs = scheduler.build(settings, store, lambda: now[0])
    job = jobs.get_job("catalog_feed")
    job.func()
    assert catalog_store.get(store.read(), "B1") is not None
    job.func()  # not due again within the hours set: no second fetch
    assert len([r for r in catalog_store.imports(store.read()) if r.kind == "feed"]) == 1
    now[0] += timedelta(hours=25)
    job.func()
    assert len([r for r in catalog_store.imports(store.read()) if r.kind == "feed"]) == 2


def test_the_connection_goes_to_the_address_that_was_checked(site: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a name checked as public must not be resolved again (to a private address)
    for the connection. Here "shop.example" exists only in the checking resolver (the machine has
    no DNS for it), and loopback is treated as public: the page arrives only if the connection
    went to the checked address, with the name in the Host header."""
    port = site.rsplit(":", 1)[1]
    monkeypatch.setattr(fetch, "_public", lambda ip: True)
    got = fetch.fetch(
        f"http://shop.example:{port}/moved",
        origins={("http", "shop.example", int(port))},
        allow_private=False,
        resolver=lambda h: ["127.0.0.1"],
    )
    assert got.url == f"http://shop.example:{port}/faq" and b"FAQPage" in got.body  # the redirect too, by name
    assert fetch._pinned("https://shop.example/a?b=1", "203.0.113.9") == (
        "https://203.0.113.9/a?b=1",
        {"Host": "shop.example"},
        {"sni_hostname": "shop.example"},
    )
    assert fetch._pinned("http://shop.example:8080/", "2001:db8::1")[0] == "http://[2001:db8::1]:8080/"


QUESTIONS_ONLY = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>سؤال‌های شما</title></head><body><main>
<h1>سؤال‌های شما</h1>
<details><summary>هزینهٔ ارسال چقدر است؟</summary><p>ارسال به تهران ۴۵ هزار تومان و به شهرهای دیگر ۶۰ هزار تومان است.</p></details>
<details><summary>چطور کتاب را پس بدهم؟</summary><p>تا هفت روز پس از دریافت، کتاب سالم را با فاکتور پس بدهید.</p></details>
<details><summary>ساعت کاری شما چیست؟</summary><p>شنبه تا چهارشنبه از ساعت ۹ تا ۱۸ پاسخگو هستیم.</p></details>
<details><summary>سفارش چند روزه می‌رسد؟</summary><p>سفارش‌های تهران دو روزه و شهرهای دیگر چهار روزه می‌رسند.</p></details>
<details><summary>کارت هدیه دارید؟</summary><p>بله، کارت هدیهٔ صد و دویست هزار تومانی داریم.</p></details>
<details><summary>پرداخت در محل دارید؟</summary><p>فقط در تهران، با کارت‌خوان پیک.</p></details>
</main></body></html>"""


def test_the_documents_list_says_what_a_document_gave(admin: TestClient) -> None:
    """After importing a FAQ page whose six questions and answers became entries, the list said
    «صفحهٔ وب · ۰ بخش»: it read like a failed import."""
    store = admin.app.state.services.store
    doc = extract.extract(QUESTIONS_ONLY.encode(), "faq.html")
    assert len(doc.proposals) == 6
    six = documents_store.save(
        store, doc, source="https://shop.example/faq", data=b"x", embedder=embedder.shared(), now="t1",
        approved=list(range(6)),
    )  # fmt: skip
    assert (six.faq_entries, documents_store.get(store.read(), six.document).sections) == (6, 0)
    both = documents_store.save(
        store, extract.extract(FAQ_PAGE.encode(), "help.html"), source="help.html", data=b"x",
        embedder=embedder.shared(), now="t2", approved=[0],
    )  # fmt: skip
    sections = documents_store.get(store.read(), both.document).sections
    assert sections > 0 and both.faq_entries == 1
    sign_in(admin)

    def said(lang: str) -> list[str]:
        page = admin.get(f"/admin/documents?lang={lang}").text
        return [" ".join(g.split()) for g in re.findall(r'<span class="gave">(.*?)</span>', page, re.S)]

    assert said("fa") == [f"{i18n.digits(sections, 'fa')} بخش و ۱ پرسش و پاسخ", "۶ پرسش و پاسخ"]
    in_en = "1 section" if sections == 1 else f"{sections} sections"
    assert said("en") == [f"{in_en} and 1 question and answer", "6 questions and answers"]
