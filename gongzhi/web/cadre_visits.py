"""干部进村走访 in both staff portals: a township or county cadre records a visit to a village in their scope, on a
phone in the worker portal or at a desk in the command portal (where a dispatcher without a field post works).
After saving, the worker portal shows the day's work log and the command portal the cadre's own field work."""

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.registry.models import Visit
from gongzhi.registry.selectors import fieldwork as selectors
from gongzhi.registry.services import visits
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import portal_of
from gongzhi.web.visit_forms import CadreVisitForm


def cadre_visit(request):
    villages = selectors.cadre_villages(request.user)
    if not villages:
        raise NotFound()
    status = 200
    if request.method == "POST":
        form = CadreVisitForm(request.POST, request.FILES, villages=villages)
        if form.is_valid():
            data = form.cleaned_data
            village = next((v for v in villages if v.pk == data["village"]), None)
            try:
                visits.record_visit(actor=request.user, kind=Visit.Kind.CADRE,
                                    target=visits.VisitTarget(village=village, place=data["place"]),
                                    notes=data["notes"], visited_at=data["visited_at"], lat=data["lat"],
                                    lng=data["lng"], photos=data["photos"], client_key=str(data["client_key"]))
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已登记进村走访。"))
                if portal_of(request).name == "command":
                    return redirect("command:fieldwork_worker", worker_id=request.user.pk)
                return redirect("worker:work_log")
        status = 422
    else:
        form = CadreVisitForm(initial={"client_key": uuid.uuid4()}, villages=villages)
    return render(request, "web/cadre_visit.html", {"form": form}, status=status)


def urlpatterns_for(guard) -> list[URLPattern]:
    return [path("cadre-visit/", guard(cadre_visit), name="cadre_visit")]
