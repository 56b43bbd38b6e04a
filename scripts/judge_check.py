#!/usr/bin/env python3
"""Could a chat model check the chosen entry? Measure it before building it.

    .venv/bin/python scripts/judge_check.py ../shared/eval/shop_clothing_en [--model models/OTHER.gguf]

For each dev question of the set, the top entry of the live retrieval (ranked and labelled by
scripts/calibrate.py's ``collect``, as for the shipped calibration) is shown to the model with
the question ("Does the FAQ entry answer the question? Yes or No", the model's own chat
template), and the
model's log-probability of "Yes" minus "No" is its verdict. Reported: how well the verdict alone
tells a right top entry from a wrong one or an out-of-scope question (AUC), and whether it adds
anything to the ranking's features (a logistic model on the features, with and without the
verdict, 5-fold on the same questions: AUC, and the best share of answerable questions answered
right with at most 3 % of all questions answered wrong). A diagnostic on the dev questions
themselves, not a calibration: nothing here is shipped.

The default is the bundled model. This is the diagnostic that came before the shipped check:
the check itself (answering/entry_check.py: the model names which of the top three entries
answer, and the decision changes by its rules) is measured with
``appliance eval --kb ... --questions ... --llm --check``; this script says, with log-probabilities,
how well a given model separates a right top entry from a wrong one at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import calibrate  # a sibling script: the questions' features (collect) and the logistic fit

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


def cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 5) -> np.ndarray:
    order = np.random.default_rng(0).permutation(len(y))
    out = np.zeros(len(y))
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
        b = calibrate.fit(x[train], y[train], np.ones(len(train)), mu, sd)
        out[test] = (x[test] - mu) / sd @ b[:-1] + b[-1]
    return out


def best_accuracy(y: np.ndarray, score: np.ndarray, in_scope: int, wrong_max: float = 0.03) -> float:
    best = 0.0
    for t in np.unique(score):
        answered = score >= t
        if (answered & (y == 0)).sum() / len(y) <= wrong_max:
            best = max(best, float((answered & (y == 1)).sum()) / in_scope)
    return best


def verdict(llm, query: str, entry_question: str, answer: str) -> float:
    """The model's log-probability of "Yes" minus "No": does this entry answer the question?"""
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
    parser.add_argument("set", type=Path, help="a folder with kb.jsonl and dev.jsonl")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from llama_cpp import Llama

    llm = Llama(str(args.model), n_ctx=2048, logits_all=True, verbose=False, n_threads=args.threads)
    verdicts: list[float] = []

    def ask(question, ranking) -> None:
        top = ranking.top(1)[0]
        verdicts.append(verdict(llm, question.query, top.title, top.answer))
        print(f"\r{len(verdicts)}", end="", file=sys.stderr)

    data = calibrate.collect(args.set, visit=ask)
    print(file=sys.stderr)
    y, x, v = data["correct"].astype(float), data["X"], np.array(verdicts)
    in_scope = int((data["kind"] == "in_scope").sum())
    base, judged = cross_validated(x, y), cross_validated(np.c_[x, v], y)
    print(f"model                {args.model.name}")
    print(f"questions            {len(y)} ({int(y.sum())} with the right entry first)")
    print(f"verdict_auc          {auc(y, v):.3f}")
    print(f"features_auc         {auc(y, base):.3f}")
    print(f"features+verdict_auc {auc(y, judged):.3f}")
    print(f"accuracy_at_3pct     {best_accuracy(y, base, in_scope):.3f} -> {best_accuracy(y, judged, in_scope):.3f}")


if __name__ == "__main__":
    main()
