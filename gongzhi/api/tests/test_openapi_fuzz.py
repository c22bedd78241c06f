"""Property-based fuzzing of the whole JSON API from its own OpenAPI schema: no server errors, and every
status code and body the API answers with is documented."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gongzhi.api.tests.fuzzing import IDENTITY
from gongzhi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture(autouse=True)
def _data(tree):
    """The fuzzer runs against the small test tree, so lookups can succeed as well as fail."""


@pytest.fixture(autouse=True)
def _keep_connection(keep_test_connection):
    """See keep_test_connection in conftest.py."""


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # Business rules (ID check digits, SMS codes) cannot live in a schema, so schema-valid data may still be
    # refused with a documented 422; every other check (no 5xx, documented statuses and bodies) applies.
    case.call_and_validate(headers=IDENTITY, excluded_checks=[positive_data_acceptance])
