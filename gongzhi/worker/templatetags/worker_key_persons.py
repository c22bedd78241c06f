"""`{% key_person_due_summary as summary %}`: the key persons of the viewer's grids that are overdue or due soon,
for the home page's block (worker/_home_key_persons.html); None for a viewer without key-person access."""

from django import template

from gongzhi.registry.selectors import key_persons

register = template.Library()


@register.simple_tag(takes_context=True)
def key_person_due_summary(context: template.Context) -> key_persons.DueSummary | None:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return key_persons.due_summary(request.user)
