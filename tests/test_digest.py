"""The morning digest, with an injected clock, and its place on the admin home page."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from appliance.app import create_app
from appliance.kb import embedder
from appliance.kb import store as kb
from appliance.kb.entry import Entry
from appliance.ops import scheduler
from appliance.reports import digest
from appliance.settings import Settings, SettingsError

from .helpers import Clock, password_hash, sign_in


def test_digest_counts_the_night(data_dir: Path) -> None:
    clock = Clock(datetime(2026, 11, 21, 22, 0, tzinfo=UTC))
    settings = Settings(data_dir=data_dir, model="none")
    with TestClient(create_app(settings, clock=clock, with_scheduler=False)) as c:
        store = c.app.state.services.store
        kb.save(
            store,
            [
                Entry(
                    "hours",
                    "Opening hours",
                    "We open 9:00-18:00.",
                    "en",
                    ["when are you open", "what are your opening hours"],
                )
            ],
            embedder=embedder.shared(),
            now="t",
        )
        chat = c.app.state.services.chat

        async def night():
            for text in [
                "when are you open",
                "what are your opening hours",  # 2 answered
                "I want to talk to a real person",  # escalated
                "Do you sell concert tickets?",
                "do you sell concert tickets",
            ]:  # 2 more, same question
                clock.now += timedelta(minutes=30)
                await chat.reply(chat.conversations.start(), text)

        asyncio.run(night())
        decisions = dict(store.read().execute("SELECT kind, count(*) FROM decisions GROUP BY kind").fetchall())
        clock.now = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
        summary = digest.build(store, clock)
        assert summary["conversations"] == 5
        assert summary["answered"] == decisions.get("answer", 0) == 2
        assert summary["escalated"] + summary["clarified"] == 3
        assert summary["waiting"] == decisions.get("escalate", 0)
        assert summary["top_unanswered"][0] == {"text": "Do you sell concert tickets?", "count": 2}
        assert summary["period_start"] == "2026-11-21T07:30:00+00:00"  # first digest: the last 24 hours
        # the next digest starts where this one ended
        clock.now += timedelta(days=1)
        again = digest.build(store, clock)
        assert again["period_start"] == summary["period_end"] and again["conversations"] == 0
        assert digest.latest(store)["period_end"] == clock.now.isoformat()


def test_home_page_shows_the_latest_digest(data_dir: Path) -> None:
    from appliance.owner import account as owner

    clock = Clock(datetime(2026, 11, 22, 7, 30, tzinfo=UTC))
    with TestClient(create_app(Settings(data_dir=data_dir, model="none"), clock=clock, with_scheduler=False)) as c:
        owner.set_password(c.app.state.services.store, password_hash(), clock)
        digest.build(c.app.state.services.store, clock)
        sign_in(c)
        page = c.get("/admin/?lang=en")
        assert "Morning digest" in page.text


def test_the_digest_job_is_scheduled_at_the_set_time(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, model="none", digest_time="06:45")
    jobs = scheduler.build(settings, None, lambda: datetime.now(UTC))  # type: ignore[arg-type]
    job = jobs.get_job("morning_digest")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("6", "45")
    with pytest.raises(SettingsError, match="not a time of day"):  # refused before it reaches the scheduler
        settings.replace(digest_time="25:99")


def test_the_app_runs_the_scheduler(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir, model="none"))) as c:
        assert c.app.state.services.scheduler.running
        assert c.app.state.services.scheduler.get_job("morning_digest") is not None
