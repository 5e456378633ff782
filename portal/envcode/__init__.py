"""The enterprise environmental code (企业环保码): a colour per enterprise from its credit grade, list membership,
open exceedances and overdue disclosures, kept current by session events; QR code, phone page, signs and badge."""
from portal.envcode import events  # noqa: F401  (installs the session listeners)
