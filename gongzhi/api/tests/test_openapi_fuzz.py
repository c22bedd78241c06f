"""Property-based fuzzing of the whole JSON API from its own OpenAPI schema: no server errors, and every
status code and body the API answers with is documented."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gongzhi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture(autouse=True)
def _data(tree):
    """The fuzzer runs against the small test tree, so lookups can succeed as well as fail."""


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calling the WSGI app directly fires request signals that would close the test's open transaction
    (on PostgreSQL); Django's own test client disconnects the same handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # Business rules (ID check digits, SMS codes) cannot live in a schema, so schema-valid data may still be
    # refused with a documented 422; every other check (no 5xx, documented statuses and bodies) applies.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
