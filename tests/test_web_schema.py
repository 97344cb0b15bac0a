"""Property-based API test: schemathesis generates requests from the app's own OpenAPI
schema (valid and invalid ones) and checks that no input yields a 5xx, and that every
response matches the documented status codes, content types and schemas.

Bounded to 25 examples per operation, against the ASGI app over the session's real index.
The schema does not depend on the index, so the app is built at import (schemathesis
collects one test per operation from it); an autouse fixture then puts the real services,
with the session's index, behind it. (`schemathesis.pytest.from_fixture` would avoid
this, but does not run under pytest 9.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assistant.audit import AuditLog
from assistant.channels import Services
from assistant.channels.web import create_app
from assistant.settings import Settings, WebSettings

# A generous rate limit: the fuzzer sends hundreds of requests from one address.
_WEB = WebSettings(rate_limit_per_minute=100_000)
_placeholder = Settings(index_dir=Path("/nonexistent/index"), audit_db=Path(":memory:"), web=_WEB)
app = create_app(_placeholder, Services(_placeholder, AuditLog(Path(":memory:"))))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def real_services(index_settings, assistant, tmp_path_factory):
    real = index_settings.model_copy(
        update={"audit_db": tmp_path_factory.mktemp("schema") / "audit.sqlite3", "web": _WEB}
    )
    app.state.services = Services(real, AuditLog(real.audit_db), _assistant=assistant)
    yield app.state.services


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case):
    case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    )
