"""Files of publications (/media/publications/…), served through `web.files`: to whoever may read the item as a
resident (a county's or city's items are public) and to its staff; None for a name nobody owns and for one the
user may not have alike."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from gongzhi.accounts.models import User
from gongzhi.core import files
from gongzhi.publications import policies
from gongzhi.publications.models import Attachment


def stored_publication_file(user: User | AnonymousUser, name: str) -> files.ServedFile | None:
    if not name.startswith("publications/"):
        return None
    field_name = "thumbnail" if "/thumbs/" in name else "file"
    attachment = (Attachment.objects.filter(**{field_name: name})
                  .select_related("publication__author_unit", "publication__audience_unit").first())
    if attachment is None:
        return None
    publication = attachment.publication
    if not (policies.can_view(user, publication) or policies.can_manage(user, publication)):
        return None
    if field_name == "thumbnail":
        return files.served(attachment.thumbnail, content_type="image/jpeg")
    # Documents keep the name they were uploaded with; who may read them can change (an item withdrawn).
    return files.served(attachment.file, content_type=attachment.content_type, download_name=attachment.name,
                        document=not attachment.is_image)
