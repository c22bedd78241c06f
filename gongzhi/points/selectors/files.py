"""Photos of the points economy (/media/points/…): a claim's photos and an award's evidence, served through
`web.files` to those who may have them; None for a name nobody owns and for one the user may not see alike."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from gongzhi.accounts.models import User
from gongzhi.core import files
from gongzhi.points import policies
from gongzhi.points.models import EvidencePhoto


def stored_points_file(user: User | AnonymousUser, name: str) -> files.ServedFile | None:
    """A claim's photo (or its thumbnail) for the claimant and for anyone who may view the claim's village; an
    award's evidence photo for anyone who may view the award's village and for the people whose account it is
    (the household's members with a resident account, or the one resident)."""
    if not user.is_authenticated or not name.startswith("points/"):
        return None
    assert isinstance(user, User)
    field_name = "thumbnail" if "/thumbs/" in name else "file"
    mine = (Q(award__account__household__members__user=user) | Q(award__account__resident__user=user))
    allowed = (Q(claim__claimant=user) | (Q(claim__isnull=False) & policies.viewable_q(user, "claim__path"))
               | (Q(award__isnull=False) & policies.viewable_q(user, "award__path")) | mine)
    photo = (EvidencePhoto.objects.filter(**{field_name: name}).filter(allowed)
             .only("file", "thumbnail", "content_type").first())
    if photo is None:
        return None
    return files.served(photo.thumbnail if field_name == "thumbnail" else photo.file, content_type=photo.content_type)
