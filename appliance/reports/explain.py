"""A decision of the bot's as the owner reads it, in the owner's language: "Answered with
«Opening hours», 94 % sure; second choice «Returns»". The admin's "try a question" box says it
under the reply, and the inbox's transcript under each of the bot's answers."""

from __future__ import annotations

from appliance import i18n
from appliance.answering import entry_check
from appliance.answering.decide import Decision


def preview_in_words(lang: str, decision: Decision, titles: dict[str, str]) -> str:
    """A decision made just now (the "try a question" box), with ``titles`` by entry id."""
    return decision_in_words(
        lang,
        decision.kind,
        decision.reason,
        decision.confidence,
        [e.title for e in decision.entries] if decision.kind in {"answer", "clarify"} else [],
        [titles.get(i, i) for i in decision.ranking],
    )


def decision_in_words(
    lang: str, kind: str, reason: str, confidence: float | None, chosen: list[str], ranked: list[str]
) -> str:
    """A decision as the owner reads it (the scores stay folded below). ``chosen``: the titles
    answered with or offered; ``ranked``: the titles the search ranked, best first. Each title is
    a bidi isolate: a Persian title in an English sentence (or the reverse) took the figure after
    it along."""
    if reason.startswith("order_") and kind != "escalate":
        # The order desk (conversations/order_desk.py) asked for the number or the proof, or told
        # the status: no entry was chosen or offered, the reason says what it did.
        said = i18n.label(lang, "reason", reason)
        return said[:1].upper() + said[1:]
    chosen, ranked = [i18n.isolate(t) for t in chosen], [i18n.isolate(t) for t in ranked]
    # What a checking model did to retrieval's decision (answering/entry_check.py), said after it.
    checked = (
        i18n.t(lang, "try.said.checked").format(why=i18n.label(lang, "reason", reason))
        if reason in entry_check.REASONS
        else ""
    )
    if kind == "answer" and chosen:
        sure = i18n.digits(round((confidence or 0) * 100), lang)
        both = i18n.t(lang, "try.said.and").join(chosen)  # two entries: a question in two parts
        text = i18n.t(lang, "try.said.answer").format(entry=both, sure=sure)
        second = [title for title in ranked if title not in chosen][:1]
        if second and not checked:
            text += i18n.t(lang, "try.said.second").format(entry=second[0])
        return text + checked
    if kind == "clarify" and chosen:
        entries = ("، " if lang == "fa" else ", ").join(f"«{title}»" for title in chosen)
        return i18n.t(lang, "try.said.clarify").format(entries=entries) + checked
    if kind == "escalate":
        text = i18n.t(lang, "try.said.escalate").format(reason=i18n.label(lang, "reason", reason))
        if ranked:
            text += i18n.t(lang, "try.said.best_guess").format(entry=ranked[0])
        return text
    return i18n.label(lang, "decision", kind)
