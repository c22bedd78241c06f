"""django-csp's middleware with the policy header built once.

Our policy has no nonce and no view changes it, yet django-csp builds the header text anew for every
response: about 7 % of a case submission (issue 10). This keeps the text until the settings change, and
leaves to django-csp every response that does change it (`csp_update`, `csp_replace`, `csp_exempt`, a
nonce asked for) and every report-only policy.
"""

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


class CSPMiddleware(BaseCSPMiddleware):
    _header: tuple[object, str] | None = None  # (the settings it was built from, the text)

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if (getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or not policy
                or getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in _PER_RESPONSE)
                or request.path_info.startswith(tuple(policy.get("EXCLUDE_URL_PREFIXES") or ()))):
            return super().process_response(request, response)
        if self._header is None or self._header[0] is not policy:
            self._header = (policy, build_policy())
        if HEADER not in response:
            response[HEADER] = self._header[1]
        # As django-csp: asking for a nonce after the header is written is an error, not a silent no-op.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
