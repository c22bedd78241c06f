"""一标三实 and field work: standard addresses, real population (households, residents, special groups), real
houses (with tenancies), real units (establishments), key persons with their visit plans, patrols with tracks,
visits, and the change history of every record."""

from gongzhi.registry.models.fieldwork import Patrol, TrackPoint, Visit, VisitPhoto
from gongzhi.registry.models.history import RecordChange
from gongzhi.registry.models.key_persons import KeyPerson, KeyPersonCategory, KeyPersonView, RiskLevel, VisitFrequency
from gongzhi.registry.models.places import Address, Establishment, House, Tenancy
from gongzhi.registry.models.population import Household, ResidenceType, Resident, SpecialGroup

__all__ = [
    "Address", "Establishment", "House", "Household", "KeyPerson", "KeyPersonCategory", "KeyPersonView",
    "Patrol", "RecordChange", "ResidenceType", "RiskLevel", "Resident", "SpecialGroup", "Tenancy", "TrackPoint",
    "Visit", "VisitFrequency", "VisitPhoto",
]
