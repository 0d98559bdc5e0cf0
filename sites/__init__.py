"""WHERE the power is: the site portfolio, its schema, loading and validation. No Pyomo here."""

from kernel.errors import InputError
from sites.load import REFERENCE_PORTFOLIO, load_sites, validate_sites
from sites.schema import SITE_FIELDS

__all__ = ["InputError", "REFERENCE_PORTFOLIO", "SITE_FIELDS", "load_sites", "validate_sites"]
