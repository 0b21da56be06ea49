"""Version numbers of the wire contract."""

from typing import Final

# Integer major of the wire protocol; additive changes never bump it.
PROTOCOL_VERSION: Final = 1
SUPPORTED_PROTOCOL_VERSIONS: Final = (1,)
# Semver of the schema set in schemas/v1/, carried in every schema's $id.
SCHEMA_VERSION: Final = "1.2.0"
