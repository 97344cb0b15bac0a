"""deploy/compose.yaml cannot run here (no container engine), so its structure is checked instead: the parts the
README names, every ASSISTANT_* variable a real setting, the shared servers' URLs pointing at services that
exist, the app's settings passing `check_workers` for the workers it starts, and the proxy sending every node's
traffic (the streamed answers unbuffered) to the app services on the port they listen on."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from assistant.channels.web import check_workers
from assistant.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
APPS = ("app-a", "app-b")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def interpolated(value: str) -> str:
    """The value as compose would fill it from a bare environment: ${X:-default} -> default, ${X:?err} -> x."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "secret", value)


def setting_exists(name: str) -> bool:
    model = Settings
    for part in name.removeprefix("ASSISTANT_").lower().split("__"):
        field = model.model_fields.get(part)
        if field is None:
            return False
        model = field.annotation
    return True


def test_compose_has_two_app_nodes_and_the_shared_servers_behind_a_proxy(compose):
    services = compose["services"]
    assert set(services) == {"proxy", "app-a", "app-b", "ingest", "chroma", "postgres", "redis"}
    assert services["proxy"]["ports"] == ["8080:80"], "the proxy is the only published port"
    assert not any("ports" in services[name] for name in services if name != "proxy")
    assert compose["networks"]["backend"]["internal"] is True
    for name in APPS:
        app = services[name]
        assert app["command"][:2] == ["assistant", "serve"] and "--workers" in app["command"]
        assert {"ingest", "postgres", "redis"} <= set(app["depends_on"])
        assert app["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
        assert "/readyz" in " ".join(app["healthcheck"]["test"])
        assert app["volumes"][0].endswith(":/data"), "each node its own disk (spool, embedding cache)"
        assert app["environment"]["ASSISTANT_EMBEDDING_CACHE"].startswith("/data/var/")
        # the passage folder (passages, figures, BM25) is the one the ingest wrote, not a copy per node
        assert "index-data:/data/index" in app["volumes"]
    assert "index-data:/data/index" in services["ingest"]["volumes"]
    assert services["app-a"]["volumes"][0] != services["app-b"]["volumes"][0]


def test_every_assistant_variable_is_a_setting_and_points_at_a_service(compose):
    services = compose["services"]
    for name in (*APPS, "ingest"):
        env = services[name]["environment"]
        unknown = [k for k in env if k.startswith("ASSISTANT_") and not setting_exists(k)]
        assert not unknown, f"{name}: not settings: {unknown}"
        assert urlsplit(env["ASSISTANT_CHROMA_URL"]).hostname == "chroma"
    env = services["app-a"]["environment"]
    assert urlsplit(interpolated(env["ASSISTANT_DATABASE_URL"])).hostname == "postgres"
    assert urlsplit(env["ASSISTANT_REDIS_URL"]).hostname == "redis"
    database = urlsplit(interpolated(env["ASSISTANT_DATABASE_URL"]))
    postgres = services["postgres"]["environment"]
    assert (database.username, database.path.strip("/")) == (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"])
    assert "${POSTGRES_PASSWORD:?" in env["ASSISTANT_DATABASE_URL"], "the password comes from the environment"


def test_the_app_settings_allow_the_workers_the_nodes_start(compose, monkeypatch):
    app = compose["services"]["app-a"]
    for key, value in app["environment"].items():
        monkeypatch.setenv(key, interpolated(value))
    settings = Settings()
    command = app["command"]
    workers = int(command[command.index("--workers") + 1])
    assert workers > 1 and check_workers(settings, workers) == [], "shared state for every setting: no warnings"
    assert settings.web.port == int(command[command.index("--port") + 1])


def test_the_proxy_sends_traffic_to_both_nodes(compose):
    proxy = compose["services"]["proxy"]
    mounted = next(v.split(":")[0] for v in proxy["volumes"] if "nginx" in v)
    conf = (DEPLOY / mounted).read_text(encoding="utf-8")
    upstream = re.search(r"upstream assistant_nodes \{(.*?)\}", conf, re.S).group(1)
    servers = re.findall(r"server ([\w.-]+):(\d+)", upstream)
    port = compose["services"]["app-a"]["command"][compose["services"]["app-a"]["command"].index("--port") + 1]
    assert servers == [(name, port) for name in APPS]
    stream = re.search(r"location /api/chat/stream \{(.*?)\}", conf, re.S).group(1)
    assert "proxy_buffering off" in stream
    assert "X-Forwarded-For" in conf and "non_idempotent" not in conf  # a POST is never sent to two nodes
    dockerfile = DEPLOY / compose["services"]["app-a"]["build"]["dockerfile"].removeprefix("deploy/")
    assert dockerfile.exists() and "pip install" in dockerfile.read_text(encoding="utf-8")
