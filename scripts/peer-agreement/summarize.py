#!/usr/bin/env python3
"""Summarizes the JSON lines of the peer-agreement scripts (one or more files, or stdin).

    scripts/peer-agreement/summarize.py checkov.jsonl kube-linter.jsonl kubescape.jsonl trivy.jsonl [--markdown] [--all]

Prints, per peer and overall: the cases, the comparable ones (a rule names the check and
the peer's expected outcome is known), the checks they come from, agreements, deliberate
differences (explained by the stated difference of docs/rules/peer-mapping.yaml, see
explained.yaml), disagreements, the cases set aside because the peer's fixture does not ask
the check's question (class `fixture` in explained.yaml; not comparable), and the
agreement, agree / (comparable - differences). Then each disagreement, and with
`--all` each difference and set-aside case with its reason.
"""

import json
import signal
import sys
from collections import OrderedDict

VERDICTS = ("agree", "difference", "disagree", "not-comparable")


def parse(p, f, lines):
    for n, raw in enumerate(f, 1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as e:
            sys.exit(f"summarize: {p}:{n}: not JSON: {e}")
        if line.get("verdict") not in VERDICTS:
            sys.exit(f"summarize: {p}:{n}: unknown verdict `{line.get('verdict')}`")
        lines.append(line)


def read(paths):
    lines = []
    for p in paths or ["-"]:
        if p == "-":
            parse(p, sys.stdin, lines)
        else:
            with open(p, encoding="utf-8") as f:
                parse(p, f, lines)
    return lines


def tally(lines):
    t = {v: 0 for v in VERDICTS}
    for line in lines:
        t[line["verdict"]] += 1
    comparable = t["agree"] + t["difference"] + t["disagree"]
    fixture = sum(1 for line in lines if line.get("class") == "fixture")
    judged = comparable - t["difference"]
    pct = 100.0 * t["agree"] / judged if judged else None
    return {
        "cases": len(lines),
        "comparable": comparable,
        "agree": t["agree"],
        "difference": t["difference"],
        "disagree": t["disagree"],
        "fixture": fixture,
        "agreement": pct,
        "checks": len({line["check"] for line in lines if line["verdict"] != "not-comparable"}),
    }


def fmt_pct(p):
    return "-" if p is None else f"{p:.1f}%"


def main():
    # `summarize.py ... | head` stops quietly
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = [a for a in sys.argv[1:] if a not in ("--markdown", "--all")]
    markdown = "--markdown" in sys.argv[1:]
    show_all = "--all" in sys.argv[1:]
    lines = read(args)
    peers = OrderedDict()
    for line in sorted(lines, key=lambda x: x["peer"]):
        peers.setdefault(line["peer"], []).append(line)
    rows = [(peer, tally(ls)) for peer, ls in peers.items()]
    if len(rows) > 1:
        rows.append(("overall", tally(lines)))
    head = ["peer", "cases", "comparable", "checks", "agree", "difference", "disagree", "set aside", "agreement"]
    table = [
        [
            peer,
            t["cases"],
            t["comparable"],
            t["checks"],
            t["agree"],
            t["difference"],
            t["disagree"],
            t["fixture"],
            fmt_pct(t["agreement"]),
        ]
        for peer, t in rows
    ]
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in table:
            print("| " + " | ".join(str(x) for x in r) + " |")
    else:
        widths = [max(len(str(r[i])) for r in [head, *table]) for i in range(len(head))]
        for r in [head, *table]:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip())
    dis = [x for x in lines if x["verdict"] == "disagree"]
    if dis:
        print()
        print(f"disagreements ({len(dis)}):")
        for x in sorted(dis, key=lambda x: (x["peer"], x["check"], x["case"], x["object"])):
            rules = ",".join(x.get("rules") or []) or "-"
            print(
                f"  {x['peer']} {x['check']} {x['case']} {x['object']}: expected {x['expected']}, "
                f"kanon {x['kanon']} ({rules})"
            )
    if show_all:
        for title, pick in (
            ("differences", lambda x: x["verdict"] == "difference"),
            ("set aside", lambda x: x.get("class") == "fixture"),
        ):
            chosen = [x for x in lines if pick(x)]
            if not chosen:
                continue
            print()
            print(f"{title} ({len(chosen)}):")
            for x in sorted(chosen, key=lambda x: (x["peer"], x["check"], x["case"], x["object"])):
                print(f"  {x['peer']} {x['check']} {x['case']} {x['object']}: {x['note']}")


if __name__ == "__main__":
    main()
