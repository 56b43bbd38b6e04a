from pathlib import Path

import pytest

from appliance import settings as settings_mod
from appliance.settings import Settings, SettingsError


def write_toml(data_dir: Path, text: str) -> None:
    (data_dir / "settings.toml").write_text(text, encoding="utf-8")


def test_defaults(data_dir: Path) -> None:
    s = settings_mod.load({"data_dir": data_dir}, environ={})
    assert s.port == 8750 and s.host == "127.0.0.1"
    assert s.model == "default" and s.n_ctx == 2048
    assert s.db_path == data_dir.resolve() / "appliance.db"
    assert s.base_url == "http://127.0.0.1:8750"


def test_precedence_file_env_flags(data_dir: Path) -> None:
    write_toml(data_dir, 'port = 9001\nshop_name = "از فایل"\nn_ctx = 1024\nlog_level = "warning"\n')
    env = {"APPLIANCE_DATA_DIR": str(data_dir), "APPLIANCE_PORT": "9002", "APPLIANCE_N_CTX": "4096"}
    s = settings_mod.load({"port": 9003, "host": None}, environ=env)
    assert s.port == 9003  # flag beats env and file
    assert s.n_ctx == 4096  # env beats file
    assert s.shop_name == "از فایل"  # file beats default
    assert s.log_level == "warning"
    assert s.host == "127.0.0.1"  # a flag given as None means "not given"


def test_data_dir_flag_beats_env(tmp_path: Path) -> None:
    s = settings_mod.load({"data_dir": tmp_path / "a"}, environ={"APPLIANCE_DATA_DIR": str(tmp_path / "b")})
    assert s.data_dir == (tmp_path / "a").resolve()


def test_demo_gets_its_own_default_directory() -> None:
    real = settings_mod.load({}, environ={})
    demo = settings_mod.load({"demo": True}, environ={})
    assert demo.demo and real.data_dir != demo.data_dir
    assert demo.data_dir.name == "appliance-demo"


def test_lists_and_booleans_from_env(data_dir: Path) -> None:
    env = {"APPLIANCE_ALLOWED_ORIGINS": "https://shop.example, https://www.shop.example", "APPLIANCE_DEMO": "yes"}
    s = settings_mod.load({"data_dir": data_dir}, environ=env)
    assert s.allowed_origins == ("https://shop.example", "https://www.shop.example")
    assert s.demo is True


@pytest.mark.parametrize(
    "env, message",
    [
        ({"APPLIANCE_PORT": "eighty"}, "APPLIANCE_PORT"),
        ({"APPLIANCE_DEMO": "maybe"}, "APPLIANCE_DEMO"),
    ],
)
def test_bad_env_value_is_a_clear_error(data_dir: Path, env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_mod.load({"data_dir": data_dir}, environ=env)


def test_bad_settings_file(data_dir: Path) -> None:
    write_toml(data_dir, "port = [")
    with pytest.raises(SettingsError, match="not valid TOML"):
        settings_mod.load({"data_dir": data_dir}, environ={})
    write_toml(data_dir, "colour = 'red'\n")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        settings_mod.load({"data_dir": data_dir}, environ={})
    write_toml(data_dir, "data_dir = '/elsewhere'\n")
    with pytest.raises(SettingsError, match="data_dir can't be set"):
        settings_mod.load({"data_dir": data_dir}, environ={})


def test_unrelated_env_is_ignored(data_dir: Path) -> None:
    s = settings_mod.load({"data_dir": data_dir}, environ={"APPLIANCE_SETTINGS_JSON": "{}", "PATH": "/bin"})
    assert s.port == 8750


def test_write_file_round_trip(data_dir: Path) -> None:
    settings_mod.write_file(data_dir, {"shop_name": "کتاب‌فروشی", "allowed_origins": ["https://a.example"]})
    settings_mod.write_file(data_dir, {"port": 8800})
    s = settings_mod.load({"data_dir": data_dir}, environ={})
    assert (s.shop_name, s.port, s.allowed_origins) == ("کتاب‌فروشی", 8800, ("https://a.example",))


def test_json_round_trip(data_dir: Path) -> None:
    s = Settings(data_dir=data_dir, allowed_origins=("https://x.example",), port=1234)
    assert Settings.from_json(s.to_json()) == s


def test_every_field_is_documented() -> None:
    for name, _kind, doc in settings_mod.describe():
        assert doc, f"setting {name} has no documentation"


def test_numbers_typed_on_a_persian_keyboard(tmp_path) -> None:
    from appliance.settings import Settings

    s = Settings(data_dir=tmp_path)
    assert s.replace(answer_safety="۰٫۰۱").answer_safety == 0.01
    assert s.replace(phrase_budget_s="۱٫۵").phrase_budget_s == 1.5
    assert s.replace(port="۸۷۵۱").port == 8751
    assert s.replace(retention_days="۱۲۰").retention_days == 120
