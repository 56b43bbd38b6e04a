import dataclasses
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


def test_types_come_from_the_annotations() -> None:
    """Read with typing.get_type_hints, not by comparing the annotation's text: a field typed
    ``int | None`` or ``list[str]`` silently became a string."""
    hints = settings_mod._hints()
    assert hints["port"] is int and hints["data_dir"] is Path and hints["holidays"] == tuple[str, ...]
    kinds = {name: kind for name, kind, _ in settings_mod.describe()}
    assert (kinds["demo"], kinds["port"], kinds["model_timeout_s"], kinds["host"]) == ("bool", "int", "float", "str")
    assert (kinds["data_dir"], kinds["holidays"]) == ("Path", "list")
    assert settings_mod._type_name(int | None) == "int | None"


@pytest.mark.parametrize(
    "hint, value, expected",
    [
        (int | None, "42", 42),
        (int | None, "۴۲", 42),
        (int | None, "", None),
        (int | None, "none", None),
        (int | None, None, None),
        (float | None, "۰٫۵", 0.5),
        (list[str], "a, b ,,c", ["a", "b", "c"]),
        (list[str], ["a", 1], ["a", "1"]),
        (list[str], "", []),
        (list[int], ["۱", 2], [1, 2]),
        (tuple[str, ...], ["https://a.example"], ("https://a.example",)),
        (tuple[str, ...], "x,y", ("x", "y")),
        (bool, "on", True),
        (bool, "", False),
        (float, 3, 3.0),
        (int, 7.0, 7),
        (Path, "~/x", Path("~/x").expanduser()),
        (str, 12, "12"),
    ],
)
def test_each_type_is_coerced(hint: object, value: object, expected: object) -> None:
    assert settings_mod.coerce_value("field", hint, value, "test") == expected


@pytest.mark.parametrize(
    "hint, value, says",
    [
        (int | None, "forty", "expected a whole number"),
        (int, True, "expected a whole number"),
        (int, 2.5, "expected a whole number"),
        (float, "abc", "expected a number"),
        (bool, "maybe", "expected true/false"),
        (list[str], 5, "expected a list"),
        (list[int], ["1", "x"], "expected a whole number"),
        (str, ["a", "b"], "expected one value"),
    ],
)
def test_a_bad_value_names_the_field_and_the_source(hint: object, value: object, says: str) -> None:
    with pytest.raises(SettingsError, match=rf"^settings\.toml: setting 'field': {says}"):
        settings_mod.coerce_value("field", hint, value, "settings.toml")


def test_bad_values_from_each_source(data_dir: Path) -> None:
    write_toml(data_dir, 'n_ctx = "big"\n')
    with pytest.raises(SettingsError, match=r"settings\.toml: setting 'n_ctx': expected a whole number, got 'big'"):
        settings_mod.load({"data_dir": data_dir}, environ={})
    write_toml(data_dir, 'shop_name = ["a", "b"]\n')
    with pytest.raises(SettingsError, match="setting 'shop_name': expected one value"):
        settings_mod.load({"data_dir": data_dir}, environ={})
    write_toml(data_dir, "holidays = 1405\n")
    with pytest.raises(SettingsError, match="setting 'holidays': expected a list"):
        settings_mod.load({"data_dir": data_dir}, environ={})
    (data_dir / "settings.toml").unlink()
    with pytest.raises(SettingsError, match="APPLIANCE_MODEL_TIMEOUT_S: setting 'model_timeout_s'"):
        settings_mod.load({"data_dir": data_dir}, environ={"APPLIANCE_MODEL_TIMEOUT_S": "soon"})
    with pytest.raises(SettingsError, match="command line: setting 'port'"):
        settings_mod.load({"data_dir": data_dir, "port": "x"}, environ={})
    # the owner's language: the key says it, and names the field
    with pytest.raises(SettingsError) as refused:
        Settings(data_dir=data_dir).replace(backups_daily="هفت")
    assert refused.value.key == "setting.not_whole" and refused.value.params == {"setting": "backups_daily"}


def test_each_field_describes_itself() -> None:
    """Group, secrecy, restart and help live on the field, for the admin page and the CLI."""
    for f in dataclasses.fields(Settings):
        assert set(f.metadata) == {"doc", "group", "secret", "restart", "choices", "input"}, f.name
        assert f.metadata["group"] in (None, *settings_mod.GROUPS), f.name
    owner = {f.name: f.metadata for _, group in settings_mod.owner_fields() for f in group}
    assert {name for name, m in owner.items() if m["secret"]} == {
        "smtp_password",
        "model_api_key",
        "orders_key",
        "orders_secret",
        "imap_password",
        "offsite_s3_key_id",
        "offsite_s3_secret",
        "bot_token",
    }
    assert {name for name, m in owner.items() if m["restart"]} == {
        "model",
        "model_url",
        "model_server_model",
        "model_api_key",
        "backup_time",
        "digest_time",
    }
    groups = dict(settings_mod.owner_fields())
    assert [f.name for f in groups["shop"]][:3] == ["shop_name", "default_language", "timezone"]
    assert [f.name for f in groups["email"]][-1] == "owner_email"
    persian = {name: doc for name, _, doc in settings_mod.describe("fa")}
    assert persian["shop_name"].startswith("نام فروشگاه")
    # Every field has Persian help, the ones not on the settings page too (`appliance settings --lang fa`).
    english = {name: doc for name, _, doc in settings_mod.describe("en")}
    assert persian["port"].startswith("درگاه") and english["port"] == "TCP port to listen on."
    assert not [name for name, doc in persian.items() if doc == english[name]]


def test_a_field_set_to_none_is_left_out_of_the_file(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_mod, "_coerce_all", lambda values, source: dict(values))
    settings_mod.write_file(data_dir, {"shop_name": "x", "greeting": None})
    assert (data_dir / "settings.toml").read_text(encoding="utf-8") == 'shop_name = "x"\n'


def test_the_cli_explains_each_setting(data_dir: Path) -> None:
    from click.testing import CliRunner

    from appliance.cli import main

    out = CliRunner().invoke(main, ["settings", "--explain", "--data-dir", str(data_dir)], env={}).output
    assert "shop_name = ''" in out and "(str) The shop's name, shown in the chat window and the admin." in out
    assert "(list) Closed days" in out and "(int) TCP port to listen on." in out
    persian = CliRunner().invoke(main, ["settings", "--explain", "--lang", "fa", "--data-dir", str(data_dir)], env={})
    assert "(int) درگاه (پورت) TCP که برنامه روی آن گوش می‌دهد." in persian.output
    assert "(str) ساعت پشتیبان‌گیری شبانه، به ساعت همین رایانه." in persian.output


def test_times_of_day_are_checked_and_written_the_same_way(data_dir: Path) -> None:
    """«۲۵:۰۰» as the backup time was saved, and became 03:00 at the next start; a time typed
    in Persian digits is a time."""
    s = Settings(data_dir=data_dir)
    assert s.replace(backup_time="۳:۰۰").backup_time == "03:00"
    assert s.replace(digest_time="۰۷:۴۵").digest_time == "07:45"
    for bad in ("۲۵:۰۰", "25:00", "7:75", "هفت صبح", ""):
        with pytest.raises(SettingsError) as refused:
            s.replace(backup_time=bad)
        assert refused.value.key == "setting.not_time" and refused.value.params["setting"] == "backup_time"
    write_toml(data_dir, 'backup_time = "25:00"\n')
    with pytest.raises(SettingsError, match=r"settings\.toml: setting 'backup_time': '25:00' is not a time of day"):
        settings_mod.load({"data_dir": data_dir}, environ={})


def test_a_choice_takes_only_its_choices(data_dir: Path) -> None:
    """«فارسی» as the default language was saved (the field was free text)."""
    s = Settings(data_dir=data_dir)
    assert s.replace(default_language="EN").default_language == "en"
    assert s.replace(smtp_security=" ssl ").smtp_security == "ssl"
    for name, bad in (("default_language", "فارسی"), ("smtp_security", "tls"), ("catalog_missing", "نزدیک‌ترین")):
        with pytest.raises(SettingsError) as refused:
            s.replace(**{name: bad})
        assert refused.value.key == "setting.not_choice" and refused.value.params == {"setting": name, "value": bad}
    with pytest.raises(SettingsError, match="APPLIANCE_DEFAULT_LANGUAGE: setting 'default_language'"):
        settings_mod.load({"data_dir": data_dir}, environ={"APPLIANCE_DEFAULT_LANGUAGE": "farsi"})
    fields = {f.name: f.metadata for f in dataclasses.fields(Settings)}
    assert fields["default_language"]["choices"] == ("fa", "en") and fields["backup_time"]["input"] == "time"


def test_holidays_are_solar_hijri_dates_in_either_digits(data_dir: Path) -> None:
    s = Settings(data_dir=data_dir)
    assert s.replace(holidays="۱۴۰۵/۱/۱، 1405-01-02\n۱۴۰۵/۰۱/۱۳").holidays == ("1405-01-01", "1405-01-02", "1405-01-13")
    for bad in ("1405-13-01", "1405/12/31", "2026-03-21x", "نوروز"):  # 1405 is not a leap year
        with pytest.raises(SettingsError) as refused:
            s.replace(holidays=bad)
        assert refused.value.key == "setting.not_jalali"


def test_a_list_typed_one_a_line_or_with_persian_commas(data_dir: Path) -> None:
    s = Settings(data_dir=data_dir)
    typed = "https://a.example\nhttps://b.example، https://c.example"
    assert s.replace(allowed_origins=typed).allowed_origins == (
        "https://a.example",
        "https://b.example",
        "https://c.example",
    )


def test_the_greeting_is_per_language_and_an_old_one_is_the_default_language_s(data_dir: Path) -> None:
    """One greeting for both languages: English visitors were greeted in Persian."""
    s = Settings(data_dir=data_dir, greeting_fa="سلام! در خدمتیم.", greeting_en="Hi! How can we help?")
    assert s.greeting_for("fa") == "سلام! در خدمتیم." and s.greeting_for("en") == "Hi! How can we help?"
    old = Settings(data_dir=data_dir, greeting="سلام، خوش آمدید", default_language="fa")
    assert old.greeting_for("fa") == "سلام، خوش آمدید" and old.greeting_for("en") == ""
    assert old.replace(greeting_fa="درود").greeting_for("fa") == "درود"
    write_toml(data_dir, 'greeting = "سلام"\n')  # a file written by an older version still loads
    assert settings_mod.load({"data_dir": data_dir}, environ={}).greeting_for("fa") == "سلام"


def test_the_orders_settings_are_checked(data_dir: Path) -> None:
    """Where orders are looked up: one of its choices, an http(s) address (a JSON template with
    {order}), statuses in one form, and the JSON address's mapping a JSON object of paths."""
    s = Settings(data_dir=data_dir)
    assert (s.orders_source, s.orders_sheet_hours, s.orders_handover_statuses) == ("", 6, ("on-hold", "failed"))
    json_source = s.replace(
        orders_source="JSON",
        orders_url=" https://shop.example/api/orders/{order} ",
        orders_handover_statuses="On-Hold\nfailed، در انتظار بررسی\nfailed",
        orders_json_mapping='{"status": " data.state ", "tracking_code": "shipment.items.0.code"}',
        orders_sheet_hours="۱۲",
    )
    assert json_source.orders_source == "json" and json_source.orders_url == "https://shop.example/api/orders/{order}"
    assert json_source.orders_handover_statuses == ("on-hold", "failed", "در انتظار بررسی")
    assert json_source.orders_json_mapping == '{"status": "data.state", "tracking_code": "shipment.items.0.code"}'
    assert json_source.orders_sheet_hours == 12
    for name, bad, key in (
        ("orders_source", "shopify", "setting.not_choice"),
        ("orders_url", "shop.example", "setting.not_address"),
        ("orders_url", "ftp://shop.example/orders.csv", "setting.not_address"),
        ("orders_url", "https://ck_1:cs_2@shop.example", "setting.not_address"),
        ("orders_json_mapping", '{"address": "billing.address_1"}', "setting.bad_orders_mapping"),
        ("orders_json_mapping", '{"status": "data..state"}', "setting.bad_orders_mapping"),
        ("orders_json_mapping", '["status"]', "setting.bad_orders_mapping"),
        ("orders_json_mapping", "وضعیت: data.state", "setting.bad_orders_mapping"),
    ):
        with pytest.raises(SettingsError) as refused:
            s.replace(**{name: bad})
        assert refused.value.key == key and refused.value.params["setting"] == name, (name, bad)
    lines = s.replace(orders_json_mapping="status = data.state\ntracking_code = shipment.code\n")
    assert lines.orders_json_mapping == '{"status": "data.state", "tracking_code": "shipment.code"}'
    assert s.replace(orders_json_mapping="  ").orders_json_mapping == ""
    write_toml(data_dir, 'orders_source = "woocommerce"\norders_key = "ck_x"\norders_secret = "cs_y"\n')
    loaded = settings_mod.load({"data_dir": data_dir}, environ={})
    assert (loaded.orders_source, loaded.orders_key, loaded.orders_secret) == ("woocommerce", "ck_x", "cs_y")


def test_the_cli_explains_the_orders_settings_in_persian(data_dir: Path) -> None:
    from click.testing import CliRunner

    from appliance.cli import main

    persian = CliRunner().invoke(main, ["settings", "--explain", "--lang", "fa", "--data-dir", str(data_dir)], env={})
    assert "orders_source = ''" in persian.output and "(list) وضعیت‌هایی از سفارش" in persian.output
    assert "(str) ووکامرس: نشانی سایت فروشگاه" in persian.output
