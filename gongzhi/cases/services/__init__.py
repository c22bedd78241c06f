"""Every write to a case."""

from gongzhi.cases.services.transition import (
    DESCRIPTION_MAX_LENGTH,
    MAX_PHOTOS,
    NOTE_MAX_LENGTH,
    report_on_behalf,
    submit_case,
    suggest_handler,
    transition,
)

__all__ = ["DESCRIPTION_MAX_LENGTH", "MAX_PHOTOS", "NOTE_MAX_LENGTH", "report_on_behalf", "submit_case",
           "suggest_handler", "transition"]
