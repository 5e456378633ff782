"""API contract: every operation of /api/v1/openapi.json, driven by schemathesis with generated parameters (valid
and invalid). No response may be a 5xx, and every response must match the status codes, content type and schema
that the document declares for it."""
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from tests.factories import make_enterprise, make_limit, make_outlet, make_permit

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def test_every_operation_keeps_its_contract(app, db):
    ent = make_enterprise("华能化工有限公司")
    make_limit(make_outlet(ent, permit=make_permit(ent)))
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    failures = {}
    for operation in operations:
        @SETTINGS
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except BaseException as exc:  # noqa: BLE001 - collect every operation's first failure, then report them all
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert failures == {}
