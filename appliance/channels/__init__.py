"""Where customers already are, and where the owner is: the shop's Telegram or Bale bot
(``telegram``), its support mailbox (``email_in``), the shop's own systems (``webhooks``) and the
owner's phone (``alerts``). Each runs in the background beside the widget (``runner``), follows
the conversations' events (conversations/events.py) and answers through the same ChatService."""
