// Tokenizes rule files with the extension's TextMate grammar (vscode-textmate and
// vscode-oniguruma, the engine VS Code uses) and compares the tokens with golden
// snapshots in test/snapshots/. `UPDATE=1 npm test` rewrites the snapshots.
// Also checks every bundled rule file: rule headers, doc comments and interpolations
// get their scopes.
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const here = __dirname;
const repo = path.resolve(here, "../../..");
const grammarPath = path.resolve(here, "../syntaxes/kanon.tmLanguage.json");

async function grammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === "source.kanon"
        ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
        : null,
  });
  return registry.loadGrammar("source.kanon");
}

function tokenize(g, text) {
  const out = [];
  let state = vsctm.INITIAL;
  text.split("\n").forEach((line, i) => {
    const r = g.tokenizeLine(line, state);
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim() === "") continue;
      out.push({ line: i + 1, text: s, scopes: t.scopes.filter((x) => x !== "source.kanon") });
    }
    state = r.ruleStack;
  });
  return out;
}

function render(tokens) {
  return tokens
    .map((t) => `${t.line}: ${JSON.stringify(t.text)} ${t.scopes.join(" ") || "-"}`)
    .join("\n") + "\n";
}

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith(".kanon")) out.push(p);
  }
  return out;
}

// copies of bundled and example rules (so that a rule change does not move the golden
// tokens) and a sample with every construct; the live bundled rules are checked below
const GOLDEN = [
  "ORG-001-team-label.kanon",
  "ORG-002-allowed-registries.kanon",
  "K01-001-privileged-container.kanon",
  "K01-007-dangerous-capabilities.kanon",
  "rbac.kanon",
  "sample.kanon",
].map((f) => path.join("editors/vscode/test/fixtures", f));

(async () => {
  const g = await grammar();
  let failed = 0;
  const fail = (msg) => {
    failed++;
    console.error("FAIL " + msg);
  };
  for (const rel of GOLDEN) {
    const text = fs.readFileSync(path.join(repo, rel), "utf8");
    const got = render(tokenize(g, text));
    const snap = path.join(here, "snapshots", path.basename(rel) + ".tokens");
    if (process.env.UPDATE === "1" || !fs.existsSync(snap)) {
      fs.writeFileSync(snap, got);
      console.log("wrote " + path.relative(repo, snap));
    } else if (fs.readFileSync(snap, "utf8") !== got) {
      const want = fs.readFileSync(snap, "utf8").split("\n");
      const have = got.split("\n");
      const i = want.findIndex((l, k) => l !== have[k]);
      fail(`${rel}: tokens differ from ${path.relative(repo, snap)} at token ${i + 1}:\n  want ${want[i]}\n  got  ${have[i]}`);
    }
  }
  // every bundled rule file
  const files = walk(path.join(repo, "rulesets"), []);
  for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    const tokens = tokenize(g, text);
    const lines = text.split("\n");
    lines.forEach((l, i) => {
      const on = tokens.filter((t) => t.line === i + 1);
      const has = (scope, s) => on.some((t) => t.scopes.includes(scope) && (s === undefined || t.text === s));
      const m = /^rule ([A-Z][A-Z0-9]*-[A-Za-z0-9-]+) ([a-z0-9-]+)/.exec(l);
      if (m && !(has("entity.name.type.rule-id.kanon", m[1]) && has("entity.name.function.rule-name.kanon", m[2]))) {
        fail(`${f}:${i + 1}: rule header not scoped`);
      }
      if (/^\s*\/\/\/(?!\/)/.test(l) && !has("comment.line.documentation.kanon")) {
        fail(`${f}:${i + 1}: doc comment not scoped`);
      }
      if (/^\s*"[^"]*\{[a-z]/.test(l) && !has("meta.interpolation.kanon")) {
        fail(`${f}:${i + 1}: interpolation not scoped`);
      }
      const fx = /^\s*fix (safe|unsafe)\b/.exec(l);
      if (fx && !has("storage.modifier.applicability.kanon", fx[1])) {
        fail(`${f}:${i + 1}: fix applicability not scoped`);
      }
      const act = /^\s+(set|remove|add) /.exec(l);
      if (act && !has("keyword.control.fix.kanon", act[1])) {
        fail(`${f}:${i + 1}: fix action not scoped`);
      }
    });
  }
  console.log(`grammar: ${GOLDEN.length} golden files, ${files.length} bundled rule files checked`);
  if (failed > 0) {
    console.error(`${failed} failure(s)`);
    process.exit(1);
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
