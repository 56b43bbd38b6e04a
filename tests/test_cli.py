import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.cli import main
from appliance.migrations import MIGRATIONS


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("serve", "check", "settings", "setup-link", "models"):
        assert command in result.output


def test_settings_shows_precedence(data_dir: Path) -> None:
    (data_dir / "settings.toml").write_text('shop_name = "Book Nook"\nport = 9000\n')
    result = run("settings", "--json", "--data-dir", str(data_dir), env={"APPLIANCE_PORT": "9100"})
    assert result.exit_code == 0
    values = json.loads(result.output)
    assert values["shop_name"] == "Book Nook" and values["port"] == 9100
    assert values["data_dir"] == str(data_dir.resolve())


def test_settings_explain(data_dir: Path) -> None:
    result = run("settings", "--explain", "--data-dir", str(data_dir))
    assert "model = 'default'" in result.output and "answers from the knowledge base only" in result.output


def test_bad_setting_is_a_clean_error(data_dir: Path) -> None:
    result = run("settings", "--data-dir", str(data_dir), env={"APPLIANCE_N_CTX": "lots"})
    assert result.exit_code == 1
    assert "APPLIANCE_N_CTX" in result.output and "Traceback" not in result.output


@pytest.mark.slow  # real waits, real argon2 or a whole import: a second or more
def test_check_on_this_installation(data_dir: Path, default_model: Path) -> None:
    result = run("check", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "[OK] python" in result.output
    assert "[OK] llama.cpp" in result.output and "AVX" in result.output
    assert "[OK] model" in result.output and "SHA-256 verified" in result.output
    assert "[OK] disk" in result.output


def test_check_fails_on_a_corrupt_model_and_database(data_dir: Path, tmp_path: Path) -> None:
    bad_model = tmp_path / "bad.gguf"
    bad_model.write_bytes(b"not a model at all" * 1000)
    (data_dir / "appliance.db").write_bytes(b"garbage" * 1000)
    result = run("check", "--data-dir", str(data_dir), env={"APPLIANCE_MODEL": str(bad_model)})
    assert result.exit_code == 1
    assert "[FAIL] model" in result.output and "knowledge base only" in result.output
    assert "[FAIL] database" in result.output
    assert "2 check(s) failed" in result.output


def test_check_after_first_start_reports_schema(data_dir: Path) -> None:
    assert run("setup-link", "--data-dir", str(data_dir)).exit_code == 0  # creates the database
    result = run("check", "--data-dir", str(data_dir), env={"APPLIANCE_MODEL": "none"})
    assert "[OK] database" in result.output and f"schema version {len(MIGRATIONS._migrations)}" in result.output
    assert "[OK] model: no model configured" in result.output


def test_setup_link(data_dir: Path) -> None:
    result = run("setup-link", "--data-dir", str(data_dir), env={"APPLIANCE_PORT": "8123"})
    assert result.exit_code == 0
    assert result.output.startswith("http://127.0.0.1:8123/admin/setup?token=")


def test_models_list(data_dir: Path, default_model: Path) -> None:
    result = run("models", "list", "--data-dir", str(data_dir))
    assert result.exit_code == 0
    assert "* SmolLM2-135M-Instruct.Q4_1.gguf" in result.output


def test_models_add_rejects_a_non_model(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_text("hello")
    result = CliRunner().invoke(main, ["models", "add", str(fake)])
    assert result.exit_code == 1 and "not a GGUF" in result.output


def test_service_unit(tmp_path: Path) -> None:
    result = run("service-unit", "--user", "shop", "--data-dir", str(tmp_path), "--port", "9000")
    assert result.exit_code == 0
    unit = result.output
    assert "User=shop" in unit and f"Environment=APPLIANCE_DATA_DIR={tmp_path}" in unit
    assert "serve --port 9000" in unit and "Restart=on-failure" in unit and f"ReadWritePaths={tmp_path}" in unit


def test_backup_if_exists_on_a_fresh_machine(data_dir: Path) -> None:
    result = run("backup", "--if-exists", "--data-dir", str(data_dir / "none-yet"))
    assert result.exit_code == 0 and "nothing to back up" in result.output


def test_check_names_a_model_that_crashes_this_cpu(
    data_dir: Path, default_model: Path, tmp_path: Path, monkeypatch
) -> None:
    """What `check` said on the Intel server where every completion died of SIGILL: it used to say
    all was fine. The model's process here is one that dies of SIGILL as soon as it starts."""
    import sys

    crashing = tmp_path / "python-that-crashes"
    crashing.write_text("#!/bin/sh\nkill -ILL $$\n")
    crashing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(crashing))
    result = run("check", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert "[FAIL] llama.cpp: llama.cpp crashes on this CPU when loaded: illegal instruction (SIGILL)" in result.output
    assert "[FAIL] model run: SmolLM2-135M-Instruct.Q4_1.gguf: the model crashes on this CPU" in result.output
    assert "SIGILL" in result.output and "./install.sh" in result.output
    assert "[OK] cpu:" in result.output and "avx2" in result.output
