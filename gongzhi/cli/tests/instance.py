"""A Gongzhi instance of its own for the backup tests, in its own process:

    python -m gongzhi.cli.tests.instance populate|inspect

with GONGZHI_VAR_DIR (and DATABASE_URL on PostgreSQL) naming the instance. `populate` migrates and writes cases
with photos and a few steps each, and residents with ID and phone numbers; `inspect` prints, as JSON, everything
a restore must bring back.
"""

import hashlib
import io
import json
import os
import sys
import uuid

import django


def populate() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from PIL import Image

    call_command("migrate", verbosity=0)

    import datetime

    from gongzhi.accounts.models import Membership, Role, User
    from gongzhi.cases import services
    from gongzhi.cases.factories import act, make_categories, make_resident
    from gongzhi.cases.workflow import Action
    from gongzhi.org.factories import make_tree
    from gongzhi.registry.models import Household, Resident

    tree = make_tree()
    cats = make_categories()
    resident = make_resident("res", "王秀兰", tree["grid"])
    resident.id_number, resident.phone = "621102196804123826", "19912340001"
    resident.save()
    household = Household.objects.create(village=tree["village"], grid=tree["grid"], number="HH-1",
                                         address="小山村1号")
    Resident.objects.create(household=household, name="王秀兰", id_number="621102196804123826",
                            phone="19912340001", gender="F", birth_date=datetime.date(1968, 4, 12),
                            relation=Resident.Relation.HEAD, user=resident)
    staff = {}
    for username, unit, role in (("disp", tree["town"], Role.DISPATCHER),
                                 ("sifa", tree["justice"], Role.DEPT_HANDLER)):
        staff[username] = User.objects.create_user(username=username, password="Gongzhi#2026", real_name=username,
                                                   kind=User.Kind.STAFF, phone="13812345678")
        Membership.objects.create(user=staff[username], unit=unit, role=role)

    def photo(name: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
        buf = io.BytesIO()
        Image.new("RGB", (320, 240), colour).save(buf, "PNG")
        return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")

    for i in range(3):
        photos = [photo(f"{i}a.png", (200, 30 * i, 30)), photo(f"{i}b.png", (10, 90, 30 * i))]
        case, _created = services.submit_case(actor=resident, client_id=uuid.uuid4(), category=cats["env"],
                                              description=f"第{i + 1}件：村口垃圾没人清运。", lat=35.585, lng=104.605,
                                              photos=photos)
        act(staff["disp"], case, Action.ACCEPT)
        if i:
            act(staff["disp"], case, Action.DISPATCH, lead_unit=tree["justice"])


def media_digests(root) -> dict[str, str]:
    """sha256 of every file under `root`, by its name relative to it."""
    from pathlib import Path

    root = Path(root)
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def inspect() -> dict:
    from django.conf import settings

    from gongzhi.accounts.models import User
    from gongzhi.cases.models import Attachment, Case, CaseLog
    from gongzhi.registry.models import Resident

    return {
        "cases": list(Case.objects.order_by("pk").values_list("pk", "description", "status")),
        "logs": list(CaseLog.objects.order_by("pk").values_list("case_id", "seq", "action", "to_status")),
        "attachments": [(a.case_id, a.file.name, a.thumbnail.name, a.sha256,
                         hashlib.sha256(a.file.read()).hexdigest())
                        for a in Attachment.objects.order_by("pk")],
        "files": media_digests(settings.MEDIA_ROOT),
        "id_numbers": sorted(str(u.id_number.reveal()) for u in User.objects.exclude(id_number="")),
        "phones": sorted(str(r.phone.reveal()) for r in Resident.objects.all()),
    }


if __name__ == "__main__":
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings"
    django.setup()
    if sys.argv[1] == "populate":
        populate()
    else:
        print(json.dumps(inspect(), ensure_ascii=False))
