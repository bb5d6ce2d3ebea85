// Random JSON values for the tests that write them as YAML and JSON and read them back
// (`tests/split_load.rs`, and `src/model/block.rs`'s tests through `include!`): strings
// that YAML writers quote, escape or write as block scalars, in nested lists and maps.

/// Texts YAML writers handle in different ways.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        "[a-zA-Z0-9 :#,\\-'\"\\\\\\[\\]{}é]{0,12}",
        Just("- not an item".to_string()),
        Just("key: value".to_string()),
        Just("line one\nline two\n- three".to_string()),
        Just("  lead\n\n trail  \n".to_string()),
        Just("yes".to_string()),
        Just("0755".to_string()),
        Just(String::new()),
    ]
}

/// Values up to four levels deep, whose keys are [`text`]s.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An edit for [`mutated`]: a random place, one of `bytes`, and whether to delete.
fn edit_of(bytes: &[u8]) -> impl Strategy<Value = (usize, u8, bool)> {
    (any::<usize>(), prop::sample::select(bytes.to_vec()), any::<bool>())
}

/// Byte-level edits of a text (characters that matter to YAML and JSON, at random
/// places): `(where, byte, delete)`, the place taken modulo the length.
fn mutated(text: String, edits: &[(usize, u8, bool)]) -> String {
    let mut t = text.into_bytes();
    for &(at, c, delete) in edits {
        if t.is_empty() {
            break;
        }
        let i = at % t.len();
        if delete {
            t.remove(i);
        } else {
            t.insert(i, c);
        }
    }
    String::from_utf8_lossy(&t).into_owned()
}
