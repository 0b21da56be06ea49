"""Finding the local model, choosing it when nothing else is configured, and saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.cli.doctor import doctor
from parley.config import ConfigError, Settings
from parley.core.errors import ErrorCode, ParleyError
from parley.providers import local_model, registry
from tests.conftest import NO_LOCAL_MODEL
from tests.providers.conftest import SECRET, local_settings, settings_for
from tests.providers.test_cli_run import parley_run

PACKAGED = local_model.packaged_model()


def test_the_packaged_model_is_found_without_importing_its_package():
    import sys

    assert PACKAGED is not None
    assert PACKAGED.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert local_model.PACKAGE not in sys.modules  # it would import llama-cpp-python


def test_the_gguf_header_gives_architecture_size_and_context_length():
    assert PACKAGED is not None
    info = local_model.read_info(PACKAGED)

    assert (info.architecture, info.size_label, info.context_length) == ("llama", "135M", 8192)
    assert info.name == "SmolLM2-135M-Instruct.Q4_1"


def test_a_file_that_is_not_gguf_is_refused_with_its_name(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x01" * 5)  # cut short inside the header
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")

    for path in (fake, text):
        with pytest.raises(local_model.NotGguf, match=str(path)):
            local_model.read_info(path)
    env = {"PARLEY_LOCAL_MODEL": str(text)}
    with pytest.raises(ConfigError, match="not a GGUF model file"):
        registry.resolve(Settings(env=env), "local")


def test_with_no_credentials_the_local_model_is_the_default_and_said_once_on_stderr(capsys):
    registry._announced.clear()

    first = registry.resolve(local_settings())
    second = registry.resolve(local_settings())

    assert first.kind == second.kind == "local"
    assert first.model == "SmolLM2-135M-Instruct.Q4_1"
    assert first.max_tokens == 512
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "local model SmolLM2-135M-Instruct.Q4_1 (135M parameters, small" in lines[0]
    assert "ANTHROPIC_API_KEY" in lines[0]


@pytest.mark.parametrize(
    ("env", "provider", "expected"),
    [
        ({"ANTHROPIC_API_KEY": SECRET}, None, "anthropic"),
        ({"OLLAMA_HOST": "127.0.0.1:11434"}, None, "ollama"),
        ({"PARLEY_PROVIDER": "openai", "OPENAI_API_KEY": SECRET}, None, "openai"),
        ({"ANTHROPIC_API_KEY": SECRET}, "local", "local"),
    ],
)
def test_explicit_configuration_and_any_credential_win_over_the_local_model(
    env, provider, expected, capsys
):
    registry._announced.clear()
    settings = Settings(env=env, provider=env.get("PARLEY_PROVIDER"))

    assert registry.resolve(settings, provider).kind == expected
    assert capsys.readouterr().err == ""  # only a fallback is announced


def test_a_named_model_file_that_is_missing_is_not_replaced_by_the_packaged_one(tmp_path):
    settings = Settings(env=NO_LOCAL_MODEL)

    assert not registry.is_configured(settings, "local")
    assert registry.default_provider(settings) is None
    with pytest.raises(ParleyError) as caught:
        registry.resolve(settings, "local")
    assert caught.value.code == ErrorCode.PROVIDER_NOT_CONFIGURED
    assert f"PARLEY_LOCAL_MODEL names {NO_LOCAL_MODEL['PARLEY_LOCAL_MODEL']}" in (
        caught.value.message
    )


def test_a_model_file_can_be_named_in_the_config_or_as_the_model(tmp_path):
    assert PACKAGED is not None
    copy = tmp_path / "tiny.gguf"
    copy.symlink_to(PACKAGED)

    by_config = registry.resolve(
        Settings(env=NO_LOCAL_MODEL, providers={"local": {"model_path": str(copy)}}), "local"
    )
    by_model = registry.resolve(Settings(env=NO_LOCAL_MODEL), "local", str(copy))

    assert by_config.options["model_path"] == by_model.options["model_path"] == str(copy)
    assert by_config.model == by_model.model == "tiny"


def test_provider_list_shows_the_local_model_with_its_file():
    listing = registry.describe(local_settings())

    local = next(p for p in listing.providers if p.name == "local")
    assert listing.default == "local"
    assert local.configured
    assert local.default_model == "SmolLM2-135M-Instruct.Q4_1"
    assert local.detail == f"{PACKAGED}, 135M parameters, runs offline on this machine"


def test_doctor_reports_the_local_model_and_that_new_sessions_use_it(tmp_path):
    code, report = doctor(local_settings(data_dir=str(tmp_path)), online=False)

    assert code == 0, report
    assert f"ok    provider local: {PACKAGED}, 135M parameters" in report
    assert "new sessions use local: no API key was found" in report


def test_doctor_lists_the_local_model_beside_a_configured_provider(server, tmp_path):
    code, report = doctor(settings_for("anthropic", server, data_dir=str(tmp_path)), online=False)

    assert code == 0, report
    assert "ok    provider local:" in report
    assert "new sessions use anthropic" in report


def test_doctor_online_gets_an_answer_from_the_local_model(llama, tmp_path):
    code, report = doctor(local_settings(data_dir=str(tmp_path)), online=True)

    assert code == 0, report
    assert "ok    local answered (SmolLM2-135M-Instruct.Q4_1" in report


def test_parley_run_answers_offline_with_no_key_and_says_why_on_stderr(tmp_path: Path):
    done = parley_run(tmp_path, {}, "Say hello.", "-n", "--output", "json")

    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["stopReason"] == "end_turn"
    assert envelope["reply"].strip()
    assert envelope["usage"]["costUsd"] == 0.0
    [notice] = [line for line in done.stderr.splitlines() if "no API key found" in line]
    assert notice.startswith("parley: no API key found, so using the local model")
