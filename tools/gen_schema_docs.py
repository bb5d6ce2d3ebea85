#!/usr/bin/env python3
"""Derive the field descriptions `kanon lsp` shows on hover from the OpenAPI definitions.

Regenerate (from the repository root):

    python3 tools/gen_schema_docs.py ../shared/k8s-schema/definitions.json.gz

Usage: gen_schema_docs.py [DEFINITIONS_JSON_GZ [OUTPUT_JSON]]

Writes schema/k8s-1.37-docs.json (sorted, minified, deterministic):

    {"format":1,"k8s":"1.37","types":{TYPE_NAME:{"":TYPE_DESCRIPTION,FIELD:DESCRIPTION}}}

TYPE_NAME is the full OpenAPI name, as in schema/k8s-1.37.json. Each description is the
first paragraph of the OpenAPI text, cut at a sentence end to at most 400 characters.
Python 3 standard library only; the build never reads ../shared.
"""

import gzip
import json
import os
import sys

K8S_VERSION = "1.37"
DEFAULT_INPUT = "../shared/k8s-schema/definitions.json.gz"
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "schema",
    "k8s-%s-docs.json" % K8S_VERSION,
)
LIMIT = 400


def short(text):
    text = (text or "").strip().split("\n\n")[0].replace("\n", " ").strip()
    if len(text) <= LIMIT:
        return text
    cut = text[:LIMIT]
    end = cut.rfind(". ")
    if end > 80:
        return cut[: end + 1]
    return cut.rstrip() + "…"


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_INPUT
    out = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUTPUT
    with gzip.open(src, "rt", encoding="utf-8") as f:
        defs = json.load(f)["$defs"]
    types = {}
    for name in sorted(defs):
        d = defs[name]
        entry = {}
        if d.get("description"):
            entry[""] = short(d["description"])
        for field, fd in sorted((d.get("properties") or {}).items()):
            desc = short(fd.get("description"))
            if desc:
                entry[field] = desc
        if entry:
            types[name] = entry
    doc = {"format": 1, "k8s": K8S_VERSION, "types": types}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
