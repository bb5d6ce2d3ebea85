#!/usr/bin/env python3
"""Derive kanon's compact Kubernetes field schema from the OpenAPI definitions.

Regenerate (from the repository root):

    python3 tools/gen_schema.py ../shared/k8s-schema/definitions.json.gz

Usage: gen_schema.py [DEFINITIONS_JSON_GZ [OUTPUT_JSON]]

  DEFINITIONS_JSON_GZ  gzipped JSON with a `$defs` table (default:
                       ../shared/k8s-schema/definitions.json.gz, relative to the
                       current directory)
  OUTPUT_JSON          where to write (default: schema/k8s-1.37.json next to
                       this script's parent directory, i.e. in the repository)

Python 3 standard library only. The output is deterministic (sorted, minified)
so that a test can compare the committed file with a fresh run byte for byte.

Output format (see schema/README.md for the full description):

    {"format":1,"k8s":"1.37",
     "types":[[NAME, FIELDS_OR_CODE], ...],      # sorted by NAME
     "kinds":[[KIND, GROUP, VERSION, TYPE_INDEX, PREFERRED], ...]}

FIELDS_OR_CODE is either an object {field: CODE} (a struct type) or a single
CODE (a named non-struct type such as Quantity or RawExtension). A CODE is:

    s string   i integer   n number   b boolean   ios IntOrString
    q Quantity   t Time/MicroTime   sm map of strings (labels-style)
    any free-form (RawExtension, JSON, FieldsV1, preserve-unknown-fields)
    #N reference to the struct type at index N of "types"
    [X list of X       {X map (string keys) of X
"""

import gzip
import json
import os
import re
import sys

K8S_VERSION = "1.37"
DEFAULT_INPUT = "../shared/k8s-schema/definitions.json.gz"
DEFAULT_OUTPUT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "schema",
    "k8s-%s.json" % K8S_VERSION,
)
REF_PREFIX = "#/$defs/"

# Named types that are not structs, by full name -> code.
SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "ios",
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "q",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "t",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "t",
    # Free-form payloads: anything below them is allowed.
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "any",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "any",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": "any",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": "any",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray": "any",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool": "any",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray": "any",
}


def types_of(schema):
    """The non-null JSON types named by a schema's `type` keyword."""
    t = schema.get("type")
    if t is None:
        return []
    if isinstance(t, str):
        t = [t]
    return [x for x in t if x != "null"]


def alias_code(name, schema):
    """Code for a named type that is not a struct, or None for a struct.

    Object types without `properties` that are not known free-form payloads
    are empty structs (e.g. StorageVersionSpec, BasicSchedulingPolicy): they
    stay structs with no fields, so any field below them is rejected.
    """
    if name in SPECIAL:
        return SPECIAL[name]
    if "properties" in schema or "object" in types_of(schema):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return "any"
        return None
    if "oneOf" in schema or "anyOf" in schema or not types_of(schema):
        return "any"
    return None if "object" in types_of(schema) else scalar_code(schema)


def scalar_code(schema):
    """Code for a scalar schema (string, integer, number, boolean)."""
    ts = types_of(schema)
    if ts == ["string"]:
        return "t" if schema.get("format") == "date-time" else "s"
    if ts == ["integer"]:
        return "i"
    if ts == ["number"]:
        return "n"
    if ts == ["boolean"]:
        return "b"
    if schema.get("format") == "int-or-string":
        return "ios"
    return "any"


def field_code(schema, index, aliases):
    """Code for a property schema."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return "any"
    if schema.get("x-kubernetes-int-or-string"):
        return "ios"
    ref = schema.get("$ref")
    if ref is None:
        for key in ("allOf", "anyOf", "oneOf"):
            subs = schema.get(key)
            if isinstance(subs, list) and len(subs) == 1 and "$ref" in subs[0]:
                ref = subs[0]["$ref"]
    if ref is not None:
        if not ref.startswith(REF_PREFIX):
            return "any"
        target = ref[len(REF_PREFIX) :]
        if target in aliases:
            return aliases[target]
        if target in index:
            return "#%d" % index[target]
        return "any"
    ts = types_of(schema)
    if ts == ["array"]:
        items = schema.get("items")
        if not isinstance(items, dict):
            return "[any"
        return "[" + field_code(items, index, aliases)
    if ts == ["object"] or (not ts and "additionalProperties" in schema):
        if "properties" in schema:
            # Inline struct: not used by the Kubernetes definitions.
            return "any"
        ap = schema.get("additionalProperties")
        if not isinstance(ap, dict):
            return "any"
        inner = field_code(ap, index, aliases)
        return "sm" if inner == "s" else "{" + inner
    if not ts:
        return "any"
    return scalar_code(schema)


VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version):
    """Sort key: GA before beta before alpha, higher numbers first (like kube)."""
    m = VERSION_RE.match(version)
    if not m:
        return (3, 0, 0, version)
    major = int(m.group(1))
    level = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (level, -major, -minor, version)


def build(defs):
    """Derive the compact schema document from an OpenAPI `$defs` table."""
    aliases = {}
    for name in sorted(defs):
        code = alias_code(name, defs[name])
        if code is not None:
            aliases[name] = code
    names = sorted(defs)
    index = {name: i for i, name in enumerate(names)}
    types = []
    for name in names:
        schema = defs[name]
        if name in aliases:
            types.append([name, aliases[name]])
            continue
        fields = {}
        for fname, fschema in sorted(schema.get("properties", {}).items()):
            fields[fname] = field_code(fschema, index, aliases)
        types.append([name, fields])

    kinds = []
    for name in names:
        for gvk in defs[name].get("x-kubernetes-group-version-kind", []):
            kinds.append([gvk["kind"], gvk["group"], gvk["version"], index[name]])

    # Order each kind's entries by preference: core group first, then groups
    # with the most stable version, then group name; within a group, the
    # kube version priority (v2 > v1 > v1beta2 > v1beta1 > v1alpha1).
    best_in_group = {}
    for kind, group, version, _ in kinds:
        key = (kind, group)
        p = version_priority(version)
        if key not in best_in_group or p < best_in_group[key]:
            best_in_group[key] = p

    def pref(entry):
        kind, group, version, _ = entry
        return (
            kind,
            group != "",
            best_in_group[(kind, group)],
            group,
            version_priority(version),
        )

    kinds.sort(key=pref)
    out = []
    seen = set()
    for kind, group, version, ti in kinds:
        preferred = 1 if kind not in seen else 0
        seen.add(kind)
        out.append([kind, group, version, ti, preferred])

    return {"format": 1, "k8s": K8S_VERSION, "types": types, "kinds": out}


def main(argv):
    src = argv[1] if len(argv) > 1 else DEFAULT_INPUT
    dst = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    with gzip.open(src, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    defs = doc.get("$defs") or doc.get("definitions") or {}
    if not defs:
        sys.stderr.write("gen_schema: no $defs in %s\n" % src)
        return 1
    result = build(defs)
    text = json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    d = os.path.dirname(dst)
    if d:
        os.makedirs(d, exist_ok=True)
    with open(dst, "w", encoding="utf-8", newline="\n") as f:
        f.write(text + "\n")
    sys.stderr.write(
        "gen_schema: wrote %s (%d types, %d kinds, %d bytes)\n"
        % (dst, len(result["types"]), len(result["kinds"]), len(text) + 1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
