"""Scheduling: service types, resources with rrule-based availability, slot search
that is exact across daylight saving switches, holds and bookings with their status,
explanations of why a time is not bookable, and iCalendar export.

The service (:mod:`b2bcore.scheduling.service`, ``portal.scheduling``) is not
re-exported here: it imports the storage ports, which import this package.
"""

from b2bcore.scheduling.errors import CutoffPassedError, HoldExpiredError, SlotTakenError
from b2bcore.scheduling.ical import to_ical
from b2bcore.scheduling.model import (
    ACTIVE_STATUSES,
    GRANULE_MINUTES,
    TRANSITIONS,
    AppointmentHeld,
    AppointmentRescheduled,
    AppointmentStatus,
    AppointmentStatusChanged,
    Availability,
    AvailabilityRule,
    Booking,
    Busy,
    DateOverride,
    HolidayCalendar,
    Resource,
    ResourceRequirement,
    ResourceSaved,
    ServiceType,
    ServiceTypeSaved,
    StatusChange,
    TimeRange,
)
from b2bcore.scheduling.ports import BookingRepository, ResourceRepository, ServiceTypeRepository
from b2bcore.scheduling.slots import (
    ResourceFinding,
    Slot,
    SlotExplanation,
    UnavailableReason,
    explain_unavailable,
    find_slots,
)

__all__ = [
    "ACTIVE_STATUSES",
    "AppointmentHeld",
    "AppointmentRescheduled",
    "AppointmentStatus",
    "AppointmentStatusChanged",
    "Availability",
    "AvailabilityRule",
    "Booking",
    "BookingRepository",
    "Busy",
    "CutoffPassedError",
    "DateOverride",
    "GRANULE_MINUTES",
    "HoldExpiredError",
    "HolidayCalendar",
    "Resource",
    "ResourceFinding",
    "ResourceRepository",
    "ResourceRequirement",
    "ResourceSaved",
    "ServiceType",
    "ServiceTypeRepository",
    "ServiceTypeSaved",
    "Slot",
    "SlotExplanation",
    "SlotTakenError",
    "StatusChange",
    "TRANSITIONS",
    "TimeRange",
    "UnavailableReason",
    "explain_unavailable",
    "find_slots",
    "to_ical",
]
