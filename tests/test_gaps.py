import asyncio

from litestar.testing import TestClient

from appliance import gaps
from appliance.answering import embedder, kb
from appliance.answering.entry import Entry

from .helpers import (
    sign_in,
)


def test_unanswered_questions_are_grouped_and_ranked(admin: TestClient) -> None:
    kb.save(
        admin.app.state.store,
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
    chat = admin.app.state.chat
    asked = [
        "Do you sell gift cards?",
        "do you have gift cards",
        "Can I buy a gift card?",
        "Do you deliver to Kish island?",
        "Is delivery to Kish possible?",
        "Do you buy used books?",
    ]

    async def customers():
        for text in asked:
            await chat.reply(chat.conversations.start(), text)

    asyncio.run(customers())
    found = gaps.find(admin.app.state.store, embedder.shared(), admin.app.state.clock())
    assert sum(g.count for g in found) <= len(asked)
    top = found[0]
    assert top.count == 3 and all("gift card" in q.lower() for q in top.questions)
    kish = [g for g in found if "Kish" in g.example]
    assert kish and kish[0].count == 2
    sign_in(admin)
    page = admin.get("/admin/?lang=en")
    assert "Knowledge gaps" in page.text and "gift card" in page.text.lower()
