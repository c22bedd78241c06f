"""红黑榜 (kind "board") and 建言献策 (kind "suggestion"): imported at start-up (kinds.KINDS names this module).

Registers the kinds' notices, their hooks (services/boards.py: a board goes up only with entries and an end to
its period; a suggestion is published only when its author allowed it) and the extra context of their item
pages (`kind` in web/publications/kinds/<slug>.html and resident/publications/kinds/<slug>.html).
"""

from __future__ import annotations

from gongzhi.accounts.models import User
from gongzhi.publications import boards_notices, boards_policies, kinds
from gongzhi.publications.models import Publication
from gongzhi.publications.selectors import boards as selectors
from gongzhi.publications.services import boards as services  # noqa: F401  (registers the hooks)

boards_notices.register()


@kinds.page_context("reader", "board")
def _board_reader(user: User, publication: Publication) -> dict:
    return {"board": selectors.reader_board(user, publication)}


@kinds.page_context("staff", "board")
def _board_staff(user: User, publication: Publication) -> dict:
    return {"board": selectors.staff_board(user, publication)}


@kinds.page_context("reader", "suggestion")
def _suggestion_reader(user: User, publication: Publication) -> dict:
    return {"suggestion": selectors.suggestion_of(publication),
            "supported": selectors.has_supported(user, publication),
            "may_support": boards_policies.can_support(user, publication)}


@kinds.page_context("staff", "suggestion")
def _suggestion_staff(user: User, publication: Publication) -> dict:
    return {"suggestion": selectors.suggestion_of(publication),
            "may_manage": boards_policies.can_manage_suggestion(user, publication)}
