"""Schemathesis against the service's own OpenAPI schema, in-process (bounded: a few examples per operation).

Every generated request must get an answer the schema declares (status, content type, body
shape) and never a 5xx. Not checked: that every schema-valid request is accepted (a "binary"
body that is a 1x1 JPEG or random bytes is schema-valid, and rightly refused with 415/422).
"""

from __future__ import annotations

import schemathesis
from _service_fixtures import small_model
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from lpfiqa.service import ServiceConfig, create_app

APP = create_app(small_model(), ServiceConfig(max_body_bytes=1 << 20, log_requests=False))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
