"""Answering a customer from the shop's knowledge base: normalisation (textnorm, finglish), the
embedder, the knowledge base and its index (entry, kb, kb_index, kb_formats), retrieval, the
decision and its calibration (decide, shop_calibration) and the reply's composition (compose).

Nothing here knows about HTTP, conversations or the admin: conversations/chat.py calls in, and the routes
reach it through conversations/chat.py and web/services.py. See docs/ARCHITECTURE.md.
"""
