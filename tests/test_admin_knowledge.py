"""The knowledge pages of the admin as a Persian shop owner uses them (issue 30): a document's
import runs in the background with its progress and can't be started twice, a failure says why
and loses nothing, proposals have select all / none, a count, and show what was accepted before;
the catalog's import the same way; toasts, the history in words, the try page, no 405 on the
import addresses, empty states and lists that are not tables. The real app through Litestar's
test client, the real embedder (wrapped where a test must hold the import half-way)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.catalog import store as catalog_store
from appliance.clock import utc_now
from appliance.documents import store as documents_store
from appliance.kb import store as kb
from appliance.owner import account as owner
from appliance.settings import Settings
from appliance.web.admin.trying import tried_at

from .helpers import SAME, csrf, password_hash, post, sign_in

FAQ = """<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>پرسش‌های متداول</title></head>
<body><main><h1>پرسش‌های متداول کتاب‌فروشی</h1>
<h2>هزینهٔ ارسال چقدر است؟</h2><p>ارسال به تهران ۴۵ هزار تومان و به شهرستان‌ها ۶۰ هزار تومان است.</p>
<h2>چطور کتاب را پس بدهم؟</h2><p>تا هفت روز پس از دریافت می‌توانید کتاب سالم را با فاکتور پس بدهید.</p>
<h2>کارت هدیه دارید؟</h2><p>بله، کارت هدیهٔ صد و دویست هزار تومانی داریم.</p>
<h2>بسته‌بندی هدیه</h2><p>هر کتاب را با کاغذ کادو و کارت تبریک دست‌نویس می‌فرستیم.</p>
</main></body></html>""".encode()
SAVED_FA = "ذخیره شد."
SHEET = "کد,نام,قیمت,موجودی\nA1,قاب آیفون 13,۲۵۰٬۰۰۰,۳\nA2,شارژر سریع,۴۸۰٬۰۰۰,۰\n"


class Held:
    """The real embedder, held at its passages until the test lets it go (or failing, when told):
    the import is caught half-way, as an owner would see it during a long page."""

    def __init__(self, real, fail: bool = False):
        self.name, self.dim, self._real, self.fail = real.name, real.dim, real, fail
        self.gate = threading.Event()
        self.reached = threading.Event()

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._real.queries(texts)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.reached.set()
        assert self.gate.wait(30)
        if self.fail:
            raise RuntimeError("the embedder stopped")
        return self._real.passages(texts)


@pytest.fixture
def shop(data_dir: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=data_dir, model="none", shop_name="کتاب‌فروشی نمونه")
    with TestClient(create_app(settings)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), utc_now)
        sign_in(c)
        yield c
        c.app.state.services.jobs.wait()


def _htmx(c: TestClient, lang: str = "fa") -> dict[str, str]:
    return {
        **SAME,
        "x-csrf-token": csrf(c),
        "hx-request": "true",
        "hx-current-url": f"http://testserver/admin/documents?lang={lang}",
    }


def _token(html: str) -> str:
    return html.split('name="token" value="')[1].split('"')[0]


def _upload(c: TestClient, name: str = "پرسش‌ها.html", body: bytes = FAQ) -> str:
    r = c.post("/admin/documents/upload", files={"file": (name, body, "text/html")}, headers=_htmx(c))
    assert r.status_code == 200, r.text[:500]
    return r.text


def _hold(c: TestClient, fail: bool = False) -> tuple[Held, object]:
    index = c.app.state.services.chat.decider.index
    real = index.embedder
    held = Held(real, fail)
    index.embedder = held
    return held, real


def _events(response) -> dict:
    return json.loads(response.headers.get("hx-trigger", "{}"))


# -- 1. long work shows progress ----------------------------------------------------------------


def test_a_document_imports_in_the_background_with_progress_and_only_once(shop: TestClient) -> None:
    c = shop
    held, real = _hold(c)
    preview = _upload(c)
    r = c.post("/admin/documents/confirm", data={"token": _token(preview)}, headers=_htmx(c))
    # The page answers at once (the work is the job's), with the job's card polling its progress.
    assert r.status_code == 200 and "ورود سند" in r.text and 'hx-trigger="every 1s"' in r.text
    assert held.reached.wait(30)
    jobs = c.app.state.services.jobs
    [job] = jobs.of_kind("document")
    assert job.running and job.stage == "embedding" and job.total == 4 and job.done == 0
    page = c.get("/admin/documents?lang=fa").text
    assert "در حال ورود" in page and "۰ بخش" not in page  # not «HTML · ۰ بخش» any more
    delete_button = page.split('hx-post="/admin/documents/1/delete"')[1].split(">")[0]
    assert "disabled" in delete_button  # not removed under the import's feet
    status = c.get(f"/admin/import-jobs/{job.id}?lang=fa")
    assert "آماده‌کردن بخش‌ها برای پاسخ‌گویی: ۰ از ۴" in status.text and 'hx-trigger="every 1s"' in status.text

    # The same document again while it runs: refused, and no second job.
    again = c.post("/admin/documents/confirm", data={"token": _token(_upload(c))}, headers=_htmx(c))
    assert again.status_code == 409 and "همین حالا در حال ورود است" in again.text
    assert len(jobs.of_kind("document")) == 1

    held.gate.set()
    jobs.wait()
    c.app.state.services.chat.decider.index.embedder = real
    done = c.get(f"/admin/import-jobs/{job.id}?lang=fa")
    assert "every 1s" not in done.text  # polling stops
    assert "ورود تمام شد" in done.text and "۴ بخش تازه" in done.text
    events = _events(done)
    assert "import-finished" in events and events["appliance:toast"]["text"] == "ورود تمام شد."
    [doc] = documents_store.all_documents(c.app.state.services.store.read())
    assert doc.sections == 4
    assert "۴ بخش" in c.get("/admin/documents?lang=fa").text


def test_a_failed_import_says_why_changes_nothing_and_can_be_tried_again(shop: TestClient) -> None:
    c = shop
    held, real = _hold(c, fail=True)
    preview = _upload(c)
    token = _token(preview)
    c.post("/admin/documents/confirm", data={"token": token, "approve": ["0"]}, headers=_htmx(c))
    held.gate.set()
    c.app.state.services.jobs.wait()
    c.app.state.services.chat.decider.index.embedder = real
    [job] = c.app.state.services.jobs.of_kind("document")
    card = c.get(f"/admin/import-jobs/{job.id}?lang=fa").text
    assert "ورود انجام نشد" in card and "چیزی تغییر نکرد" in card and "خطایی پیش آمد" in card
    assert _token(card) == token and 'name="approve" value="0"' in card  # the same choice, kept
    db = c.app.state.services.store.read()
    assert documents_store.all_documents(db) == [] and kb.count(db) == 0  # nothing half-written
    retry = c.post("/admin/documents/confirm", data={"token": token, "approve": ["0"]}, headers=_htmx(c))
    assert retry.status_code == 200
    c.app.state.services.jobs.wait()
    assert kb.get(c.app.state.services.store.read(), documents_store.faq_id(1, "هزینهٔ ارسال چقدر است؟"))


# -- 2. proposals: select all / none, a count, what was accepted before ---------------------------


def test_proposals_select_all_none_count_and_what_was_accepted_before(shop: TestClient) -> None:
    c = shop
    first = _upload(c)
    assert "انتخاب همه" in first and "هیچ‌کدام" in first and "۰ انتخاب شده" in first
    token = _token(first)
    counted = c.post(
        "/admin/documents/proposals", data={"token": token, "part": "count", "approve": ["0", "2"]}, headers=_htmx(c)
    )
    assert counted.text.strip().startswith('<span id="selected-count"') and "۲ انتخاب شده" in counted.text
    every = c.post("/admin/documents/proposals", data={"token": token, "select": "all"}, headers=_htmx(c))
    assert every.text.count("checked") == 3 and "۳ انتخاب شده" in every.text  # the three questions
    none = c.post("/admin/documents/proposals", data={"token": token, "select": "none"}, headers=_htmx(c))
    assert "checked" not in none.text and "۰ انتخاب شده" in none.text

    # The owner accepts the shipping question; the page is read again later.
    c.post("/admin/documents/confirm", data={"token": token, "approve": ["0"]}, headers=_htmx(c))
    c.app.state.services.jobs.wait()
    again = _upload(c)
    shipping = again.split("هزینهٔ ارسال چقدر است؟")[0].rsplit("<label", 1)[1]
    assert 'value="0"' in shipping and "checked" not in shipping
    assert "در پایگاه دانش هست" in again.split("چطور کتاب را پس بدهم؟")[0]
    assert "۱ پرسش را پیش‌تر پذیرفته‌اید" in again
    every = c.post("/admin/documents/proposals", data={"token": _token(again), "select": "all"}, headers=_htmx(c))
    assert every.text.count("checked") == 2  # all but the one already in the knowledge base
    # Imported again with nothing ticked: the accepted question stays the owner's entry, and its
    # section does not come back beside it.
    c.post("/admin/documents/confirm", data={"token": _token(again)}, headers=_htmx(c))
    c.app.state.services.jobs.wait()
    [job, _] = c.app.state.services.jobs.of_kind("document")
    assert (
        job.result.kept == 1 and "۱ پرسش که پیش‌تر پذیرفته بودید" in c.get(f"/admin/import-jobs/{job.id}?lang=fa").text
    )
    titles = [e.title for e in kb.all_entries(c.app.state.services.store.read())]
    assert titles.count("هزینهٔ ارسال چقدر است؟") == 1


def test_the_catalog_imports_in_the_background_once_with_a_summary(shop: TestClient) -> None:
    c = shop
    headers = _htmx(c)
    r = c.post("/admin/catalog-import", files={"file": ("کالاها.csv", SHEET.encode(), "text/csv")}, headers=headers)
    form = {"token": _token(r.text), "preset": "plain", "map_sku": "کد", "map_name_fa": "نام", "map_price": "قیمت"}
    form |= {"map_stock": "موجودی", "currency": "تومان", "action": "import"}
    jobs = c.app.state.services.jobs
    gate = threading.Event()
    blocker, _ = jobs.start("catalog", "catalog", "دیگری", lambda job: gate.wait(30), now=lambda: "2026-01-01T00:00:00")
    refused = c.post("/admin/catalog-import/confirm", data=form, headers=headers)
    assert refused.status_code == 409 and "همین حالا در حال ورود است" in refused.text
    page = c.get("/admin/catalog?lang=fa").text
    assert 'hx-trigger="every 1s"' in page and "disabled" in page.split('id="import"')[1].split("</form>")[0]
    gate.set()
    jobs.wait()
    r = c.post("/admin/catalog-import/confirm", data=form, headers=headers)
    assert r.status_code == 200 and "ورود کالاها از" in r.text
    jobs.wait()
    job = jobs.of_kind("catalog")[0]
    card = c.get(f"/admin/import-jobs/{job.id}?lang=fa").text
    assert "۲ کالای تازه" in card and "ورود تمام شد" in card
    assert {p.sku for p in catalog_store.all_products(c.app.state.services.store.read())} == {"A1", "A2"}
    # A file whose price can't be read: the reason, with its row, and the catalog as it was.
    bad = SHEET + "A3,کیف,ارزان,۱\n"
    r = c.post("/admin/catalog-import", files={"file": ("کالاها.csv", bad.encode(), "text/csv")}, headers=headers)
    assert r.status_code == 422 and "ردیف" in r.text  # the sample already says which row
    assert {p.sku for p in catalog_store.all_products(c.app.state.services.store.read())} == {"A1", "A2"}


# -- 3, 4, 7. the entries: toasts, the history in words, the form in words --------------------------


ENTRY = {
    "title": "خرید قسطی",
    "questions": "قسطی هم می‌فروشید؟\nامکان خرید اقساطی هست؟",
    "answer": "بله، با کارت‌های اعتباری بانک‌ها تا شش قسط.",
    "lang": "fa",
    "tags": "پرداخت",
    "enabled": "on",
}


def test_entries_say_saved_and_their_history_in_words(shop: TestClient) -> None:
    c = shop
    persian = {"hx-current-url": "http://testserver/admin/kb/new?lang=fa"}
    created = post(c, "/admin/kb/new", data=ENTRY, headers=persian)
    target = created.headers["hx-redirect"]
    assert created.cookies.get("admin_flash") == "kb.created" or "kb.created" in created.headers["set-cookie"]
    page = c.get(f"{target}?lang=fa").text
    assert 'data-flash="مطلب ساخته شد."' in page  # the toast on the page it lands on
    assert 'data-draft="kb:' in page  # the editor keeps a draft
    assert "یک نام کوتاه برای خودتان" in page and "مشتری آن‌ها را نمی‌بیند" in page  # help in words

    saved = post(c, target, data={**ENTRY, "answer": "بله، تا دوازده قسط."}, headers=persian)
    assert _events(saved)["appliance:toast"] == {"text": SAVED_FA, "kind": "success"}
    post(c, f"{target}/toggle", headers=persian)
    history = c.get(f"{target}?lang=fa").text.split('id="history-title"')[1].split("</section>")[0]
    for words in ("ساخته شد", "ویرایش: پاسخ", "خاموش شد", "شما"):
        assert words in history, words
    for code in ("create", "update", "admin", "[khrid"):
        assert code not in history, code
    english = c.get(f"{target}?lang=en").text.split('id="history-title"')[1].split("</section>")[0]
    assert "Edited: the answer" in english and "You" in english and "Turned off" in english
    assert "[" + target.rsplit("/", 1)[1] not in c.get(f"{target}?lang=fa").text  # no slug as a label

    page = c.get(f"{target}?lang=fa").text
    assert 'hx-confirm="' in page.split("/delete")[1][:200]  # removing asks first
    deleted = post(c, f"{target}/delete", headers=persian)
    assert deleted.headers["hx-redirect"] == "/admin/kb" and "kb.deleted" in deleted.headers["set-cookie"]


def test_the_history_names_the_demo_content_and_the_document(shop: TestClient) -> None:
    c = shop
    store = c.app.state.services.store
    embedder = c.app.state.services.chat.decider.index.embedder
    entry = kb.Entry(
        id="hours", title="ساعت کاری", answer="شنبه تا چهارشنبه ۹ تا ۱۸", lang="fa", questions=["کی بازید؟"]
    )
    kb.save(store, [entry], embedder=embedder, now=utc_now().isoformat(), source="demo")
    assert "محتوای نمونه" in c.get("/admin/kb/hours?lang=fa").text
    c.post("/admin/documents/confirm", data={"token": _token(_upload(c)), "approve": ["1"]}, headers=_htmx(c))
    c.app.state.services.jobs.wait()
    faq = documents_store.faq_id(1, "چطور کتاب را پس بدهم؟")
    assert "ورود از سند «\u2068پرسش‌های متداول کتاب‌فروشی\u2069»" in c.get(f"/admin/kb/{faq}?lang=fa").text


# -- 5, 6, 8. lists on a phone, no 405, the try page ---------------------------------------------


def test_the_knowledge_pages_are_lists_not_tables_and_empty_ones_say_what_to_do(shop: TestClient) -> None:
    c = shop
    kb_page = c.get("/admin/kb?lang=fa").text
    assert "پایگاه دانش هنوز خالی است" in kb_page and 'href="/admin/kb/new"' in kb_page
    documents = c.get("/admin/documents?lang=fa").text
    assert "هنوز سندی ندارید" in documents
    catalog = c.get("/admin/catalog?lang=fa").text
    assert "هنوز کالایی ندارید" in catalog and 'href="/admin/catalog#import"' not in catalog
    post(c, "/admin/kb/new", data=ENTRY)
    for path in ("/admin/kb", "/admin/documents", "/admin/catalog"):
        assert "<table" not in c.get(f"{path}?lang=fa").text, path


def test_the_import_addresses_answer_a_get_with_a_page(shop: TestClient) -> None:
    c = shop
    page = c.get("/admin/kb-import?lang=fa")
    assert page.status_code == 200 and 'hx-post="/admin/kb-import"' in page.text and 'type="file"' in page.text
    for path, where in (
        ("/admin/kb-import/confirm", "/admin/kb-import"),
        ("/admin/documents/upload", "/admin/documents"),
        ("/admin/documents/fetch", "/admin/documents"),
        ("/admin/documents/confirm", "/admin/documents"),
        ("/admin/catalog-import", "/admin/catalog#import"),
        ("/admin/catalog-import/confirm", "/admin/catalog#import"),
    ):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == where, path


def test_the_try_page_shows_what_the_customer_gets_and_notes_that_the_owner_tried(shop: TestClient) -> None:
    c = shop
    store = c.app.state.services.store
    page = c.get("/admin/try?lang=fa")
    assert page.status_code == 200 and 'hx-post="/admin/try"' in page.text and "امتحان به جای مشتری" in page.text
    assert "پایگاه دانش هنوز مطلبی ندارد" in page.text  # every question would be handed over
    assert 'href="/admin/try"' in c.get("/admin/kb?lang=fa").text  # the knowledge base links to it
    assert tried_at(store.read()) is None
    post(c, "/admin/kb/new", data=ENTRY)
    r = post(
        c,
        "/admin/try",
        data={"question": "قسطی میفروشید؟"},
        headers={"hx-current-url": "http://testserver/admin/try?lang=fa"},
    )
    assert "آنچه مشتری می‌بیند" in r.text and "شش قسط" in r.text and "قسطی میفروشید؟" in r.text
    assert "چرا" in r.text and "[" not in r.text.split("نزدیک‌ترین مطالب")[1]  # titles, never ids
    assert tried_at(store.read()) is not None
    handed = post(
        c,
        "/admin/try",
        data={"question": "می‌خوام با یه آدم صحبت کنم"},
        headers={"hx-current-url": "http://testserver/admin/try?lang=fa"},
    )
    assert "به شما سپرده می‌شود" in handed.text
