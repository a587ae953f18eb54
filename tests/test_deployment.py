"""compose.yaml, the Dockerfile and the README agree with the program they deploy.

No Docker daemon runs here, so the files are read as data and checked against the
CLI and the settings: every command a container runs or the README shows is one
``nudger`` accepts, every ``NUDGER_*`` variable is a setting, secrets only arrive as
files, only the web app is reachable from outside, and the image gets every file the
package's build reads.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from nudger.cli import app
from nudger.config import FILE_FIELDS, Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
NUDGER_SERVICES = ("web", "worker")


def test_the_four_roles_are_there() -> None:
    assert set(SERVICES) == {"web", "worker", "postgres", "redis"}


def test_web_and_worker_run_one_image_built_from_the_dockerfile() -> None:
    builds = {(SERVICES[name]["build"], SERVICES[name]["image"]) for name in NUDGER_SERVICES}
    assert builds == {(".", "nudger:latest")}
    assert (ROOT / "Dockerfile").is_file()


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for name in NUDGER_SERVICES:
        service = SERVICES[name]
        found.append((name, service["command"]))
        health = service.get("healthcheck", {}).get("test", [])
        if health[:1] == ["CMD"]:
            found.append((f"{name} healthcheck", health[1:]))
    return found


@pytest.mark.parametrize(("where", "command"), _commands(), ids=lambda v: str(v))
def test_every_nudger_command_a_container_runs_is_one_the_cli_accepts(
    where: str, command: list[str]
) -> None:
    assert command[0] == "nudger", where
    assert_accepted(command[1:], where)


def assert_accepted(args: list[str], where: str) -> None:
    # Parsing the arguments is what --help checks: an unknown command or option fails.
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"{where}: nudger {' '.join(args)}: {result.output}"


def _readme_code() -> list[str]:
    """The README's inline code and the lines of its shell blocks, comments cut."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = [line.split(" #")[0] for block in blocks for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    return [*lines, *re.findall(r"`([^`\n]+)`", prose)]


def _readme_commands() -> list[list[str]]:
    """Each nudger command line the README shows (``nudger`` as an image or host name,
    as in ``docker build -t nudger .`` or ``nudger.example.com``, is not one)."""
    found: dict[str, list[str]] = {}
    for code in _readme_code():
        for match in re.finditer(r"(?<![\w.-])nudger (?=(.*))", code):
            words = match.group(1).split()
            if words and words[0] != "nudger" and re.fullmatch(r"--?[a-z-]+|[a-z-]+", words[0]):
                found[" ".join(words)] = words
    return list(found.values())


@pytest.mark.parametrize("words", _readme_commands(), ids=" ".join)
def test_every_command_the_readme_shows_is_one_the_cli_accepts(words: list[str]) -> None:
    # Placeholders (EMAIL, DIR) stand where values go; [--json] is an optional flag.
    assert_accepted([word.strip("[]") for word in words], "README")


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = {m for code in _readme_code() for m in re.findall(r"\bmake (\w+)", code)}
    assert named
    assert named <= targets


def _nudger_environment(service: str) -> dict[str, str]:
    environment = SERVICES[service]["environment"]
    return {k: str(v) for k, v in environment.items() if k.startswith("NUDGER_")}


@pytest.mark.parametrize("service", NUDGER_SERVICES)
def test_every_variable_is_a_setting_and_secrets_arrive_as_files(service: str) -> None:
    fields = set(Settings.model_fields)
    declared = set(SERVICES[service]["secrets"])
    for variable, value in _nudger_environment(service).items():
        name = variable.removeprefix("NUDGER_").lower()
        if name.endswith("_file"):
            field = name.removesuffix("_file")
            assert field in FILE_FIELDS, f"{variable}: {field} is not read from a file"
            secret = re.fullmatch(r"/run/secrets/(\w+)", value)
            assert secret, f"{variable}: {value} is not a Docker secret"
            assert secret.group(1) in declared
            assert secret.group(1) in COMPOSE["secrets"]
            continue
        assert name in fields, f"{variable} is not a nudger setting"
        # A URL without credentials (the broker on the private network) is no secret.
        if name in FILE_FIELDS:
            assert "@" not in value, f"{variable} puts a secret in the environment: use _FILE"


def test_only_the_web_app_is_published() -> None:
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"web"}
    assert "EXPOSE 8000" in (ROOT / "Dockerfile").read_text()
    assert SERVICES["web"]["ports"] == ["8000:8000"]


@pytest.mark.parametrize("service", NUDGER_SERVICES)
def test_nudger_waits_for_healthy_database_and_broker(service: str) -> None:
    depends = SERVICES[service]["depends_on"]
    for dependency in ("postgres", "redis"):
        assert depends[dependency] == {"condition": "service_healthy"}
        assert SERVICES[dependency]["healthcheck"]["test"]


def test_both_roles_talk_to_the_same_broker_and_database() -> None:
    web, worker = (_nudger_environment(name) for name in NUDGER_SERVICES)
    assert web == worker
    assert web["NUDGER_BROKER_URL"].startswith("redis://redis:")


def test_secret_files_stay_out_of_git() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "secrets/" in ignored
    sources = {secret["file"] for secret in COMPOSE["secrets"].values()}
    assert all(source.startswith("./secrets/") for source in sources)


def test_the_readme_lists_every_setting_read_from_a_file() -> None:
    sentence = re.search(r"The settings read this\s+way are (.*?);", README, re.DOTALL)
    assert sentence
    listed = set(re.findall(r"`NUDGER_([A-Z_]+)`", sentence.group(1)))
    assert listed == {name.upper() for name in FILE_FIELDS}


def test_the_image_gets_every_file_the_package_build_reads() -> None:
    """``pip install .`` in the image reads the readme and the license files."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    before_install = dockerfile.split("pip install --no-deps")[0]
    copied = {
        name
        for line in re.findall(r"^COPY (.+) \S+$", before_install, re.MULTILINE)
        for name in line.split()
    }
    assert {PROJECT["readme"], *PROJECT["license-files"]} <= copied


def test_the_license_is_apache_2_with_its_official_text() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    # The sha256 of https://www.apache.org/licenses/LICENSE-2.0.txt, unmodified.
    official = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
    assert hashlib.sha256((ROOT / "LICENSE").read_bytes()).hexdigest() == official
    assert "Apache-2.0" in README
