"""A customer's contact details as the appliance keeps them: one strict form of an e-mail address,
one canonical form of a phone number (so that what is stored and what is searched for agree).

Nobody verifies them: a visitor can type anyone's address. So they never decide by themselves
whose data an export or an erasure covers (conversations/privacy.py): that is the conversation and its visitor,
with other conversations that left the same details only as the owner's explicit choice.
"""

from __future__ import annotations

import re

from appliance.text.textnorm import ascii_digits

# One address, strictly: the local part in RFC 5322's plain characters (no comma: "a,b,c@x.ir"
# became three SMTP recipients; no control characters), a domain of letters, digits and hyphens.
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")
_SEPARATORS = re.compile(r"[\s().\-\u200c\u200e\u200f]")


class ContactError(ValueError):
    """Not an e-mail address or a phone number the appliance can use; ``code`` names which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def email(text: str) -> str:
    """The address as given, trimmed; ContactError if it isn't one address."""
    text = text.strip()
    if len(text) > 254 or not EMAIL.match(text):
        raise ContactError("bad_email", "that e-mail address doesn't look right")
    return text


def phone(text: str) -> str:
    """The number in one form: ASCII digits with a leading + for an international number.

    Persian and Arabic digits become ASCII, spaces, dashes, dots and brackets go, "00" becomes
    "+", and an Iranian mobile written nationally (0912...) gets +98 (0912 123 4567 and
    +98 912 123-4567 are one number). ContactError if what is left isn't 7 to 15 digits."""
    text = _SEPARATORS.sub("", ascii_digits(text.strip()))
    if text.startswith("00"):
        text = "+" + text[2:]
    if re.fullmatch(r"09\d{9}", text):
        text = "+98" + text[1:]
    if not re.fullmatch(r"\+?\d{7,15}", text):
        raise ContactError("bad_phone", "that phone number doesn't look right")
    return text


def normalized(text: str) -> str:
    """A contact detail typed by the owner or the operator (to look it up): the phone form when it
    is a phone number, else the trimmed text (an e-mail address is matched without case)."""
    try:
        return phone(text)
    except ContactError:
        return text.strip()
