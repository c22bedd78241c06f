"""The field-work tests' fixtures, as a pytest plugin (the root conftest.py loads it): a grid worker of
tree["grid"] (`worker`), records to visit there and in the neighbouring grid (`records`), a media folder of the
test's own (`media`), and a phone photo with EXIF (`phone_photo`)."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from gongzhi.accounts.models import Role
from gongzhi.registry.models import (
    Address,
    Establishment,
    House,
    Household,
    KeyPerson,
    Resident,
    RiskLevel,
)

ID_HEAD = "110101198001010017"
ID_KEY = "110101197505050032"


def phone_photo(name: str = "IMG_0001.JPG") -> SimpleUploadedFile:
    """A JPEG as a phone writes it: EXIF with the maker and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 35.0, 10.5)
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, "JPEG", exif=exif, quality=90)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def worker(tree, make_staff):
    return make_staff("王网格", tree["grid"], Role.GRID_WORKER)


@pytest.fixture
def records(tree):
    """A household with its head, a rented house and a shop in tree["grid"]; a household in tree["grid2"]; a
    key person of tree["grid"] (high risk: every 7 days, the seeded frequency)."""
    village, grid = tree["village"], tree["grid"]
    home = Household.objects.create(village=village, grid=grid, number="H-001", address="小山村一社12号",
                                    lat=35.585, lng=104.605)
    Resident.objects.create(household=home, name="张三", id_number=ID_HEAD, gender="M",
                            birth_date=datetime.date(1980, 1, 1), relation=Resident.Relation.HEAD)
    other = Household.objects.create(village=village, grid=tree["grid2"], number="H-002", address="小山村二社1号")
    address = Address.objects.create(village=village, grid=grid, road="幸福路", number="3", label="幸福路3号")
    house = House.objects.create(address=address, grid=grid, use=House.Use.RENTED, owner_name="李四")
    shop = Establishment.objects.create(grid=grid, name="小山便民超市", kind=Establishment.Kind.SHOP)
    person = Resident.objects.create(grid=grid, name="赵五", id_number=ID_KEY, gender="M",
                                     birth_date=datetime.date(1975, 5, 5))
    key_person = KeyPerson.objects.create(resident=person, grid=grid, risk_level=RiskLevel.HIGH,
                                          started_on=datetime.date(2026, 1, 1),
                                          next_visit_due=datetime.date(2026, 3, 1))
    return {"household": home, "other_household": other, "house": house, "shop": shop, "key_person": key_person}
