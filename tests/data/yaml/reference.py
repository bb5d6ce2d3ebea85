"""The YAML 1.1 reference reader of tests/yaml_differential.rs.

Reads the files named on standard input (one path a line) and writes one JSON line each:
{"docs": [...]} or {"error": "..."}. The parser is libyaml (the C library go-yaml was ported
from) through PyYAML when PyYAML has it, else PyYAML's own; the values are typed the way
go-yaml v2 (the reader behind kubectl and the API server) types them. Where PyYAML's typing
differs from go-yaml's, go-yaml's is used; each difference is one line below and is listed
in docs/user-guide.md:

1. booleans: go-yaml also reads y, Y, n, N as booleans (PyYAML: strings);
2. integers: go-yaml reads 0o17 (octal) and no sexagesimal 1:20 (PyYAML: 80);
3. floats: go-yaml reads 1e3 and 08 as floats and no sexagesimal 1:20.5 (PyYAML: a dot is
   required, 08 is a string);
4. timestamps: go-yaml gives 2001-12-14 to Kubernetes as the string it is (PyYAML: a date);
5. keys that are not strings (1:, true:) are compared as written, as kanon keeps them
   (go-yaml through sigs.k8s.io/yaml would make `on:` the key "true");
6. !!binary: kanon keeps the base64 text (PyYAML: bytes; go-yaml: the decoded text);
7. a plain `=` is the string "=" (PyYAML: the YAML 1.1 value tag, which it cannot construct);
8. an unknown tag (`!custom x`) is passed over (PyYAML rejects it).

Numbers that are not finite are written as {"$float": "inf" | "-inf" | "nan"}.
"""
import base64
import json
import math
import re
import sys

import yaml

Base = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
Base = Base or yaml.SafeLoader


class GoYaml(Base):
    pass


GoYaml.yaml_implicit_resolvers = {}
for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    kept = [
        (tag, rx)
        for tag, rx in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:timestamp",
            "tag:yaml.org,2002:value",
        )
    ]
    GoYaml.yaml_implicit_resolvers[first] = kept

BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON|n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$")
INT = re.compile(r"^[-+]?(?:0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$")
FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
GoYaml.add_implicit_resolver("tag:yaml.org,2002:bool", BOOL, list("yYnNtTfFoO"))
GoYaml.add_implicit_resolver("tag:yaml.org,2002:int", INT, list("-+0123456789"))
GoYaml.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT, list("-+0123456789."))

BOOLS = {s: True for s in "y Y yes Yes YES true True TRUE on On ON".split()}
BOOLS.update({s: False for s in "n N no No NO false False FALSE off Off OFF".split()})


def construct_bool(loader, node):
    return BOOLS[loader.construct_scalar(node)]


def construct_int(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body[:2].lower() in ("0b", "0o", "0x"):
        return sign * int(body[2:], {"b": 2, "o": 8, "x": 16}[body[1].lower()])
    if len(body) > 1 and body.startswith("0"):
        if all(c in "01234567" for c in body):
            return sign * int(body, 8)
        return float(text)
    return sign * int(body)


def construct_float(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    lower = text.lower()
    if lower.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if lower == ".nan":
        return math.nan
    if re.match(r"^[-+]?0[0-7]+$", text):
        return construct_int(loader, node)
    return float(text)


def construct_binary(loader, node):
    return loader.construct_scalar(node)


def construct_str_keys(loader, node, deep=False):
    loader.flatten_mapping(node)
    out = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = key_node.value
        else:
            key = json.dumps(plain(loader.construct_object(key_node, deep=True)), sort_keys=True)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


GoYaml.add_constructor("tag:yaml.org,2002:bool", construct_bool)
GoYaml.add_constructor("tag:yaml.org,2002:int", construct_int)
GoYaml.add_constructor("tag:yaml.org,2002:float", construct_float)
GoYaml.add_constructor("tag:yaml.org,2002:binary", construct_binary)
GoYaml.add_constructor("tag:yaml.org,2002:timestamp", lambda l, n: l.construct_scalar(n))
GoYaml.add_constructor("tag:yaml.org,2002:map", construct_str_keys)


def construct_untagged(loader, node):
    if isinstance(node, yaml.MappingNode):
        return construct_str_keys(loader, node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


GoYaml.add_constructor(None, construct_untagged)


def plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, (set, frozenset)):
        return sorted(str(x) for x in v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def main():
    print(json.dumps({"reader": Base.__name__}), flush=True)
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            with open(path, "rb") as f:
                docs = [plain(d) for d in yaml.load_all(f, Loader=GoYaml)]
            print(json.dumps({"docs": docs}, allow_nan=False))
        except Exception as e:  # noqa: BLE001 -- any failure is the reference's answer
            print(json.dumps({"error": str(e).replace("\n", " ")}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
