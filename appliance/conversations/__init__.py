"""Conversations with customers: the only writer of conversations and messages (``store``), the
chat service that answers (``chat``), photos (``attachments``, drawn by ``photo_worker``), live
updates (``push``), the owner's presence (``presence``), proactive messages (``triggers``), the
owner's saved replies (``saved_replies``), retention and erasure (``privacy``) and the shop's
opening hours (``hours``)."""
