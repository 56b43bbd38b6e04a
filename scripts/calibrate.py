#!/usr/bin/env python3
"""Fit the decision's confidence model and thresholds on the development sets, all at once.

    .venv/bin/python scripts/calibrate.py [--eval-dir ../shared/eval] [--max-wrong 0.025]

For every set: import its knowledge base into a throw-away store, rank each dev question with
the appliance's own retrieval, and record the ranking's features and whether its top entry is
the right one. A logistic model (a handful of weights) is fitted on all sets together, each set
weighing the same; then the answer and clarify thresholds are chosen so that the wrong-answer
rate stays under --max-wrong on every set while as many questions as possible are resolved.
The result is written to appliance/answering/calibration.json, which the appliance ships and uses.
Nothing is tuned per set: one model, one pair of thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from appliance.answering.decide import _HUMAN, _UPSET, CALIBRATION_PATH, small_talk
from appliance.cli.evaluate import Question, load_kb, read_questions
from appliance.db import Store
from appliance.kb import embedder as embedder_mod
from appliance.kb.retrieval import Ranking, RetrievalIndex
from appliance.text.textnorm import detect_language, normalize

FEATURES = [
    "fused",
    "margin",
    "centroid",
    "nearest",
    "answer",
    "coverage",
    "log_entries",
    "agree",
    "softmax",
    "centroid_margin",
    "knn_share",
    "nearest_gap",
    "lexical_margin",
    "query_words",
]


def collect(set_dir: Path, visit: Callable[[Question, Ranking], Any] | None = None) -> dict:
    """Each dev question's ranking features and labels; ``visit`` sees each question and its
    ranking too (scripts/judge_check.py asks a model about the top entry)."""
    questions = read_questions(set_dir / "dev.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "appliance.db")
        store.migrate()
        load_kb(store, set_dir / "kb.jsonl")
        index = RetrievalIndex(store, embedder_mod.shared())
        X, correct, in_top3, gold_kind, forced = [], [], [], [], []
        for q in questions:
            norm = normalize(q.query)
            ranking = index.search(q.query, lang=detect_language(q.query))
            if visit is not None:
                visit(q, ranking)
            feats = ranking.features()
            top = [e.id for e in ranking.top(3)]
            X.append([feats[f] for f in FEATURES])
            correct.append(bool(q.gold) and top[:1] == [q.gold])
            in_top3.append(bool(q.gold) and q.gold in top)
            gold_kind.append(q.kind)
            # Messages the decision escalates or answers politely before looking at scores.
            forced.append(bool(_HUMAN.search(norm) or _UPSET.search(norm) or small_talk(q.query)))
        store.close()
    return {
        "X": np.array(X),
        "correct": np.array(correct),
        "in_top3": np.array(in_top3),
        "kind": np.array(gold_kind),
        "forced": np.array(forced),
    }


def fit(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, mu: np.ndarray, sd: np.ndarray, reg: float = 0.01, steps: int = 4000
) -> np.ndarray:
    Z = np.c_[(X - mu) / sd, np.ones(len(X))]
    b = np.zeros(Z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-Z @ b))
        grad = Z.T @ ((p - y) * w) / w.sum() + reg * np.r_[b[:-1], 0]
        b -= 0.5 * grad
    return b


def metrics(d: dict, p_answer: np.ndarray, p_clarify: np.ndarray, ta: float, tc: float) -> dict:
    ins = d["kind"] == "in_scope"
    oos = ~ins
    ok = ~d["forced"]
    ans = ok & (p_answer >= ta)
    clar = ok & ~ans & (p_clarify >= tc)
    esc = ~ans & ~clar
    n = len(d["X"])
    return {
        "wrong": ((ans & ins & ~d["correct"]).sum() + (ans & oos).sum()) / n,
        "accuracy": (ans & d["correct"]).sum() / max(ins.sum(), 1),
        "resolved": ((ans & d["correct"]) | (clar & d["in_top3"])).sum() / max(ins.sum(), 1),
        "oos_recall": (esc & oos).sum() / max(oos.sum(), 1),
        "clarify": clar.sum() / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument(
        "--max-wrong",
        type=float,
        default=0.025,
        help="highest wrong-answer rate allowed on any set (target 0.03, minus headroom)",
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION_PATH)
    parser.add_argument(
        "--clarify-cost", type=float, default=0.2, help="how much a clarifying question costs against a resolved one"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="keep the collected features in this .npz (re-fit without re-ranking)"
    )
    parser.add_argument(
        "--no-worse-than",
        type=Path,
        default=None,
        metavar="CALIBRATION_JSON",
        help="a calibration whose per-set resolved share (minus 0.01) and out-of-scope recall (minus 0.05) the "
        "new one must keep on every set: a re-fit after a retrieval change must not trade one set for another",
    )
    args = parser.parse_args()

    sets = sorted(p for p in args.eval_dir.iterdir() if (p / "dev.jsonl").exists())
    data = {}
    cached = dict(np.load(args.cache, allow_pickle=True)) if args.cache and args.cache.exists() else {}
    for s in sets:
        started = time.time()
        if f"{s.name}/X" in cached:
            data[s.name] = {k: cached[f"{s.name}/{k}"] for k in ("X", "correct", "in_top3", "kind", "forced")}
        else:
            data[s.name] = collect(s)
        print(
            f"{s.name:24s} {len(data[s.name]['X']):5d} questions  top-1 {data[s.name]['correct'][data[s.name]['kind'] == 'in_scope'].mean():.3f}"
            f"  ({time.time() - started:.0f} s)",
            flush=True,
        )

    if args.cache:
        np.savez(args.cache, **{f"{name}/{k}": v for name, d in data.items() for k, v in d.items()})

    X = np.concatenate([d["X"] for d in data.values()])
    w = np.concatenate([np.full(len(d["X"]), 1 / len(d["X"])) for d in data.values()])
    mu, sd = X.mean(0), X.std(0) + 1e-9
    # Two heads on the same features: "is the top entry right?" decides answering; "is the right
    # entry among the top three?" decides between offering choices and escalating.
    heads = {
        "answer": fit(X, np.concatenate([d["correct"] for d in data.values()]).astype(float), w, mu, sd),
        "clarify": fit(X, np.concatenate([d["in_top3"] for d in data.values()]).astype(float), w, mu, sd),
    }

    def prob(d: dict, head: str) -> np.ndarray:
        return 1 / (1 + np.exp(-(np.c_[(d["X"] - mu) / sd, np.ones(len(d["X"]))] @ heads[head])))

    probs = {name: (prob(d, "answer"), prob(d, "clarify")) for name, d in data.items()}
    floor: dict[str, dict] = {}
    if args.no_worse_than:
        ref = json.loads(args.no_worse_than.read_text(encoding="utf-8"))
        r_mu, r_sd = np.array(ref["mean"]), np.array(ref["scale"])

        def ref_prob(d: dict, head: str) -> np.ndarray:
            h = ref["heads"][head]
            return 1 / (1 + np.exp(-(((d["X"] - r_mu) / r_sd) @ np.array(h["coef"]) + h["intercept"])))

        for name, d in data.items():
            r = metrics(
                d, ref_prob(d, "answer"), ref_prob(d, "clarify"), ref["answer_threshold"], ref["clarify_threshold"]
            )
            floor[name] = {"resolved": r["resolved"] - 0.01, "oos_recall": r["oos_recall"] - 0.05}
    best = None
    for ta in np.arange(0.30, 0.995, 0.005):
        for tc in np.arange(0.05, 0.995, 0.01):
            rows = {name: metrics(d, *probs[name], ta, tc) for name, d in data.items()}
            if max(r["wrong"] for r in rows.values()) > args.max_wrong:
                continue
            if any(rows[n][k] < v for n, f in floor.items() for k, v in f.items()):
                continue
            mean = {
                k: np.mean([r[k] for r in rows.values()]) for k in ("resolved", "accuracy", "oos_recall", "clarify")
            }
            # Resolve as many as possible, answer outright where safe, escalate what can't be
            # answered, and don't turn the bot into a menu.
            score = (
                mean["resolved"]
                + 0.5 * mean["accuracy"]
                + 0.5 * mean["oos_recall"]
                - args.clarify_cost * mean["clarify"]
            )
            if best is None or score > best[0]:
                best = (score, ta, tc, rows)
    if best is None:
        raise SystemExit("no thresholds keep the wrong-answer rate under the limit on every set")
    _, ta, tc, rows = best
    print(f"\nanswer threshold {ta:.3f}, clarify threshold {tc:.3f}")
    for name, r in rows.items():
        print(
            f"{name:24s} wrong {r['wrong']:.3f}  accuracy {r['accuracy']:.3f}  resolved {r['resolved']:.3f}  "
            f"oos recall {r['oos_recall']:.3f}  clarify {r['clarify']:.3f}"
        )
    calibration = {
        "features": FEATURES,
        "mean": [round(float(v), 6) for v in mu],
        "scale": [round(float(v), 6) for v in sd],
        "heads": {
            name: {"coef": [round(float(v), 6) for v in b[:-1]], "intercept": round(float(b[-1]), 6)}
            for name, b in heads.items()
        },
        "answer_threshold": round(float(ta), 3),
        "clarify_threshold": round(float(tc), 3),
        "max_wrong": args.max_wrong,
        "fitted_on": [s.name for s in sets],
        "fitted": date.today().isoformat(),
        "embedder": embedder_mod.shared().name,
    }
    args.out.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
