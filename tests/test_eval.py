"""`appliance eval` and the `kb` commands on small knowledge bases written here."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli import main

from .helpers import KB, QUESTIONS, write_jsonl

METRICS = [
    "retrieval_top1",
    "retrieval_top3",
    "in_scope_accuracy",
    "in_scope_resolved",
    "wrong_answer_rate",
    "oos_escalation_recall",
    "id_oos_recall",
    "ood_oos_recall",
    "escalation_precision",
    "clarify_rate",
    "latency_p50_ms",
    "latency_p95_ms",
]


@pytest.fixture
def fixture_set(tmp_path: Path) -> tuple[Path, Path]:
    return write_jsonl(tmp_path / "kb.jsonl", KB), write_jsonl(tmp_path / "dev.jsonl", QUESTIONS)


@pytest.mark.slow  # fits a calibration or embeds a whole knowledge base: seconds
def test_eval_reports_every_metric(fixture_set: tuple[Path, Path], tmp_path: Path) -> None:
    kb_path, q_path = fixture_set
    out = tmp_path / "metrics.json"
    details = tmp_path / "details.jsonl"
    result = CliRunner().invoke(
        main, ["eval", "--kb", str(kb_path), "--questions", str(q_path), "--out", str(out), "--details", str(details)]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    for name in METRICS:
        assert name in metrics and name in result.output
    assert "marker_hit_rate" not in metrics  # only with --llm
    # questions identical to the owner's phrasings are ranked first, and never answered wrongly
    assert metrics["retrieval_top1"] == 1.0 and metrics["retrieval_top3"] == 1.0
    assert metrics["wrong_answer_rate"] == 0.0
    assert metrics["in_scope_resolved"] == 1.0
    assert metrics["ood_oos_recall"] == 1.0 and metrics["escalation_precision"] == 1.0
    assert metrics["questions"] == 6 and metrics["in_scope"] == 4
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert [r["query"] for r in rows] == [q["query"] for q in QUESTIONS]
    assert all(r["decision"] in {"answer", "clarify", "escalate"} for r in rows)


@pytest.mark.model
def test_eval_with_the_model_grades_markers(fixture_set: tuple[Path, Path], tmp_path: Path) -> None:
    kb_path, q_path = fixture_set
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(
        main, ["eval", "--kb", str(kb_path), "--questions", str(q_path), "--out", str(out), "--llm"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert metrics["llm"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    # the grounding check keeps every code of the source in the reply, or shows the owner's text
    assert metrics["marker_hit_rate"] == 1.0 and metrics["foreign_marker_rate"] == 0.0


DIALOGS = [
    {"turns": [{"q": "how long does delivery take", "gold": "kb-0", "kind": "in_scope"},
               {"q": "and to shiraz?", "gold": "kb-0", "kind": "in_scope"}]},
    {"turns": [{"q": "how long does delivery take", "gold": "kb-0", "kind": "in_scope"},
               {"q": "can i return a book", "gold": "kb-1", "kind": "in_scope"}]},
    {"turns": [{"q": "hi", "gold": None, "kind": "smalltalk"},
               {"q": "which cards do you accept", "gold": "kb-2", "kind": "in_scope"}]},
    {"turns": [{"q": "are you open on friday", "gold": "kb-3", "kind": "in_scope"},
               {"q": "I want to talk to a real person", "gold": None, "kind": "person"}]},
]  # fmt: skip


@pytest.mark.slow
def test_eval_grades_every_turn_of_a_conversation(fixture_set: tuple[Path, Path], tmp_path: Path) -> None:
    kb_path, _ = fixture_set
    dialogs = write_jsonl(tmp_path / "dialogs.jsonl", DIALOGS)
    out, details = tmp_path / "metrics.json", tmp_path / "details.jsonl"
    result = CliRunner().invoke(
        main, ["eval", "--kb", str(kb_path), "--questions", str(dialogs), "--out", str(out), "--details", str(details)]
    )
    assert result.exit_code == 0, result.output
    m = json.loads(out.read_text())
    # every turn but the small talk is graded; the second turns also on their own
    assert (m["dialogs"], m["graded_turns"], m["follow_up_turns"]) == (4, 7, 4)
    assert m["wrong_turns"] == 0 and m["follow_up_wrong"] == 0
    assert m["resolved_turns"] == 1.0 and m["person_handed_over"] == 1.0
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert [(r["dialog"], r["turn"]) for r in rows] == [(d, t) for d in range(4) for t in range(2)]
    # the turns of one conversation were asked in one conversation: the elliptic one continues
    assert rows[1]["decision"] == "answer" and rows[1]["reason"] == "follow_up" and rows[1]["entries"] == ["kb-0"]
    assert rows[3]["entries"][:1] == ["kb-1"]  # a switch of topic is decided on its own


@pytest.mark.slow
def test_eval_replays_last_weeks_traffic(fixture_set: tuple[Path, Path], tmp_path: Path) -> None:
    kb_path, q_path = fixture_set
    out, details = tmp_path / "metrics.json", tmp_path / "details.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "--kb",
            str(kb_path),
            "--questions",
            str(q_path),
            "--replay",
            "--out",
            str(out),
            "--details",
            str(details),
        ],
    )
    assert result.exit_code == 0, result.output
    m = json.loads(out.read_text())
    # the other half, after last week's: the same half before it beside it, and what last week got
    assert m["questions"] == 3 and m["before"]["questions"] == 3 and m["traffic"]["questions"] == 3
    assert "before:" in result.output and "traffic:" in result.output
    assert "after_replay" in m["shop_calibration"]  # fitted again with the owner's review
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert [r["phase"] for r in rows] == ["before"] * 3 + ["traffic"] * 3 + ["after"] * 3
    assert [r["query"] for r in rows if r["phase"] == "traffic"] == [q["query"] for q in QUESTIONS[0::2]]


def test_eval_names_the_turn_of_a_malformed_conversation(fixture_set: tuple[Path, Path], tmp_path: Path) -> None:
    kb_path, _ = fixture_set
    bad = write_jsonl(
        tmp_path / "bad.jsonl", [{"turns": [{"q": "hi", "kind": "smalltalk"}, {"q": "x", "kind": "nope"}]}]
    )
    result = CliRunner().invoke(main, ["eval", "--kb", str(kb_path), "--questions", str(bad)])
    assert result.exit_code == 1 and "bad.jsonl line 1, turn 2" in result.output


def test_eval_rejects_a_malformed_questions_file(fixture_set: tuple[Path, Path], tmp_path: Path) -> None:
    kb_path, _ = fixture_set
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "hi", "gold": null, "kind": "in_scope"}\n')
    result = CliRunner().invoke(main, ["eval", "--kb", str(kb_path), "--questions", str(bad)])
    assert result.exit_code == 1 and "bad.jsonl line 1" in result.output


def test_kb_import_export_round_trip(fixture_set: tuple[Path, Path], data_dir: Path, tmp_path: Path) -> None:
    kb_path, _ = fixture_set
    runner = CliRunner()
    first = runner.invoke(main, ["kb", "import", str(kb_path), "--data-dir", str(data_dir)])
    assert first.exit_code == 0 and "4 added" in first.output
    again = runner.invoke(main, ["kb", "import", str(kb_path), "--data-dir", str(data_dir)])
    assert "0 added, 0 updated, 4 unchanged" in again.output
    exported = tmp_path / "out.csv"
    assert (
        runner.invoke(
            main, ["kb", "export", "--format", "csv", "-o", str(exported), "--data-dir", str(data_dir)]
        ).exit_code
        == 0
    )
    assert "how long does delivery take" in exported.read_text()
    ask = runner.invoke(main, ["ask", "--data-dir", str(data_dir), "--model", "none", "what are your opening hours"])
    assert ask.exit_code == 0 and "decision: answer" in ask.output and "9:00-18:00" in ask.output


def test_kb_import_of_a_broken_file_changes_nothing(data_dir: Path, tmp_path: Path, fixture_set) -> None:
    kb_path, _ = fixture_set
    runner = CliRunner()
    runner.invoke(main, ["kb", "import", str(kb_path), "--data-dir", str(data_dir)])
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps({**KB[0], "answer": "changed"}) + "\n" + '{"id": "x", "lang": "en"\n')
    result = runner.invoke(main, ["kb", "import", str(broken), "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "nothing imported: broken.jsonl line 2" in result.output
    export = runner.invoke(main, ["kb", "export", "--data-dir", str(data_dir)])
    assert "changed" not in export.output and "3-5 business days" in export.output
