"""Production refuses to start with a setting whose default is public knowledge."""

from __future__ import annotations

import pytest

from checkout.config import ConfigurationError, from_environment

STRONG = "s" * 40
GATEWAY_SECRET = "g" * 40


def production(**overrides: str) -> dict[str, str]:
    env = {"KESSAI_ENV": "production", "KESSAI_SECRET_KEY": STRONG,
           "KESSAI_GATEWAY_URL": "https://gateway.example", "KESSAI_GATEWAY_SECRET": GATEWAY_SECRET}
    env.update(overrides)
    return {k: v for k, v in env.items() if v != "<unset>"}


def test_a_complete_production_configuration_starts() -> None:
    config = from_environment(production())
    assert (config["ENV_NAME"], config["GATEWAY_URL"]) == ("production",
                                                          "https://gateway.example")
    assert config["DEMO_ENABLED"] is False


@pytest.mark.parametrize(("overrides", "named"), [
    ({"KESSAI_SECRET_KEY": "<unset>"}, "KESSAI_SECRET_KEY"),
    ({"KESSAI_SECRET_KEY": "short"}, "KESSAI_SECRET_KEY"),
    ({"KESSAI_GATEWAY_SECRET": "<unset>"}, "KESSAI_GATEWAY_SECRET"),
    ({"KESSAI_GATEWAY_SECRET": "gw_sandbox_secret"}, "KESSAI_GATEWAY_SECRET"),
    ({"KESSAI_GATEWAY_SECRET": "too-short"}, "KESSAI_GATEWAY_SECRET"),
    ({"KESSAI_GATEWAY_URL": "<unset>"}, "KESSAI_GATEWAY_URL"),
])
def test_unsafe_production_settings_are_refused_by_name(overrides: dict[str, str],
                                                        named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        from_environment(production(**overrides))


def test_a_staging_server_may_run_on_the_sandbox_only_when_it_says_so() -> None:
    config = from_environment(production(KESSAI_GATEWAY_URL="<unset>",
                                         KESSAI_GATEWAY_SECRET="<unset>",
                                         KESSAI_ALLOW_SANDBOX="1"))
    assert config["GATEWAY_URL"] == ""


def test_development_keeps_working_with_no_configuration() -> None:
    config = from_environment({})
    assert config["ENV_NAME"] == "development" and config["GATEWAY_URL"] == ""


def test_the_cli_stops_with_the_reason(tmp_path: pytest.TempPathFactory) -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "checkout.cli", "db", "upgrade"], capture_output=True, text=True,
        env={"KESSAI_ENV": "production", "KESSAI_SECRET_KEY": STRONG, "PATH": "/usr/bin:/bin",
             "KESSAI_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, timeout=60)
    assert completed.returncode != 0
    assert "KESSAI_GATEWAY_URL" in completed.stderr
