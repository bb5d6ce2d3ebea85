//! The short, CI-sized version of `scripts/fuzz.sh`: random and mutated inputs through
//! load → graph → scan; no panic, counts add up, and both evaluators agree.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kanon::check::fs::RuleFs;
use kanon::check::ir::Program;
use kanon::check::{Overrides, compile};
use kanon::diag::SourceMap;
use kanon::graph::{Graph, GraphOptions};
use kanon::model::Loader;
use proptest::prelude::*;
use std::sync::OnceLock;

fn program() -> &'static Program {
    static P: OnceLock<Program> = OnceLock::new();
    P.get_or_init(|| {
        let mut fs = RuleFs::new();
        let entry = kanon::bundled::add_to(&mut fs);
        let mut sources = SourceMap::new();
        compile(&fs, &entry, &Overrides::new(), &mut sources).program
    })
}

fn seeds() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["examples/manifests", "tests/data/graph"] {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        if let Ok(rd) = std::fs::read_dir(p) {
            let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                if let Ok(t) = std::fs::read_to_string(f) {
                    out.push(t);
                }
            }
        }
    }
    out
}

fn run(text: String) {
    let mut sources = SourceMap::new();
    let load = Loader::default().load_text("fuzz.yaml", text, &mut sources);
    let skipped: usize = load.stats.skipped.iter().map(|(_, n)| n).sum();
    assert!(skipped <= load.stats.documents);
    let graph = Graph::build(load, &GraphOptions::default());
    let p = program();
    let (plan, errors) = kanon::plan::plan(p);
    assert!(errors.is_empty());
    let mut fast = kanon::eval::exec::execute(p, &plan, &graph, &sources).findings;
    let mut slow = kanon::eval::reference::evaluate(p, &graph, &sources);
    for f in fast.iter_mut().chain(slow.iter_mut()) {
        f.evidence.sort();
    }
    assert_eq!(fast, slow);
}

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Duplicate(usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let tokens = prop_oneof![
        Just("\n".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("  ".to_string()),
        Just("\t".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("---\n".to_string()),
        Just("{".to_string()),
        Just("]".to_string()),
        Just("\"".to_string()),
        Just("true".to_string()),
        Just("privileged".to_string()),
        Just("hostNetwork: true\n".to_string()),
        Just("<<: *a\n".to_string()),
        "[a-z:{}\\[\\] \\-\n]{0,12}",
    ];
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 0..40usize).prop_map(|(a, n)| Edit::Delete(a, n)),
            (any::<usize>(), tokens).prop_map(|(a, t)| Edit::Insert(a, t)),
            (any::<usize>(), 0..200usize).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        ],
        1..6,
    )
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    let boundary = |s: &str, i: usize| {
        let mut i = if s.is_empty() { 0 } else { i % (s.len() + 1) };
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    for e in edits {
        match e {
            Edit::Delete(a, n) => {
                let a = boundary(&s, *a);
                let b = boundary(&s, (a + n).min(s.len()));
                if b >= a {
                    s.replace_range(a..b, "");
                }
            }
            Edit::Insert(a, t) => {
                let a = boundary(&s, *a);
                s.insert_str(a, t);
            }
            Edit::Duplicate(a, n) => {
                let a = boundary(&s, *a);
                let b = boundary(&s, (a + n).min(s.len()));
                if b >= a {
                    let piece = s[a..b].to_string();
                    s.insert_str(b, &piece);
                }
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        run(text);
    }

    #[test]
    fn mutated_manifests_never_panic_and_evaluators_agree(seed in 0usize..64, e in edits()) {
        let seeds = seeds();
        prop_assume!(!seeds.is_empty());
        let base = seeds[seed % seeds.len()].clone();
        run(apply(base, &e));
    }
}
