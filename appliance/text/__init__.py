"""Reading a customer's words: normalising Persian and English (``textnorm``), Finglish
(``finglish``), colloquial Persian (``colloquial``), and a phone number or e-mail address in a
message (``contact``). Imported by every other package; imports none of them."""
