"""Assets: installed equipment of buyer companies, by serial number.

:class:`Asset` is one installed unit of a product — serial number (unique per
company), SKU, business unit and site, installation date, :class:`Warranty` — that
goes ``pending_verification`` → ``active`` → ``decommissioned``. Its service history
(claims, appointments) and documents name it by id; its compatible spare parts and
services come from the catalog's relations. The use-cases live in
:class:`b2bcore.assets.service.AssetsService` (``portal.assets``).
"""

from b2bcore.assets.model import (
    ASSET_TRANSITIONS,
    Asset,
    AssetChanged,
    AssetRegistered,
    AssetStatus,
    AssetStatusChange,
    AssetStatusChanged,
    Warranty,
    normalize_serial,
)
from b2bcore.assets.ports import AssetRepository, RelatedProductsLookup

__all__ = [
    "ASSET_TRANSITIONS",
    "Asset",
    "AssetChanged",
    "AssetRegistered",
    "AssetRepository",
    "AssetStatus",
    "AssetStatusChange",
    "AssetStatusChanged",
    "RelatedProductsLookup",
    "Warranty",
    "normalize_serial",
]
