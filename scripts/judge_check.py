#!/usr/bin/env python3
"""Could a chat model check the chosen entry? Measure it before building it.

    .venv/bin/python scripts/judge_check.py --kb ../shared/eval/shop_clothing_en/kb.jsonl \\
        --questions ../shared/eval/shop_clothing_en/dev.jsonl [--model models/OTHER.gguf]

For each question, the top entry of the live retrieval is shown to the model with the question
("Does the FAQ entry answer the question? Yes or No", the model's own chat template), and the
model's log-probability of "Yes" minus "No" is its verdict. Reported: how well the verdict alone
tells a right top entry from a wrong one or an out-of-scope question (AUC), and whether it adds
anything to the ranking's features (a logistic model on the features, with and without the
verdict, 5-fold on the same questions: AUC, and the best share of answerable questions answered
right with at most 3 % of all questions answered wrong). A diagnostic on the dev questions
themselves, not a calibration: nothing here is shipped.

The default is the bundled model. With an owner's larger instruction-tuned GGUF, this says
whether a check before the reply (the answers issue's "check that the chosen entry really
answers") is worth building.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from appliance.answering import embedder as embedder_mod
from appliance.answering.decide import default_calibration
from appliance.answering.finglish import looks_finglish
from appliance.answering.retrieval import RetrievalIndex
from appliance.answering.textnorm import detect_language
from appliance.db import Store
from appliance.evaluate import load_kb, read_questions

PROMPT = (
    "FAQ entry: {question}\nAnswer: {answer}\n\nCustomer's question: {query}\n\n"
    "Does the FAQ entry answer the customer's question? Reply Yes or No."
)
SYSTEM = "You check a shop's FAQ. Say Yes if the FAQ entry answers the customer's question, No if it does not."


def auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean())


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (a few features, a few hundred rows)."""
    a = np.c_[x, np.ones(len(x))]
    w = np.zeros(a.shape[1])
    reg = np.eye(a.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ w, -30, 30)))
        grad = a.T @ (p - y) + reg @ w
        hess = (a.T * (p * (1 - p))) @ a + reg + 1e-9 * np.eye(a.shape[1])
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 5) -> np.ndarray:
    order = np.random.default_rng(0).permutation(len(y))
    out = np.zeros(len(y))
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
        w, b = logistic((x[train] - mu) / sd, y[train])
        out[test] = (x[test] - mu) / sd @ w + b
    return out


def best_accuracy(y: np.ndarray, score: np.ndarray, in_scope: int, wrong_max: float = 0.03) -> float:
    best = 0.0
    for t in np.unique(score):
        answered = score >= t
        if (answered & (y == 0)).sum() / len(y) <= wrong_max:
            best = max(best, float((answered & (y == 1)).sum()) / in_scope)
    return best


def verdict(llm, query: str, entry_question: str, answer: str) -> float:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": PROMPT.format(question=entry_question, answer=answer[:600], query=query[:400])},
    ]
    out = llm.create_chat_completion(messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=20)
    top = out["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    yes = max((t["logprob"] for t in top if t["token"].strip().lower() == "yes"), default=-30.0)
    no = max((t["logprob"] for t in top if t["token"].strip().lower() == "no"), default=-30.0)
    return yes - no


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from llama_cpp import Llama

    llm = Llama(str(args.model), n_ctx=2048, logits_all=True, verbose=False, n_threads=args.threads)
    calibration = default_calibration()
    questions = read_questions(args.questions)
    labels, features, verdicts = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "appliance.db")
        store.migrate()
        try:
            load_kb(store, args.kb)
            index = RetrievalIndex(store, embedder_mod.shared())
            for i, q in enumerate(questions):
                lang = "fa" if looks_finglish(q.query) else detect_language(q.query, "en")
                ranking = index.search(q.query, lang=lang)
                top = ranking.top(1)[0]
                feats = ranking.features()
                labels.append(float(q.kind == "in_scope" and top.id == q.gold))
                features.append([feats[name] for name in calibration.features])
                verdicts.append(verdict(llm, q.query, top.title, top.answer))
                print(f"\r{i + 1}/{len(questions)}", end="", file=sys.stderr)
        finally:
            store.close()
    print(file=sys.stderr)
    y, x, v = np.array(labels), np.array(features), np.array(verdicts)
    in_scope = sum(q.kind == "in_scope" for q in questions)
    base, judged = cross_validated(x, y), cross_validated(np.c_[x, v], y)
    print(f"model                {args.model.name}")
    print(f"questions            {len(y)} ({int(y.sum())} with the right entry first)")
    print(f"verdict_auc          {auc(y, v):.3f}")
    print(f"features_auc         {auc(y, base):.3f}")
    print(f"features+verdict_auc {auc(y, judged):.3f}")
    print(f"accuracy_at_3pct     {best_accuracy(y, base, in_scope):.3f} -> {best_accuracy(y, judged, in_scope):.3f}")


if __name__ == "__main__":
    main()
