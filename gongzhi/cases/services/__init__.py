"""Every write to a case, one module per kind of work; import the package and call `services.<name>`.

- `actions`: `take_action`, the one way a person acts on a case (every portal and the API), with replays
  of a client key answered by the first result;
- `submit`: reporting a case (`submit_case`, 代为登记 `report_on_behalf`);
- `photos`: photos uploaded before their report is sent (`upload_photo`, by token) and their expiry;
- `transition`: the only code that changes a case's status, one CaseLog row per step;
- `feedback`: follow-up questions and answers, return visits, ratings;
- `merge`: merging a duplicate into the case that is worked on;
- `supervision`: 督办 orders;
- `disputes`: a dispute's parties, mediation sessions, agreements and performance follow-ups (one log row
  each), and the logged reveal of the parties' names;
- `anonymise`: removing residents' personal data from cases closed longer than the retention period
  (a nightly task).

The periodic sweep over time limits is `cases.sweep`; reads (duplicate and handler suggestions, dispute
risks) are `cases.selectors`.
"""

from gongzhi.cases.services.actions import ActionResult, payload_names, take_action
from gongzhi.cases.services.anonymise import anonymise_closed_cases
from gongzhi.cases.services.disputes import (
    Recorded,
    add_party,
    attach_agreement,
    edit_party,
    record_mediation,
    record_performance,
    remove_party,
    replace_agreement,
    reveal_party_names,
)
from gongzhi.cases.services.feedback import (
    COMMENT_MAX_LENGTH,
    MAX_OPEN_FOLLOW_UPS,
    answer_follow_up,
    ask_follow_up,
    mark_follow_ups_read,
    rate_case,
    record_return_visit,
    reporter_phone,
)
from gongzhi.cases.services.merge import merge_case
from gongzhi.cases.services.pending_uploads import (
    PENDING_UPLOAD_HOURS,
    expire_pending_uploads,
    upload_document,
    upload_photo,
)
from gongzhi.cases.services.submit import DESCRIPTION_MAX_LENGTH, MAX_PHOTOS, report_on_behalf, submit_case
from gongzhi.cases.services.supervision import SUPERVISION_MAX_DAYS, issue_supervision
from gongzhi.cases.services.transition import (
    MAX_STEP_DOCUMENTS,
    NOTE_MAX_LENGTH,
    person_refused,
    transition,
    unit_refused,
)

__all__ = [
    "COMMENT_MAX_LENGTH", "DESCRIPTION_MAX_LENGTH", "MAX_OPEN_FOLLOW_UPS", "MAX_PHOTOS", "MAX_STEP_DOCUMENTS",
    "NOTE_MAX_LENGTH",
    "PENDING_UPLOAD_HOURS", "SUPERVISION_MAX_DAYS", "ActionResult", "add_party", "anonymise_closed_cases",
    "answer_follow_up", "ask_follow_up", "expire_pending_uploads", "issue_supervision", "mark_follow_ups_read",
    "merge_case", "payload_names", "person_refused", "rate_case", "record_mediation", "record_return_visit",
    "report_on_behalf", "reporter_phone", "submit_case", "take_action", "transition", "unit_refused", "upload_document",
    "upload_photo",
    # disputes
    "Recorded", "attach_agreement", "edit_party", "record_performance", "remove_party", "replace_agreement",
    "reveal_party_names",
]
