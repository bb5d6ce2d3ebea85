//! The rule parser, checker and planner on arbitrary text.
#![no_main]

use kanon::check::fs::RuleFs;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut fs = RuleFs::new();
    fs.add_embedded("fuzz", "rule.kanon", &text);
    let entry = fs.embedded_rules("fuzz");
    let mut sources = SourceMap::new();
    let compiled = compile(&fs, &entry, &Overrides::new(), &mut sources);
    // whatever compiled must plan, and format back to text that parses
    let _ = kanon::plan::plan(&compiled.program);
    let (ast, diags) = kanon::syntax::parse(0, &text);
    if diags.is_empty() {
        let formatted = kanon::syntax::format::format_file(&ast, &text);
        let (again, d2) = kanon::syntax::parse(0, &formatted);
        assert!(d2.is_empty(), "formatted text does not parse:\n{formatted}");
        assert_eq!(ast, again);
    }
});
