"""Settings: defaults < TOML file < RINGBACK_* variables < explicit overrides; bad values name the variable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ringback.config import Settings, SettingsError, load_settings

SECRET_FIELDS = [f.name for f in dataclasses.fields(Settings) if f.metadata["secret"]]


def test_defaults_without_environment():
    settings = load_settings(env={})

    assert settings == Settings()
    assert (settings.host, settings.port, settings.writes_per_minute, settings.reads_per_minute) == (
        "127.0.0.1",
        8080,
        60,
        120,
    )
    assert settings.resolved_database_url.startswith("sqlite:///") and settings.resolved_database_url.endswith(
        "/var/ringback.db"
    )
    assert settings.resolved_public_url == "http://127.0.0.1:8080"


def test_environment_values_are_parsed_to_their_types():
    settings = load_settings(
        env={
            "RINGBACK_PORT": "9090",
            "RINGBACK_DEMO": "no",
            "RINGBACK_REPLY_STOPS_SEQUENCE": "0",
            "RINGBACK_LLM_TIMEOUT_SECONDS": "2.5",
            "RINGBACK_SMTP_HOST": "mail.example.com",
            "RINGBACK_DATABASE_URL": "postgresql://db.example.com/ringback",
            "RINGBACK_PUBLIC_URL": "https://ringback.example.com/",
            "UNRELATED": "ignored",
        }
    )

    assert (settings.port, settings.demo, settings.reply_stops_sequence) == (9090, False, False)
    assert settings.llm_timeout_seconds == 2.5
    assert settings.smtp_host == "mail.example.com"
    assert settings.resolved_database_url == "postgresql://db.example.com/ringback"
    assert settings.resolved_public_url == "https://ringback.example.com"


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("off", False), ("No", False)]
)
def test_booleans_accept_the_usual_spellings(raw, expected):
    assert load_settings(env={"RINGBACK_DEMO": raw}).demo is expected


def test_an_empty_optional_value_means_unset():
    assert load_settings(env={"RINGBACK_SMTP_HOST": ""}).smtp_host is None


def test_the_toml_file_sits_between_defaults_and_environment(tmp_path):
    config = tmp_path / "ringback.toml"
    config.write_text('port = 7070\nhost = "0.0.0.0"\ndemo = false\nsmtp_host = "mail.example.com"\n')

    settings = load_settings(env={"RINGBACK_PORT": "6060"}, config_file=str(config))

    assert (settings.host, settings.demo, settings.smtp_host) == ("0.0.0.0", False, "mail.example.com")
    assert settings.port == 6060  # the environment wins


def test_explicit_overrides_win_over_everything(tmp_path):
    config = tmp_path / "ringback.toml"
    config.write_text("writes_per_minute = 10\n")

    settings = load_settings(env={"RINGBACK_WRITES_PER_MINUTE": "20"}, config_file=str(config), writes_per_minute=2)

    assert settings.writes_per_minute == 2


def test_unknown_toml_keys_are_named(tmp_path):
    config = tmp_path / "ringback.toml"
    config.write_text("port = 1\nprot = 2\n")

    with pytest.raises(SettingsError, match="prot"):
        load_settings(env={}, config_file=str(config))


@pytest.mark.parametrize(
    ("content", "named"), [("port = [\n", "ringback.toml"), ('port = "eighty"\n', "RINGBACK_PORT")]
)
def test_a_broken_toml_file_is_a_settings_error(tmp_path, content, named):
    config = tmp_path / "ringback.toml"
    config.write_text(content)

    with pytest.raises(SettingsError, match=named):
        load_settings(env={}, config_file=str(config))


def test_a_missing_toml_file_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError, match=r"nowhere\.toml"):
        load_settings(env={}, config_file=str(tmp_path / "nowhere.toml"))


def test_secrets_may_come_from_files(tmp_path):
    password = tmp_path / "smtp_password"
    password.write_text("s3cret-from-file\n")
    token = tmp_path / "twilio_token"
    token.write_text("from-file")

    settings = load_settings(
        env={
            "RINGBACK_SMTP_PASSWORD_FILE": str(password),
            "RINGBACK_TWILIO_AUTH_TOKEN": "from-env",
            "RINGBACK_TWILIO_AUTH_TOKEN_FILE": str(token),
        }
    )

    assert settings.smtp_password == "s3cret-from-file"  # trailing newline stripped
    assert settings.twilio_auth_token == "from-env"  # the variable itself wins over its _FILE


def test_an_unreadable_secret_file_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="RINGBACK_COHERE_API_KEY_FILE"):
        load_settings(env={"RINGBACK_COHERE_API_KEY_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RINGBACK_PORT", "http"),
        ("RINGBACK_PORT", "70000"),
        ("RINGBACK_DEMO", "maybe"),
        ("RINGBACK_LLM_TIMEOUT_SECONDS", "soon"),
        ("RINGBACK_SMTP_TLS", "tls"),
        ("RINGBACK_VOICE_MACHINE_DETECTION", "guess"),
        ("RINGBACK_IDEMPOTENCY_TTL_HOURS", "1"),
        ("RINGBACK_WRITES_PER_MINUTE", "0"),
        ("RINGBACK_THREADS", "-1"),
        ("RINGBACK_MAX_BODY_BYTES", "64k"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings(env={name: value})


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_settings(env={}).port = 1  # type: ignore[misc]


def test_describe_lists_every_setting_with_its_help():
    text = Settings().describe()

    for f in dataclasses.fields(Settings):
        line = next(line for line in text.splitlines() if f"RINGBACK_{f.name.upper()} " in line)
        assert f.metadata["help"] in line


def test_describe_never_shows_a_secrets_value():
    values = {name: f"do-not-print-{name}" for name in SECRET_FIELDS}
    settings = load_settings(env={}, **values)
    assert SECRET_FIELDS and all(getattr(settings, name) == value for name, value in values.items())

    text = settings.describe()

    assert not [value for value in values.values() if value in text]


def test_the_readme_configuration_table_lists_every_setting_as_the_code_defines_it():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for name, default, meaning in Settings.help_rows():
        row = f"| `{name}` | {default} | {meaning} |"
        assert row in readme, f"README.md lacks or has an outdated row: {row}"


@pytest.mark.parametrize(
    ("env", "provider"),
    [
        ({}, "offline"),
        ({"RINGBACK_COHERE_API_KEY": "co-key"}, "cohere"),
        ({"RINGBACK_COHERE_API_KEY": "co-key", "RINGBACK_LLM_PROVIDER": "offline"}, "offline"),
        (
            {"RINGBACK_LLM_PROVIDER": "openai", "RINGBACK_OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
             "RINGBACK_OPENAI_MODEL": "llama3.1:8b"},
            "openai",
        ),
    ],
)
def test_the_llm_provider_defaults_to_cohere_only_when_its_key_is_set(env, provider):
    assert load_settings(env=env).resolved_llm_provider == provider


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RINGBACK_LLM_PROVIDER": "cohere"}, "RINGBACK_COHERE_API_KEY"),
        ({"RINGBACK_LLM_PROVIDER": "openai", "RINGBACK_OPENAI_MODEL": "m"}, "RINGBACK_OPENAI_BASE_URL"),
        ({"RINGBACK_LLM_PROVIDER": "openai", "RINGBACK_OPENAI_BASE_URL": "http://h/v1"}, "RINGBACK_OPENAI_MODEL"),
        ({"RINGBACK_LLM_PROVIDER": "gpt"}, "RINGBACK_LLM_PROVIDER"),
    ],
)
def test_an_explicit_llm_provider_without_what_it_needs_stops_start_up(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env=env)


def test_the_openai_key_may_come_from_a_file(tmp_path):
    secret = tmp_path / "openai_key"
    secret.write_text("sk-from-file\n")
    settings = load_settings(env={"RINGBACK_OPENAI_API_KEY_FILE": str(secret)})
    assert settings.openai_api_key == "sk-from-file"
