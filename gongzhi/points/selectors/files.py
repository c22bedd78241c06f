"""The points economy's stored files (/media/points/…): evidence photos of claims and of direct awards."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts.models import User
from gongzhi.core import files
from gongzhi.points import policies
from gongzhi.points.models import EvidencePhoto


def stored_evidence_file(user: User | AnonymousUser, name: str) -> files.ServedFile | None:
    """A claim's or an award's photo (or its thumbnail) stored under `name`, for the claimant of the claim and
    for those who see the village's points (the reviewers); None for a name nobody owns and for one the user
    may not see alike."""
    if not isinstance(user, User) or not user.is_authenticated or not name.startswith("points/"):
        return None
    field_name = "thumbnail" if "/thumbs/" in name else "file"
    photo = (EvidencePhoto.objects.filter(**{field_name: name})
             .select_related("claim__village", "award__village").first())
    if photo is None:
        return None
    owner = photo.claim or photo.award
    if owner is None:
        return None
    mine = photo.claim is not None and photo.claim.claimant_id == user.pk
    if not (mine or policies.can_view_village(user, owner.village)):
        return None
    if field_name == "thumbnail":
        return files.served(photo.thumbnail)
    return files.served(photo.file, content_type=photo.content_type)
