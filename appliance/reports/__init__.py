"""What the owner reads about many conversations: the analytics page (``analytics``), the daily
digest e-mail (``digest``), the questions the knowledge base is missing (``gaps``), what the bot
learned from use for the owner's review (``learning``) and a decision said in the owner's words
(``explain``). Read-only."""
