"""The owner's page pattern for a proactive message is matched in the visitor's browser, on every
tick of the widget: made into a regular expression, "*/*/*/*/*/x" took 17.7 s on an address of
200 slashes and "*a*a*a*a*a*a*b" never finished on 120 a's, with the chat frozen meanwhile. Real
Chromium, the real widget, a real `appliance serve --demo` (tests/conftest.py's, as for
tests/test_widget_browser.py, where the ordinary patterns are matched: a %-encoded Persian
address, a campaign's query)."""

import pytest

from .helpers import BUBBLE, owner_session, wait

pytestmark = pytest.mark.browser


def test_patterns_that_would_backtrack_for_minutes_leave_the_next_trigger_on_time(
    browser,
    shop_site,
    appliance_server,
) -> None:
    owner = owner_session(appliance_server)
    for form in (  # saved in this order, so the widget tries the hostile two first
        {"name": "slashes", "page": "*/*/*/*/*/x", "message_en": "Never shown."},
        {"name": "letters", "page": "*?*a*a*a*a*a*a*b", "message_en": "Never shown either."},
        {"name": "welcome", "page": "/*en.html?a*", "message_en": "Welcome! Ask me anything."},
    ):
        data = {"visitors": "all", "lang": "", "hours": "any", "every_days": "1", "enabled": "on", "scroll": "0"}
        assert owner.post("/admin/triggers/new", data={**data, **form}).status_code == 200
    browser.set_page_load_timeout(30)
    browser.set_script_timeout(30)
    # The shop's server finds en.html under any number of slashes; the widget sees them all.
    browser.get(f"{shop_site}{'/' * 200}en.html?{'a' * 120}")
    wait(browser, 20).until(lambda d: d.execute_script(BUBBLE) == ["Welcome! Ask me anything.×"])
