"""Validates a JSON document against a JSON Schema (draft-07), as the OSCAL tests need.

NIST's OSCAL schemas use Unicode property classes such as \\p{L} in "pattern", which Python's re module rejects,
so patterns are checked with the `regex` module. Prints one line per problem; exits 1 when there are any.
Usage: validate_oscal.py SCHEMA DOCUMENT
"""
import json
import sys

import jsonschema
import regex
from jsonschema import validators


def pattern(validator, expression, instance, schema):
    if isinstance(instance, str) and not regex.search(expression, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {expression!r}")


def main():
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    document = json.load(open(sys.argv[2], encoding="utf-8"))
    validator_class = validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda error: list(error.absolute_path))
    for error in errors:
        print("/".join(str(part) for part in error.absolute_path) + ": " + error.message)
    sys.exit(1 if errors else 0)


main()
