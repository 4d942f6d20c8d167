#!/usr/bin/env python3
"""Check a `build --sbom` document against CycloneDX 1.5's JSON schema, offline.

    validate-sbom.py FILE

The schema is the one cyclonedx-python-lib ships (bom-1.5 with its SPDX and JSF schemas), checked
strictly (an unknown property fails) by its JsonStrictValidator, which uses `jsonschema`.
scripts/test.sh installs `cyclonedx-python-lib[json-validation]` into the venv named by
APPRUNNER_TEST_PYVALIDATORS. Prints `ok:` and exits 0, or the schema's error and exits 1.
"""

import sys
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

path = Path(sys.argv[1])
error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(path.read_text())
if error is not None:
    # The jsonschema error's message and where, not its whole schema.
    detail = getattr(error, "data", error)
    where = "/".join(str(p) for p in getattr(detail, "absolute_path", []))
    print(f"{path}: {getattr(detail, 'message', detail)} (at /{where})", file=sys.stderr)
    sys.exit(1)
print(f"ok: {path} is valid CycloneDX 1.5 JSON")
