//! The Kubernetes field schema: which fields exist on which kinds, and their types.
//!
//! The rule compiler checks every field path of a rule against this schema, so that a typo such
//! as `securityContext.privilegd` is rejected with "did you mean `privileged`?".
//!
//! The data is `schema/k8s-1.37.json`, derived from the Kubernetes v1.37 OpenAPI definitions by
//! `tools/gen_schema.py` (see `schema/README.md` for the format and the regeneration command),
//! embedded at build time and parsed once by [`Schema::bundled`].
//!
//! Types are addressed by [`TypeId`]; field types are the small `Copy` enum [`FieldType`], whose
//! list and map element types are packed inline ([`Elem`]) so that no lookup table is needed.
//! [`kinds`] is the hand-written table of built-in kinds (scope, plural, pod spec path).

pub mod kinds;

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded schema data (`schema/k8s-1.37.json`).
pub const BUNDLED_JSON: &str = include_str!("../../schema/k8s-1.37.json");

/// Index of a named type in a [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(u32);

impl TypeId {
    /// The index of the type in the schema's type table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The type of a field (or of a named non-struct type such as `Quantity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A string (including `format: byte` and enum strings).
    String,
    /// An integer (`int32`/`int64`).
    Integer,
    /// A floating-point number.
    Number,
    /// A boolean.
    Boolean,
    /// `IntOrString`: an integer or a string (ports, percentages).
    IntOrString,
    /// A resource `Quantity` (`"500m"`, `"1Gi"`, or a number).
    Quantity,
    /// A timestamp (`Time`, `MicroTime`, or a `date-time` string).
    Time,
    /// A free-form map of strings, like `labels` and `annotations`.
    StringMap,
    /// A list of the element type.
    List(Elem),
    /// A map with string keys and values of the element type.
    Map(Elem),
    /// A struct type of the schema.
    Object(TypeId),
    /// Free-form content (RawExtension, JSON, preserve-unknown-fields): anything is allowed.
    Any,
}

/// Maximum list/map nesting that [`Elem`] can represent.
const MAX_DEPTH: u8 = 16;

/// The element type of a list or map, packed so that [`FieldType`] stays `Copy`.
///
/// It is a non-container type (the leaf) wrapped in `depth` list/map layers; bit `k` of
/// `layers` tells whether layer `k` (counting from the outermost) is a map. Build it with
/// [`FieldType::list_of`] / [`FieldType::map_of`] and read it with [`Elem::get`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Elem {
    leaf: Leaf,
    depth: u8,
    layers: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Leaf {
    String,
    Integer,
    Number,
    Boolean,
    IntOrString,
    Quantity,
    Time,
    StringMap,
    Object(TypeId),
    Any,
}

impl Leaf {
    fn field_type(self) -> FieldType {
        match self {
            Leaf::String => FieldType::String,
            Leaf::Integer => FieldType::Integer,
            Leaf::Number => FieldType::Number,
            Leaf::Boolean => FieldType::Boolean,
            Leaf::IntOrString => FieldType::IntOrString,
            Leaf::Quantity => FieldType::Quantity,
            Leaf::Time => FieldType::Time,
            Leaf::StringMap => FieldType::StringMap,
            Leaf::Object(t) => FieldType::Object(t),
            Leaf::Any => FieldType::Any,
        }
    }
}

impl Elem {
    /// Packs a field type as an element type; `None` if nested deeper than 16 layers.
    fn new(t: FieldType) -> Option<Elem> {
        let leaf = match t {
            FieldType::List(e) | FieldType::Map(e) => {
                if e.depth >= MAX_DEPTH {
                    return None;
                }
                let is_map = u16::from(matches!(t, FieldType::Map(_)));
                return Some(Elem {
                    leaf: e.leaf,
                    depth: e.depth + 1,
                    layers: (e.layers << 1) | is_map,
                });
            }
            FieldType::String => Leaf::String,
            FieldType::Integer => Leaf::Integer,
            FieldType::Number => Leaf::Number,
            FieldType::Boolean => Leaf::Boolean,
            FieldType::IntOrString => Leaf::IntOrString,
            FieldType::Quantity => Leaf::Quantity,
            FieldType::Time => Leaf::Time,
            FieldType::StringMap => Leaf::StringMap,
            FieldType::Object(id) => Leaf::Object(id),
            FieldType::Any => Leaf::Any,
        };
        Some(Elem {
            leaf,
            depth: 0,
            layers: 0,
        })
    }

    /// The element type as a [`FieldType`].
    pub fn get(self) -> FieldType {
        if self.depth == 0 {
            return self.leaf.field_type();
        }
        let is_map = self.layers & 1 == 1;
        let inner = Elem {
            leaf: self.leaf,
            depth: self.depth - 1,
            layers: self.layers >> 1,
        };
        if is_map {
            FieldType::Map(inner)
        } else {
            FieldType::List(inner)
        }
    }
}

impl FieldType {
    /// A list of `elem`; [`FieldType::Any`] if nested deeper than this type can represent.
    pub fn list_of(elem: FieldType) -> FieldType {
        Elem::new(elem).map_or(FieldType::Any, FieldType::List)
    }

    /// A map of `elem`; a map of strings is the canonical [`FieldType::StringMap`], and
    /// [`FieldType::Any`] is returned if nested deeper than this type can represent.
    pub fn map_of(elem: FieldType) -> FieldType {
        if elem == FieldType::String {
            return FieldType::StringMap;
        }
        Elem::new(elem).map_or(FieldType::Any, FieldType::Map)
    }

    /// The element type of a list or map (`String` for a [`FieldType::StringMap`]).
    pub fn element(self) -> Option<FieldType> {
        match self {
            FieldType::List(e) | FieldType::Map(e) => Some(e.get()),
            FieldType::StringMap => Some(FieldType::String),
            _ => None,
        }
    }

    /// Whether anything below this type is allowed (a free-form map or [`FieldType::Any`]).
    pub fn is_free_form(self) -> bool {
        matches!(self, FieldType::StringMap | FieldType::Any)
    }

    /// Whether this is a scalar (string, number, boolean, quantity, time, int-or-string).
    pub fn is_scalar(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Integer
                | FieldType::Number
                | FieldType::Boolean
                | FieldType::IntOrString
                | FieldType::Quantity
                | FieldType::Time
        )
    }

    /// Parses a type code of the generated file (see `schema/README.md`).
    fn parse_code(code: &str, type_count: usize) -> Option<FieldType> {
        if let Some(rest) = code.strip_prefix('[') {
            return FieldType::parse_code(rest, type_count).map(FieldType::list_of);
        }
        if let Some(rest) = code.strip_prefix('{') {
            return FieldType::parse_code(rest, type_count).map(FieldType::map_of);
        }
        if let Some(rest) = code.strip_prefix('#') {
            let i: u32 = rest.parse().ok()?;
            return ((i as usize) < type_count).then_some(FieldType::Object(TypeId(i)));
        }
        Some(match code {
            "s" => FieldType::String,
            "i" => FieldType::Integer,
            "n" => FieldType::Number,
            "b" => FieldType::Boolean,
            "ios" => FieldType::IntOrString,
            "q" => FieldType::Quantity,
            "t" => FieldType::Time,
            "sm" => FieldType::StringMap,
            "any" => FieldType::Any,
            _ => return None,
        })
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::String => f.write_str("string"),
            FieldType::Integer => f.write_str("integer"),
            FieldType::Number => f.write_str("number"),
            FieldType::Boolean => f.write_str("boolean"),
            FieldType::IntOrString => f.write_str("int-or-string"),
            FieldType::Quantity => f.write_str("quantity"),
            FieldType::Time => f.write_str("time"),
            FieldType::StringMap => f.write_str("map of string"),
            FieldType::List(e) => write!(f, "list of {}", e.get()),
            FieldType::Map(e) => write!(f, "map of {}", e.get()),
            FieldType::Object(_) => f.write_str("object"),
            FieldType::Any => f.write_str("any"),
        }
    }
}

/// One `(group, version, kind)` of the OpenAPI definitions and the type that defines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// Kind name, e.g. `Deployment`.
    pub kind: String,
    /// API group, `""` for the core group.
    pub group: String,
    /// API version within the group, e.g. `v1`.
    pub version: String,
    /// The type defining the kind.
    pub type_id: TypeId,
    /// Whether this is the entry [`Schema::kind`] returns for the kind name.
    pub preferred: bool,
}

impl KindInfo {
    /// `apiVersion` as written in manifests: `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// A field path that does not exist in the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// Index of the offending segment in the path.
    pub index: usize,
    /// The offending segment.
    pub name: String,
    /// The fields valid at that point: the closest match to `name` first (if one is close
    /// enough, see [`crate::diag::suggest`]), then the others in name order. Empty when the
    /// path goes below a scalar.
    pub candidates: Vec<String>,
}

impl PathError {
    /// The likely intended field name ("did you mean"), if one is close enough.
    pub fn suggestion(&self) -> Option<&str> {
        crate::diag::suggest(&self.name, self.candidates.iter().map(String::as_str))
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.candidates.is_empty() {
            return write!(f, "`{}` is below a field that has no fields", self.name);
        }
        write!(f, "unknown field `{}`", self.name)?;
        match self.suggestion() {
            Some(s) => write!(f, "; did you mean `{s}`?"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for PathError {}

/// The schema data could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError(String);

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid schema data: {}", self.0)
    }
}

impl std::error::Error for SchemaError {}

#[derive(Debug)]
enum Shape {
    /// A struct; fields sorted by name.
    Struct(Vec<(String, FieldType)>),
    /// A named non-struct type (Quantity, Time, RawExtension, ...).
    Alias(FieldType),
}

#[derive(Debug)]
struct TypeEntry {
    name: String,
    shape: Shape,
}

/// The Kubernetes field schema: named types with their fields, and the kinds table.
#[derive(Debug, Default)]
pub struct Schema {
    k8s_version: String,
    types: Vec<TypeEntry>,
    by_name: HashMap<String, TypeId>,
    kinds: Vec<KindInfo>,
    preferred_kind: HashMap<String, usize>,
    /// Every field of every struct type as `(type, position in its fields)`, hashed by type
    /// and field name: [`Schema::field`] is one hash and one comparison, where a binary
    /// search of a type's names compared several strings (the shape check asks for every
    /// key of every object it walks).
    field_index: hashbrown::HashTable<(u32, u32)>,
}

/// The hash of a field name of a type, for [`Schema::field_index`] (fixed: the same in
/// every run). The length and three bytes tell a type's field names apart well enough for
/// a hash (the table compares whole names), and need no pass over the name.
fn field_hash(t: u32, b: &[u8]) -> u64 {
    let n = b.len();
    let at = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
    let key = (u64::from(t) << 32)
        ^ ((n as u64 & 0xff) << 24)
        ^ (at(0) << 16)
        ^ (at(n / 2) << 8)
        ^ at(n.wrapping_sub(1));
    // spread over the whole word: the table reads both ends of it
    let m = u128::from(key) * u128::from(0x9E37_79B9_7F4A_7C15_u64);
    (m as u64) ^ ((m >> 64) as u64)
}

#[derive(Deserialize)]
struct RawDoc<'a> {
    format: u32,
    k8s: String,
    #[serde(borrow)]
    types: Vec<(String, RawType<'a>)>,
    kinds: Vec<(String, String, String, u32, u8)>,
}

/// A type: a type code, or its fields' codes by name, in name order (the last of a name
/// written twice). Read straight from the JSON (a string or an object), without the
/// buffered copy of the value an untagged enum makes (that copy was most of decoding the
/// schema), and with the codes borrowed from the text.
enum RawType<'a> {
    Code(Code<'a>),
    Fields(Vec<(String, Code<'a>)>),
}

/// A type code, borrowed from the schema's text (a code written with an escape is copied).
struct Code<'a>(std::borrow::Cow<'a, str>);

/// Reads a [`Code`]; [`RawType`] reads the code a type is through it.
struct CodeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for CodeVisitor<'a> {
    type Value = Code<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a type code")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Code<'a>, E> {
        Ok(Code(std::borrow::Cow::Borrowed(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Code<'a>, E> {
        Ok(Code(std::borrow::Cow::Owned(v.to_string())))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Code<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code<'a>, D::Error> {
        d.deserialize_str(CodeVisitor(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawType<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RawType<'a>, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = RawType<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type code or an object of field type codes")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<RawType<'a>, E> {
                CodeVisitor(std::marker::PhantomData)
                    .visit_borrowed_str(v)
                    .map(RawType::Code)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawType<'a>, E> {
                CodeVisitor(std::marker::PhantomData)
                    .visit_str(v)
                    .map(RawType::Code)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawType<'a>, A::Error> {
                let mut fields: Vec<(String, Code<'a>)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, Code<'a>>()? {
                    fields.push(entry);
                }
                // in name order, the last of a name written twice (the tool writes them
                // sorted and once: then nothing moves)
                if !fields.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)) {
                    // a stable sort keeps the order in which a name was written
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    let mut once: Vec<(String, Code<'a>)> = Vec::with_capacity(fields.len());
                    for f in fields {
                        match once.last_mut() {
                            Some(last) if last.0 == f.0 => *last = f,
                            _ => once.push(f),
                        }
                    }
                    fields = once;
                }
                Ok(RawType::Fields(fields))
            }
        }
        d.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

static BUNDLED: OnceLock<Schema> = OnceLock::new();

/// The table of [`Schema::field_index`].
fn index_fields(types: &[TypeEntry]) -> hashbrown::HashTable<(u32, u32)> {
    let name_of = |&(ty, i): &(u32, u32)| match types.get(ty as usize).map(|e| &e.shape) {
        Some(Shape::Struct(f)) => f.get(i as usize).map_or("", |(n, _)| n.as_str()),
        _ => "",
    };
    let count = types
        .iter()
        .map(|e| match &e.shape {
            Shape::Struct(f) => f.len(),
            Shape::Alias(_) => 0,
        })
        .sum();
    let mut table = hashbrown::HashTable::with_capacity(count);
    for (ty, e) in types.iter().enumerate() {
        let (Ok(ty), Shape::Struct(fields)) = (u32::try_from(ty), &e.shape) else {
            continue;
        };
        for (i, (name, _)) in fields.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else {
                continue;
            };
            table.insert_unique(field_hash(ty, name.as_bytes()), (ty, i), |x| {
                field_hash(x.0, name_of(x).as_bytes())
            });
        }
    }
    table
}

impl Schema {
    /// The schema embedded in kanon (Kubernetes 1.37), parsed on first use.
    ///
    /// Never panics: if the embedded data failed to parse (a test guarantees it does not), this
    /// is an empty schema.
    pub fn bundled() -> &'static Schema {
        BUNDLED.get_or_init(|| Schema::from_json(BUNDLED_JSON).unwrap_or_default())
    }

    /// Parses schema data in the format written by `tools/gen_schema.py`.
    pub fn from_json(text: &str) -> Result<Schema, SchemaError> {
        let raw: RawDoc = serde_json::from_str(text).map_err(|e| SchemaError(e.to_string()))?;
        if raw.format != 1 {
            return Err(SchemaError(format!("unsupported format {}", raw.format)));
        }
        let n = raw.types.len();
        let bad = |what: &str, code: &str| SchemaError(format!("{what}: bad type code `{code}`"));
        let mut types = Vec::with_capacity(n);
        let mut by_name = HashMap::with_capacity(n);
        for (i, (name, rt)) in raw.types.into_iter().enumerate() {
            let id = u32::try_from(i).map_err(|_| SchemaError("too many types".into()))?;
            let shape = match rt {
                RawType::Code(Code(code)) => {
                    Shape::Alias(FieldType::parse_code(&code, n).ok_or_else(|| bad(&name, &code))?)
                }
                RawType::Fields(fields) => {
                    let mut out = Vec::with_capacity(fields.len());
                    for (fname, Code(code)) in fields {
                        let ft = FieldType::parse_code(&code, n)
                            .ok_or_else(|| bad(&format!("{name}.{fname}"), &code))?;
                        out.push((fname, ft));
                    }
                    Shape::Struct(out)
                }
            };
            if by_name.insert(name.clone(), TypeId(id)).is_some() {
                return Err(SchemaError(format!("duplicate type `{name}`")));
            }
            types.push(TypeEntry { name, shape });
        }
        let mut kinds = Vec::with_capacity(raw.kinds.len());
        let mut preferred_kind = HashMap::new();
        for (kind, group, version, ti, preferred) in raw.kinds {
            if ti as usize >= n {
                return Err(SchemaError(format!("kind `{kind}`: bad type index {ti}")));
            }
            let preferred = preferred != 0;
            if preferred {
                preferred_kind.insert(kind.clone(), kinds.len());
            }
            kinds.push(KindInfo {
                kind,
                group,
                version,
                type_id: TypeId(ti),
                preferred,
            });
        }
        let field_index = index_fields(&types);
        Ok(Schema {
            k8s_version: raw.k8s,
            types,
            by_name,
            kinds,
            preferred_kind,
            field_index,
        })
    }

    /// The Kubernetes version the schema describes, e.g. `1.37`.
    pub fn k8s_version(&self) -> &str {
        &self.k8s_version
    }

    /// Number of named types.
    pub fn type_count(&self) -> usize {
        self.types.len()
    }

    /// The type of a kind by kind name, e.g. `Deployment`, in its preferred group and version.
    pub fn kind(&self, kind: &str) -> Option<TypeId> {
        self.kind_info(kind).map(|k| k.type_id)
    }

    /// The preferred [`KindInfo`] of a kind name.
    pub fn kind_info(&self, kind: &str) -> Option<&KindInfo> {
        self.preferred_kind
            .get(kind)
            .and_then(|&i| self.kinds.get(i))
    }

    /// The type of a kind in an API group (`""` for core), in the group's preferred version.
    pub fn kind_in(&self, group: &str, kind: &str) -> Option<TypeId> {
        self.kinds
            .iter()
            .find(|k| k.kind == kind && k.group == group)
            .map(|k| k.type_id)
    }

    /// The type of a kind at an exact group and version.
    pub fn kind_at(&self, group: &str, version: &str, kind: &str) -> Option<TypeId> {
        self.kinds
            .iter()
            .find(|k| k.kind == kind && k.group == group && k.version == version)
            .map(|k| k.type_id)
    }

    /// All `(group, version, kind)` entries, by kind name, most preferred first.
    pub fn kinds(&self) -> impl Iterator<Item = &KindInfo> {
        self.kinds.iter()
    }

    /// The full OpenAPI name of a type, e.g. `io.k8s.api.core.v1.Container`.
    ///
    /// `""` for an id that does not belong to this schema.
    pub fn type_name(&self, t: TypeId) -> &str {
        self.types.get(t.index()).map_or("", |e| e.name.as_str())
    }

    /// A type by full name (`io.k8s.api.core.v1.Container`) or by a unique dotted suffix of it
    /// (`Container`, `core.v1.Container`); `None` if unknown or ambiguous.
    pub fn type_by_name(&self, name: &str) -> Option<TypeId> {
        if let Some(&id) = self.by_name.get(name) {
            return Some(id);
        }
        if name.is_empty() {
            return None;
        }
        let mut found = None;
        for (i, e) in self.types.iter().enumerate() {
            let suffix_match = e
                .name
                .strip_suffix(name)
                .is_some_and(|head| head.ends_with('.'));
            if suffix_match {
                if found.is_some() {
                    return None;
                }
                found = u32::try_from(i).ok().map(TypeId);
            }
        }
        found
    }

    /// What a named type is: `Object(t)` for a struct, otherwise its alias (e.g. `Quantity`).
    pub fn type_shape(&self, t: TypeId) -> FieldType {
        match self.types.get(t.index()).map(|e| &e.shape) {
            Some(Shape::Alias(ft)) => *ft,
            _ => FieldType::Object(t),
        }
    }

    fn fields(&self, t: TypeId) -> &[(String, FieldType)] {
        match self.types.get(t.index()).map(|e| &e.shape) {
            Some(Shape::Struct(f)) => f,
            _ => &[],
        }
    }

    /// The type of field `name` of struct type `t`.
    #[inline]
    pub fn field(&self, t: TypeId, name: &str) -> Option<FieldType> {
        let fields = self.fields(t);
        let name = name.as_bytes();
        // the entry found is the one the probe compared equal: no second comparison
        let &(_, i) = self.field_index.find(field_hash(t.0, name), |&(ty, i)| {
            ty == t.0
                && fields
                    .get(i as usize)
                    .is_some_and(|(n, _)| crate::model::same_bytes(n.as_bytes(), name))
        })?;
        fields.get(i as usize).map(|(_, ft)| *ft)
    }

    /// The field names of struct type `t`, sorted (empty for non-struct types).
    pub fn field_names(&self, t: TypeId) -> impl Iterator<Item = &str> {
        self.fields(t).iter().map(|(n, _)| n.as_str())
    }

    /// Walks a field path from type `t` and returns the type it reaches.
    ///
    /// * A field name below a list steps into the list's element type
    ///   (`spec.containers.image`); a segment that is an index (`0`) or `*` is consumed there.
    /// * A segment below a map is the map key (`resources.limits.cpu` is a quantity).
    /// * As soon as the walk reaches a free-form map ([`FieldType::StringMap`], e.g. labels)
    ///   or [`FieldType::Any`] with segments left, the result is `Ok(Any)`: anything below is
    ///   allowed (label keys may contain dots, CRD bodies are opaque).
    ///
    /// The error names the first segment that does not exist, with the valid field names.
    pub fn resolve_path(&self, t: TypeId, path: &[&str]) -> Result<FieldType, PathError> {
        let mut cur = self.type_shape(t);
        let mut i = 0;
        while let Some(seg) = path.get(i) {
            match cur {
                FieldType::Any | FieldType::StringMap => return Ok(FieldType::Any),
                FieldType::List(e) => {
                    cur = e.get();
                    if *seg == "*" || (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())) {
                        i += 1;
                    }
                }
                FieldType::Map(e) => {
                    cur = e.get();
                    i += 1;
                }
                FieldType::Object(id) => match self.field(id, seg) {
                    Some(ft) => {
                        cur = ft;
                        i += 1;
                    }
                    None => return Err(self.path_error(id, i, seg)),
                },
                _ => {
                    return Err(PathError {
                        index: i,
                        name: (*seg).to_string(),
                        candidates: Vec::new(),
                    });
                }
            }
        }
        Ok(cur)
    }

    fn path_error(&self, t: TypeId, index: usize, name: &str) -> PathError {
        let best = crate::diag::suggest(name, self.field_names(t));
        let mut candidates: Vec<String> = best.iter().map(|s| (*s).to_string()).collect();
        candidates.extend(
            self.field_names(t)
                .filter(|n| Some(*n) != best)
                .map(str::to_string),
        );
        PathError {
            index,
            name: name.to_string(),
            candidates,
        }
    }

    /// A readable form of a field type, naming struct types, e.g. `list of io.k8s.api.core.v1.Container`.
    pub fn describe(&self, ft: FieldType) -> String {
        match ft {
            FieldType::Object(t) => self.type_name(t).to_string(),
            FieldType::List(e) => format!("list of {}", self.describe(e.get())),
            FieldType::Map(e) => format!("map of {}", self.describe(e.get())),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_json_parses() {
        let s = Schema::from_json(BUNDLED_JSON);
        assert!(s.is_ok(), "{:?}", s.err());
        assert!(Schema::bundled().type_count() >= 800);
        assert_eq!(Schema::bundled().k8s_version(), "1.37");
    }

    #[test]
    fn types_are_read_as_the_json_has_them() {
        // each type as a generic JSON reading gives it: a code, or fields sorted by name
        let doc: serde_json::Value = serde_json::from_str(BUNDLED_JSON).unwrap();
        let types = doc["types"].as_array().unwrap();
        let s = Schema::bundled();
        assert_eq!(s.types.len(), types.len());
        let n = types.len();
        for (entry, t) in s.types.iter().zip(types) {
            assert_eq!(t[0].as_str(), Some(entry.name.as_str()));
            match (&entry.shape, &t[1]) {
                (Shape::Alias(ft), serde_json::Value::String(code)) => {
                    assert_eq!(Some(*ft), FieldType::parse_code(code, n), "{}", entry.name);
                }
                (Shape::Struct(fields), serde_json::Value::Object(map)) => {
                    let mut want: Vec<(&String, &serde_json::Value)> = map.iter().collect();
                    want.sort_by(|a, b| a.0.cmp(b.0));
                    assert_eq!(fields.len(), want.len(), "{}", entry.name);
                    for ((name, ft), (wname, code)) in fields.iter().zip(want) {
                        assert_eq!(name, wname);
                        let code = code.as_str().unwrap();
                        assert_eq!(Some(*ft), FieldType::parse_code(code, n), "{name}");
                    }
                }
                (shape, t) => panic!("{}: {shape:?} from {t}", entry.name),
            }
        }
        let mixed = r#"{"format":1,"k8s":"x","kinds":[],"types":[["A","s"],["B",{"b":"s","a":"i"}],["C",{}]]}"#;
        let m = Schema::from_json(mixed).unwrap();
        assert_eq!(m.field_names(TypeId(1)).collect::<Vec<_>>(), ["a", "b"]);
        // a name written twice: the last code (as a map of the JSON reads it); codes with
        // an escape read as the text they stand for
        let twice = r#"{"format":1,"k8s":"x","kinds":[],"types":[["D",{"z":"s","x":"i","z":"b"}],["E","\u0073"],["F",{"f":"\u0069"}]]}"#;
        let t = Schema::from_json(twice).unwrap();
        assert_eq!(t.field_names(TypeId(0)).collect::<Vec<_>>(), ["x", "z"]);
        assert_eq!(t.field(TypeId(0), "z"), Some(FieldType::Boolean));
        assert_eq!(t.field(TypeId(0), "x"), Some(FieldType::Integer));
        assert!(matches!(t.types[1].shape, Shape::Alias(FieldType::String)));
        assert_eq!(t.field(TypeId(2), "f"), Some(FieldType::Integer));
        assert!(
            Schema::from_json(r#"{"format":1,"k8s":"x","kinds":[],"types":[["A",3]]}"#).is_err()
        );
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        assert!(Schema::from_json("").is_err());
        assert!(Schema::from_json("{}").is_err());
        let bad_code = r##"{"format":1,"k8s":"x","kinds":[],"types":[["A",{"f":"#7"}]]}"##;
        assert!(Schema::from_json(bad_code).is_err());
        let bad_kind = r#"{"format":1,"k8s":"x","kinds":[["K","","v1",3,1]],"types":[]}"#;
        assert!(Schema::from_json(bad_kind).is_err());
        let empty = Schema::default();
        assert_eq!(empty.kind("Pod"), None);
        assert_eq!(empty.type_name(TypeId(5)), "");
        assert_eq!(empty.field_names(TypeId(5)).count(), 0);
    }

    #[test]
    fn nested_element_types_round_trip() {
        let q = FieldType::Quantity;
        let lq = FieldType::list_of(q);
        let mlq = FieldType::map_of(lq);
        let lmlq = FieldType::list_of(mlq);
        assert_eq!(lmlq.element(), Some(mlq));
        assert_eq!(mlq.element(), Some(lq));
        assert_eq!(lq.element(), Some(q));
        assert_eq!(q.element(), None);
        assert_eq!(FieldType::map_of(FieldType::String), FieldType::StringMap);
        assert_eq!(FieldType::StringMap.element(), Some(FieldType::String));
        assert_eq!(lmlq.to_string(), "list of map of list of quantity");
        // Mixed nesting round-trips layer by layer.
        let mut mixed = FieldType::Object(TypeId(1));
        let mut layers = Vec::new();
        for k in 0..8 {
            layers.push(mixed);
            mixed = if k % 3 == 0 {
                FieldType::map_of(mixed)
            } else {
                FieldType::list_of(mixed)
            };
        }
        while let Some(expected) = layers.pop() {
            mixed = mixed.element().unwrap_or(FieldType::Any);
            assert_eq!(mixed, expected);
        }
        // The outer `List` plus `MAX_DEPTH` packed layers fit; one more degrades to `Any`.
        let mut deep = FieldType::Boolean;
        for _ in 0..=MAX_DEPTH {
            deep = FieldType::list_of(deep);
        }
        assert!(matches!(deep, FieldType::List(_)));
        assert_eq!(FieldType::list_of(deep), FieldType::Any);
        for _ in 0..=MAX_DEPTH {
            deep = deep.element().unwrap_or(FieldType::Any);
        }
        assert_eq!(deep, FieldType::Boolean);
    }

    #[test]
    fn codes_parse() {
        assert_eq!(
            FieldType::parse_code("{[s", 0),
            Some(FieldType::map_of(FieldType::list_of(FieldType::String)))
        );
        assert_eq!(
            FieldType::parse_code("[#2", 3),
            Some(FieldType::list_of(FieldType::Object(TypeId(2))))
        );
        assert_eq!(FieldType::parse_code("#3", 3), None);
        assert_eq!(FieldType::parse_code("x", 3), None);
    }

    #[test]
    fn short_type_names() {
        let s = Schema::bundled();
        let c = s.type_by_name("Container");
        assert!(c.is_some());
        assert_eq!(c, s.type_by_name("io.k8s.api.core.v1.Container"));
        assert_eq!(c, s.type_by_name("core.v1.Container"));
        // Defined in several API versions: ambiguous.
        assert_eq!(s.type_by_name("HorizontalPodAutoscaler"), None);
        assert_eq!(s.type_by_name("ntainer"), None);
        assert_eq!(s.type_by_name(""), None);
    }
}
