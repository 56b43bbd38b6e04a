"""What the owner reads about many conversations: the analytics page (``analytics``), the daily
digest e-mail (``digest``) and the questions the knowledge base is missing (``gaps``). Read-only."""
