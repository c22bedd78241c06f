"""Stories the case tests share, on the cast of `conftest.people`."""

import math

from gongzhi.cases.factories import act
from gongzhi.cases.workflow import Action
from gongzhi.notifications.models import Notification

HERE = (35.585, 104.605)  # in tree["grid"] (八里镇)
METRES_PER_DEGREE = math.pi * 6_371_008.8 / 180


def offset(metres_north: float, metres_east: float) -> tuple[float, float]:
    """The point that far from HERE."""
    lat, lng = HERE
    return (lat + metres_north / METRES_PER_DEGREE,
            lng + metres_east / (METRES_PER_DEGREE * math.cos(math.radians(lat))))


def dispatched(people, tree, case):
    act(people["dispatcher"], case, Action.ACCEPT)
    return act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], assist_units=(tree["police"],))


def handled(people, tree, case):
    dispatched(people, tree, case)
    act(people["justice"], case, Action.SIGN)
    return act(people["justice"], case, Action.COMPLETE, note="路灯已修复")


def closed(people, tree, case):
    handled(people, tree, case)
    act(people["grid_worker"], case, Action.CONFIRM, note="回访：路灯已亮")
    return act(people["dispatcher"], case, Action.CLOSE)


def kinds_of(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))
