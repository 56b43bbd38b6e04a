"""The shop's knowledge base: an entry and its rules (``entry``), the only writer of the
``kb_entries`` table (``store``), its search index (``index``), files in and out (``formats``),
the sentence embedder (``embedder``), retrieval over entries (``retrieval``) and the phrasings
learned from use waiting for the owner (``suggestions``). Knows nothing of conversations or the web."""
