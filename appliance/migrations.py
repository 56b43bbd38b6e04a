"""Schema migrations: ordered and append-only.

Never edit or reorder a migration that has shipped; add a new one at the end. Each runs in its
own transaction together with the record that it ran (sqlite-utils ``Migrations``), so a failed
migration leaves the database as it was.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("appliance")


@MIGRATIONS(name="0001_initial")
def m0001_initial(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """
    )
    # The single owner account. The row exists once a password has been set.
    db.execute(
        """
        CREATE TABLE owner (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            password_hash TEXT NOT NULL,
            language TEXT NOT NULL DEFAULT 'fa',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    # One-time setup links: only the SHA-256 of the token is stored.
    db.execute(
        """
        CREATE TABLE setup_tokens (
            token_hash TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE kb_entries (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            answer TEXT NOT NULL,
            lang TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE kb_phrasings (
            id INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL REFERENCES kb_entries(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            position INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX kb_phrasings_entry ON kb_phrasings(entry_id)")


@MIGRATIONS(name="0002_kb_index_and_conversations")
def m0002_kb_index_and_conversations(db: Database) -> None:
    db.execute("ALTER TABLE kb_entries ADD COLUMN source TEXT NOT NULL DEFAULT ''")
    # Every change to an entry, with the entry as it was after the change.
    db.execute(
        """
        CREATE TABLE kb_history (
            id INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL,
            action TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            changed_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX kb_history_entry ON kb_history(entry_id, id)")
    # The answer text split into passages that can be retrieved and cited on their own.
    db.execute(
        """
        CREATE TABLE kb_passages (
            id INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL REFERENCES kb_entries(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            text TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX kb_passages_entry ON kb_passages(entry_id)")
    # Embeddings of titles and phrasings (kind 'question') and of passages (kind 'passage').
    db.execute(
        """
        CREATE TABLE kb_vectors (
            id INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL REFERENCES kb_entries(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            position INTEGER NOT NULL,
            model TEXT NOT NULL,
            vector BLOB NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX kb_vectors_entry ON kb_vectors(entry_id)")
    # Lexical index over normalised text. Trigrams: Persian words take many affixes
    # (کتاب، کتاب‌ها، کتابهایم), and trigram overlap matches them without a stemmer.
    db.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(entry_id UNINDEXED, body, tokenize = 'trigram')")
    db.execute(
        """
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            lang TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open',
            channel TEXT NOT NULL DEFAULT 'widget',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            text TEXT NOT NULL,
            lang TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX messages_conversation ON messages(conversation_id, id)")
    # One row per customer message: what the pipeline decided and why.
    db.execute(
        """
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            reply_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            entry_ids TEXT NOT NULL DEFAULT '[]',
            confidence REAL,
            scores TEXT NOT NULL DEFAULT '{}',
            query TEXT NOT NULL,
            lang TEXT NOT NULL,
            composed_by TEXT NOT NULL DEFAULT 'owner_text',
            latency_ms REAL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX decisions_conversation ON decisions(conversation_id)")
    db.execute("CREATE INDEX decisions_created ON decisions(created_at)")


@MIGRATIONS(name="0003_visitors_and_widget")
def m0003_visitors_and_widget(db: Database) -> None:
    # A visitor is a browser (or an integration) holding a token; only its SHA-256 is stored.
    db.execute(
        """
        CREATE TABLE visitors (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            ip_hash TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL
        )
        """
    )
    db.execute("ALTER TABLE conversations ADD COLUMN visitor_id TEXT REFERENCES visitors(id) ON DELETE CASCADE")
    db.execute("ALTER TABLE conversations ADD COLUMN contact_email TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE conversations ADD COLUMN contact_phone TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE conversations ADD COLUMN rating INTEGER")  # 1 satisfied, 0 not
    db.execute("ALTER TABLE conversations ADD COLUMN rating_comment TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE conversations ADD COLUMN visitor_seen_message_id INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX conversations_visitor ON conversations(visitor_id, updated_at)")
    # The widget names each message it sends, so a retried send can't store it twice.
    db.execute("ALTER TABLE messages ADD COLUMN client_id TEXT")
    db.execute(
        "CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL"
    )


@MIGRATIONS(name="0004_owner_sessions")
def m0004_owner_sessions(db: Database) -> None:
    # Server-side sessions: the cookie holds a random id, the table only its SHA-256.
    db.execute(
        """
        CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY,
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            user_agent TEXT NOT NULL DEFAULT ''
        )
        """
    )


@MIGRATIONS(name="0005_digests")
def m0005_digests(db: Database) -> None:
    # The morning summary, kept so the admin home page shows the latest and nothing is recomputed.
    db.execute(
        """
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            summary TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )


@MIGRATIONS(name="0006_saved_replies_and_notes")
def m0006_saved_replies_and_notes(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE saved_replies (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    # Private notes: a table of their own, so no query for the customer's side can return them.
    db.execute(
        """
        CREATE TABLE notes (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX notes_conversation ON notes(conversation_id)")


@MIGRATIONS(name="0007_consent")
def m0007_consent(db: Database) -> None:
    # When the customer agreed to the privacy notice (only asked when the shop requires it).
    db.execute("ALTER TABLE conversations ADD COLUMN consent_at TEXT")


@MIGRATIONS(name="0008_outbox")
def m0008_outbox(db: Database) -> None:
    # E-mail to send (owner replies, digests). Delivery is retried; every failure is kept.
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
            to_addr TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT NOT NULL DEFAULT '',
            sent_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at)")


@MIGRATIONS(name="0009_decisions_by_message")
def m0009_decisions_by_message(db: Database) -> None:
    # "Has this message a decision?" is asked at every start (messages a crash left unanswered)
    # and for every retried send: without an index each ask scanned the whole decisions table.
    db.execute("CREATE INDEX decisions_message ON decisions(message_id)")


@MIGRATIONS(name="0010_phone_numbers_in_one_form")
def m0010_phone_numbers_in_one_form(db: Database) -> None:
    # Phone numbers were stored as typed ("+98 912 123-4567") and searched as digits: an export
    # by phone found nothing and an erasure left the data. Stored in contact.phone's form now;
    # one that isn't a phone number at all is kept as it was.
    from appliance.text.contact import ContactError, phone

    for cid, value in db.execute("SELECT id, contact_phone FROM conversations WHERE contact_phone != ''").fetchall():
        try:
            canonical = phone(value)
        except ContactError:
            continue
        if canonical != value:
            db.execute("UPDATE conversations SET contact_phone = ? WHERE id = ?", [canonical, cid])


@MIGRATIONS(name="0011_learning_from_use")
def m0011_learning_from_use(db: Database) -> None:
    # Wordings customers used for an entry, waiting for the owner's yes (a customer's pick among
    # offered choices) or recorded with it (the owner's pick): a customer never teaches the bot
    # alone. Erasing a conversation erases the words it suggested (CASCADE).
    db.execute(
        """
        CREATE TABLE kb_suggestions (
            id INTEGER PRIMARY KEY,
            entry_id TEXT NOT NULL REFERENCES kb_entries(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            norm TEXT NOT NULL,
            source TEXT NOT NULL,
            conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'pending',
            created_at TEXT NOT NULL,
            decided_at TEXT,
            UNIQUE (entry_id, norm)
        )
        """
    )
    db.execute("CREATE INDEX kb_suggestions_status ON kb_suggestions(status, id)")
    # The owner's mark on a bot's answer (right | wrong): evidence for the shop's calibration.
    db.execute("ALTER TABLE decisions ADD COLUMN verdict TEXT")


@MIGRATIONS(name="0012_catalog")
def m0012_catalog(db: Database) -> None:
    # The shop's products (appliance/catalog/store.py owns them). A variant (a size, a colour) is
    # a row of its own with ``parent_sku``: its price and stock are its own, as in WooCommerce's
    # and Shopify's exports. ``price`` is the number as the owner's file wrote it (ASCII digits,
    # no grouping), shown exactly; ``stock`` NULL: not counted (then ``in_stock`` says, or nothing).
    db.execute(
        """
        CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            parent_sku TEXT,
            name_fa TEXT NOT NULL DEFAULT '',
            name_en TEXT NOT NULL DEFAULT '',
            price TEXT NOT NULL DEFAULT '',
            currency TEXT NOT NULL DEFAULT '',
            stock INTEGER,
            in_stock INTEGER,
            attributes TEXT NOT NULL DEFAULT '{}',
            link TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            enabled INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX products_parent ON products(parent_sku)")
    # Every import (a file, or the feed on its schedule): when, what, how many, what went wrong,
    # and the column mapping used, remembered for the next file from the same source.
    db.execute(
        """
        CREATE TABLE catalog_imports (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            products INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT '',
            mapping TEXT NOT NULL DEFAULT '{}'
        )
        """
    )


@MIGRATIONS(name="0013_documents")
def m0013_documents(db: Database) -> None:
    # The owner's documents (appliance/documents/store.py owns them). Each section of a document is
    # a knowledge-base entry of its own (id ``doc-<document>-<n>``), so it is searched, calibrated
    # and cited like any answer, and every change to it is in kb_history. ``source`` is the file
    # name or the page's address: importing it again replaces the document's sections.
    db.execute(
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            kind TEXT NOT NULL,
            link TEXT NOT NULL DEFAULT '',
            lang TEXT NOT NULL DEFAULT '',
            sections INTEGER NOT NULL DEFAULT 0,
            chars INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    # Every import of a document: what changed, or why it failed (a fetch that timed out).
    db.execute(
        """
        CREATE TABLE document_imports (
            id INTEGER PRIMARY KEY,
            document_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
            source TEXT NOT NULL,
            at TEXT NOT NULL,
            added INTEGER NOT NULL DEFAULT 0,
            changed INTEGER NOT NULL DEFAULT 0,
            removed INTEGER NOT NULL DEFAULT 0,
            faq_entries INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT ''
        )
        """
    )


@MIGRATIONS(name="0014_owner_seen")
def m0014_owner_seen(db: Database) -> None:
    # The customer's last message the owner has seen (the conversation open in the admin): the
    # customer's open chat says "seen" under it.
    db.execute("ALTER TABLE conversations ADD COLUMN owner_seen_message_id INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS(name="0015_attachments")
def m0015_attachments(db: Database) -> None:
    # Files sent in a conversation (appliance/conversations/attachments.py owns them), kept with their message:
    # backups hold them, and deleting a conversation or a message deletes them.
    db.execute(
        """
        CREATE TABLE attachments (
            id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            mime TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            width INTEGER NOT NULL DEFAULT 0,
            height INTEGER NOT NULL DEFAULT 0,
            data BLOB NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX attachments_conversation ON attachments(conversation_id, message_id)")


@MIGRATIONS(name="0016_triggers")
def m0016_triggers(db: Database) -> None:
    # Proactive messages (appliance/conversations/triggers.py owns both tables): what the owner set, and what
    # happened to each (shown, opened, closed, replied) by an anonymous id the widget keeps.
    db.execute(
        """
        CREATE TABLE triggers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            message_fa TEXT NOT NULL DEFAULT '',
            message_en TEXT NOT NULL DEFAULT '',
            page TEXT NOT NULL DEFAULT '',
            script_name TEXT NOT NULL DEFAULT '',
            seconds INTEGER NOT NULL DEFAULT 0,
            scroll INTEGER NOT NULL DEFAULT 0,
            visitors TEXT NOT NULL DEFAULT 'all',
            lang TEXT NOT NULL DEFAULT '',
            hours TEXT NOT NULL DEFAULT 'any',
            every_days INTEGER NOT NULL DEFAULT 1,
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE trigger_events (
            id INTEGER PRIMARY KEY,
            trigger_id INTEGER NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
            visitor TEXT NOT NULL,
            event TEXT NOT NULL,
            conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX trigger_events_visitor ON trigger_events(visitor, event, at)")
    db.execute("CREATE INDEX trigger_events_trigger ON trigger_events(trigger_id, event, at)")


@MIGRATIONS(name="0017_customer_verdict")
def m0017_customer_verdict(db: Database) -> None:
    # The customer's "did this help?" on the bot's answer (helped | unhelpful): an answer that
    # didn't help goes first in the owner's review; one that helped suggests its question as a
    # phrasing. Neither changes anything without the owner.
    db.execute("ALTER TABLE decisions ADD COLUMN customer_verdict TEXT")


@MIGRATIONS(name="0018_pressed")
def m0018_pressed(db: Database) -> None:
    # The button a customer pressed in the chat instead of typing (conversations/store.py's
    # ``Pressed``: "talk to a person", "none of these", one of the offered choices); NULL for what
    # they typed. The chat stores the button's words as their message (the customer's chat shows
    # them), and the owner's inbox showed «می‌خواهم با یک نفر صحبت کنم» as their question.
    db.execute("ALTER TABLE messages ADD COLUMN pressed TEXT")
    # Those pressed before: the decision on them says which button it was, the words that it
    # wasn't typed (the labels the chat sent, fa and en).
    db.execute(
        "UPDATE messages SET pressed = CASE (SELECT d.reason FROM decisions d WHERE d.message_id = messages.id) "
        "WHEN 'clarification_failed' THEN 'none_of_these' ELSE 'person' END "
        "WHERE role = 'customer' AND text IN ('می‌خواهم با یک نفر صحبت کنم', 'I''d like to talk to a person') "
        "AND EXISTS (SELECT 1 FROM decisions d WHERE d.message_id = messages.id "
        "AND d.reason IN ('asked_for_person', 'clarification_failed'))"
    )
    db.execute(
        "UPDATE messages SET pressed = 'choice' WHERE role = 'customer' AND EXISTS "
        "(SELECT 1 FROM decisions d WHERE d.message_id = messages.id AND d.reason = 'chosen_by_customer')"
    )


@MIGRATIONS(name="0019_orders")
def m0019_orders(db: Database) -> None:
    # The owner's spreadsheet of orders (appliance/orders/store.py owns these tables): replaced
    # whole by every import, as the sheet is the shop's list. ``number`` in normalize_number's
    # form (Latin digits, no "#", spaces or dashes, upper case), which is how a customer's typing
    # is compared. ``phone`` and ``email`` are the proof only: never said, never logged.
    db.execute(
        """
        CREATE TABLE orders (
            number TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            status_label TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL DEFAULT '',
            shipped TEXT NOT NULL DEFAULT '',
            carrier TEXT NOT NULL DEFAULT '',
            tracking_code TEXT NOT NULL DEFAULT '',
            tracking_url TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL DEFAULT '',
            imported_at TEXT NOT NULL
        )
        """
    )
    # Every import of the sheet (a file, or its address on a schedule), failed ones too, with the
    # column mapping used: remembered for the next file with the same columns.
    db.execute(
        """
        CREATE TABLE order_imports (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            rows INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT '',
            mapping TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    # The audit log of every order lookup, and what the tries are counted on (per conversation,
    # per visitor, per order number: guessing numbers is the attack). An erased conversation
    # leaves its lookups in the owner's log without it (SET NULL): the log is the shop's record
    # that a number was asked about, and holds no customer's words.
    db.execute(
        """
        CREATE TABLE order_lookups (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
            visitor TEXT,
            number TEXT NOT NULL,
            outcome TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT ''
        )
        """
    )
    db.execute("CREATE INDEX order_lookups_number ON order_lookups(number, at)")
    db.execute("CREATE INDEX order_lookups_visitor ON order_lookups(visitor, at)")
    db.execute("CREATE INDEX order_lookups_conversation ON order_lookups(conversation_id, at)")
    # ``visitor`` is a visitors.id, kept as text (a lookup outlives its conversation); a visitor
    # forgotten with their conversations (erased, or past retention) is forgotten here too.
    db.execute(
        "CREATE TRIGGER order_lookups_forget_visitor AFTER DELETE ON visitors BEGIN "
        "UPDATE order_lookups SET visitor = NULL WHERE visitor = OLD.id; END"
    )
    # A conversation's order question in progress: the number given so far and what is asked
    # next ('number' | 'proof'). Goes with its conversation.
    db.execute(
        """
        CREATE TABLE order_desk (
            conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
            number TEXT NOT NULL DEFAULT '',
            stage TEXT NOT NULL,
            tries INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        )
        """
    )


@MIGRATIONS(name="0020_order_lookups_network")
def m0020_order_lookups_network(db: Database) -> None:
    # The network a lookup came from (a keyed hash of the IPv4 address or the IPv6 /64, never the
    # address): one network making a new visitor and conversation per try got three tries each,
    # without end. The desk counts a network's failed lookups by (network, at).
    db.execute("ALTER TABLE order_lookups ADD COLUMN network TEXT")
    db.execute("CREATE INDEX order_lookups_network ON order_lookups(network, at)")
    # A visitor forgotten (erased, or past retention) takes where they were with them, too.
    db.execute("DROP TRIGGER order_lookups_forget_visitor")
    db.execute(
        "CREATE TRIGGER order_lookups_forget_visitor AFTER DELETE ON visitors BEGIN "
        "UPDATE order_lookups SET visitor = NULL, network = NULL WHERE visitor = OLD.id; END"
    )


@MIGRATIONS(name="0021_channels_and_events")
def m0021_channels_and_events(db: Database) -> None:
    # Conversations from other channels than the widget: the channel's own name for the other
    # side (a Telegram chat id, the root Message-ID of an e-mail thread), looked up at each
    # incoming message.
    db.execute("ALTER TABLE conversations ADD COLUMN channel_ref TEXT")
    db.execute("CREATE INDEX conversations_channel_ref ON conversations(channel, channel_ref)")
    # What happened in the customers' conversations, in order, written in the same transaction as
    # the change itself (conversations/events.py): the channels send the shop's messages from it,
    # webhooks deliver it, the owner's phone is told from it. A reader keeps its place in
    # ``event_cursors``, so a restart loses nothing and repeats nothing it had finished.
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
            message_id INTEGER,
            channel TEXT NOT NULL DEFAULT '',
            data TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_conversation ON events(conversation_id)")
    db.execute("CREATE INDEX events_created ON events(created_at)")
    db.execute(
        "CREATE TABLE event_cursors (reader TEXT PRIMARY KEY, last_id INTEGER NOT NULL DEFAULT 0, updated_at TEXT)"
    )


@MIGRATIONS(name="0022_mailbox")
def m0022_mailbox(db: Database) -> None:
    # The e-mails of each e-mail conversation, the customer's and ours, by Message-ID
    # (channels/mail_threads.py): a customer's reply names earlier ones in In-Reply-To and
    # References, which finds its conversation; ours carry the chain on. ``body`` is the e-mail's
    # whole text, quoted under the next reply so that no history is lost.
    db.execute(
        """
        CREATE TABLE mail_ids (
            message_id TEXT PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            incoming INTEGER NOT NULL,
            sender TEXT NOT NULL DEFAULT '',
            subject TEXT NOT NULL DEFAULT '',
            body TEXT NOT NULL DEFAULT '',
            sent_at TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX mail_ids_conversation ON mail_ids(conversation_id)")
    # An e-mail's own headers (JSON: Message-ID, In-Reply-To, References, Auto-Submitted), so a
    # reply sent later from the outbox is threaded as it was written.
    db.execute("ALTER TABLE outbox ADD COLUMN headers TEXT")


@MIGRATIONS(name="0023_webhooks")
def m0023_webhooks(db: Database) -> None:
    # The shop's own systems told of what happens in conversations (channels/webhooks.py): each
    # endpoint with the events it picked and the secret its deliveries are signed with. An endpoint
    # gets only the events after it was added (``after_event``), never the history before it.
    db.execute(
        """
        CREATE TABLE webhook_endpoints (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            kinds TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 1,
            after_event INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    # One row per (endpoint, event): the queue and the log at once. The body is built once, when
    # the event is queued, so every retry sends the same bytes. It goes with its event (an erased
    # conversation, the events' retention) and with its endpoint. A test event (``ping``) has no
    # event and is never pending: it is only the log's record of the test.
    db.execute(
        """
        CREATE TABLE webhook_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
            event_id INTEGER REFERENCES events(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            give_up_at TEXT NOT NULL,
            last_attempt_at TEXT,
            response_code INTEGER,
            response_body TEXT,
            error TEXT,
            delivered_at TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (endpoint_id, event_id)
        )
        """
    )
    db.execute("CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(endpoint_id, status, event_id)")
    db.execute("CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id)")


@MIGRATIONS(name="0024_owner_alerts")
def m0024_owner_alerts(db: Database) -> None:
    # The owner's devices that take Web Push alerts (channels/webpush.py): the browser's push
    # service address and the keys the payload is encrypted for. At most a few (20).
    db.execute(
        """
        CREATE TABLE push_subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            device TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            last_sent_at TEXT,
            last_error TEXT
        )
        """
    )
    # The alerts each waiting conversation was given (channels/alerts.py): never more than one an
    # hour; held during quiet hours until the summary; the waiting stretch already reminded of.
    db.execute(
        """
        CREATE TABLE owner_alerts (
            conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
            sent_at TEXT,
            held_at TEXT,
            reminded_for TEXT
        )
        """
    )
