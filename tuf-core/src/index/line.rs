//! One line of an index file: one published version of a crate.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::error::{excerpt, IndexError};
use super::name::CrateName;

/// The fields [`IndexLine`] types; every other field stays in [`IndexLine::extra`].
const TYPED_FIELDS: [&str; 5] = ["name", "vers", "cksum", "yanked", "v"];

/// One line of an index file, describing one published version.
///
/// `name`, `vers`, `cksum`, `yanked` and `v` are typed and checked; every other
/// field (`deps`, `features`, `features2`, `links`, `rust_version`, `pubtime`, and
/// any a future cargo adds) is kept as received in [`extra`](IndexLine::extra), so
/// serializing a parsed line gives back JSON equal to the input (key order and
/// whitespace aside). A missing `yanked` serializes as `"yanked": false`.
///
/// Source: cargo's `IndexPackage` (`crates/cargo-util-schemas/src/index.rs`) and
/// the cargo book, "Registry Index".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLine {
    /// The crate, as spelled in the line (cargo matches it case-insensitively).
    pub name: CrateName,
    /// The version, parsed as SemVer 2.0.0 with the `semver` crate, as cargo does.
    pub vers: semver::Version,
    /// SHA-256 of the version's `.crate` file.
    pub cksum: Cksum,
    /// Whether the version is yanked; `false` when the field is absent.
    pub yanked: bool,
    /// The line's schema version as written; `None` means 1. Cargo 1.51+ skips
    /// lines whose `v` is above what it knows; this model keeps them.
    pub v: Option<u32>,
    /// Every other field, as received. Keys equal to a typed field's name are
    /// never produced by parsing, and are skipped when serializing.
    pub extra: Map<String, Value>,
}

impl IndexLine {
    /// A line with no dependencies or features listed, not yanked, schema 1.
    pub fn new(name: CrateName, vers: semver::Version, cksum: Cksum) -> Self {
        IndexLine {
            name,
            vers,
            cksum,
            yanked: false,
            v: None,
            extra: Map::new(),
        }
    }

    /// Checks an already-parsed JSON value as an index line.
    ///
    /// Prefer [`parse_index_line`] for text: a `Value` cannot tell whether its
    /// source repeated a key.
    pub fn from_value(value: Value) -> Result<Self, IndexError> {
        let mut fields = match value {
            Value::Object(map) => map,
            other => {
                return Err(IndexError::LineNotObject {
                    found: json_type(&other),
                })
            }
        };
        let typed = TypedFields {
            name: fields.remove("name"),
            vers: fields.remove("vers"),
            cksum: fields.remove("cksum"),
            yanked: fields.remove("yanked"),
            v: fields.remove("v"),
        };
        Self::from_fields(typed, fields)
    }

    /// The typed checks of a line, in one place for [`IndexLine::from_value`] and
    /// [`check_index_line`]: `typed` holds the typed fields as received, `extra` the
    /// rest.
    fn from_fields(typed: TypedFields, extra: Map<String, Value>) -> Result<Self, IndexError> {
        let name = match typed.name {
            Some(Value::String(s)) => CrateName::parse(&s)?,
            Some(other) => return Err(bad_field("name", "a string", &other)),
            None => return Err(missing("name", "a crate name")),
        };
        let vers = match typed.vers {
            Some(Value::String(s)) => {
                semver::Version::parse(&s).map_err(|e| IndexError::LineBadVers {
                    found: excerpt(&s),
                    reason: e.to_string(),
                })?
            }
            Some(other) => return Err(bad_field("vers", "a string", &other)),
            None => return Err(missing("vers", "a SemVer version")),
        };
        let cksum = match typed.cksum {
            Some(Value::String(s)) => Cksum::parse(&s)?,
            Some(other) => return Err(bad_field("cksum", "a string", &other)),
            None => return Err(missing("cksum", "64 lowercase hex digits")),
        };
        let yanked = match typed.yanked {
            Some(Value::Bool(b)) => b,
            Some(other) => return Err(bad_field("yanked", "true or false", &other)),
            None => false,
        };
        let v = match typed.v {
            None => None,
            Some(Value::Number(n)) => match n.as_u64().map(u32::try_from) {
                Some(Ok(v)) => Some(v),
                _ => return Err(bad_field("v", V_EXPECTED, &Value::Number(n))),
            },
            Some(other) => return Err(bad_field("v", V_EXPECTED, &other)),
        };

        Ok(IndexLine {
            name,
            vers,
            cksum,
            yanked,
            v,
            extra,
        })
    }

    /// The line as a JSON object: the typed fields and every field of `extra`
    /// except those named like a typed field.
    pub fn to_json(&self) -> Value {
        Value::Object(self.to_json_map())
    }

    /// The schema version the line declares: `v`, or 1 when absent.
    pub fn schema_version(&self) -> u32 {
        self.v.unwrap_or(1)
    }

    /// The `deps` field as received, if present.
    pub fn deps(&self) -> Option<&Value> {
        self.extra.get("deps")
    }

    /// The `features` field as received, if present.
    pub fn features(&self) -> Option<&Value> {
        self.extra.get("features")
    }

    /// The `features2` field (schema 2) as received, if present.
    pub fn features2(&self) -> Option<&Value> {
        self.extra.get("features2")
    }

    fn to_json_map(&self) -> Map<String, Value> {
        let mut map: Map<String, Value> = self
            .extra
            .iter()
            .filter(|(key, _)| !TYPED_FIELDS.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        map.insert("name".into(), Value::String(self.name.as_str().into()));
        map.insert("vers".into(), Value::String(self.vers.to_string()));
        map.insert("cksum".into(), Value::String(self.cksum.to_hex()));
        map.insert("yanked".into(), Value::Bool(self.yanked));
        if let Some(v) = self.v {
            map.insert("v".into(), Value::Number(Number::from(v)));
        }
        map
    }
}

/// Parses one index line (without its `\n`): a JSON object, with no key
/// repeated at any depth, whose typed fields pass their checks.
///
/// Surrounding JSON whitespace (including a trailing `\r`) is allowed. Nothing
/// here knows which crate the line should name; [`parse_index_file`](super::parse_index_file)
/// checks that.
pub fn parse_index_line(line: &str) -> Result<IndexLine, IndexError> {
    IndexLine::from_value(parse_strict_json(line)?)
}

/// Checks one index line exactly as [`parse_index_line`] does, with the same
/// error for the same text, without keeping the fields it does not type: they are
/// walked (so a repeated key at any depth and any JSON error are still found) but
/// not built into values. The returned line's [`extra`](IndexLine::extra) is
/// empty.
///
/// What a publisher runs on every index file it signs
/// ([`check_index_file`](super::check_index_file)): building `deps` and `features`
/// as values is most of the cost of [`parse_index_line`], and a check needs none
/// of it. A differential test holds the two to the same answer.
pub fn check_index_line(line: &str) -> Result<IndexLine, IndexError> {
    let duplicate = Cell::new(None);
    // Room for the keys of a typical line's open objects (the top level's and one
    // dependency's), so the stack is allocated once per line.
    let keys = RefCell::new(Vec::with_capacity(32));
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let parsed = CheckedTop {
        walk: StrictSkip {
            duplicate: &duplicate,
            keys: &keys,
        },
    }
    .deserialize(&mut deserializer)
    .and_then(|top| deserializer.end().map(|()| top));
    match parsed.map_err(|e| json_error(&duplicate, &e))? {
        Top::Object(typed) => IndexLine::from_fields(typed, Map::new()),
        Top::Other(found) => Err(IndexError::LineNotObject { found }),
    }
}

impl Serialize for IndexLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for IndexLine {
    /// Same checks as [`parse_index_line`], repeated keys included.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let duplicate = Cell::new(None);
        let value = StrictValue {
            duplicate: &duplicate,
        }
        .deserialize(deserializer)?;
        IndexLine::from_value(value).map_err(de::Error::custom)
    }
}

/// The SHA-256 of a `.crate` file, written as 64 lowercase hex digits.
///
/// Cargo checks a download by comparing this string with the lowercase hex
/// SHA-256 of the bytes, so any other spelling could never match; it is refused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cksum([u8; 32]);

impl Cksum {
    /// Parses exactly 64 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, IndexError> {
        let bad = || IndexError::LineBadCksum { found: excerpt(s) };
        if s.len() != 64 {
            return Err(bad());
        }
        // Decoded here by table, without a branch per digit, rather than with `hex`
        // (which also accepts upper case): checksums are random digits, so a branch
        // on "digit or letter" is mispredicted half the time, and that made this a
        // tenth of the publisher's check. A byte that is not a lowercase hex digit
        // maps to `NOT_HEX`, whose high bits mark the whole string bad.
        let mut digest = [0u8; 32];
        let mut seen = 0u8;
        for (byte, pair) in digest.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let [high, low] = pair else {
                return Err(bad());
            };
            let (high, low) = (hex_value(*high), hex_value(*low));
            seen |= high | low;
            *byte = (high << 4) | low;
        }
        if seen & NOT_HEX != 0 {
            return Err(bad());
        }
        Ok(Cksum(digest))
    }

    /// The checksum of a digest computed elsewhere.
    pub fn from_bytes(digest: [u8; 32]) -> Self {
        Cksum(digest)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits, as written in the index.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Cksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cksum({})", self.to_hex())
    }
}

impl fmt::Display for Cksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Cksum {
    type Err = IndexError;

    fn from_str(s: &str) -> Result<Self, IndexError> {
        Cksum::parse(s)
    }
}

impl TryFrom<String> for Cksum {
    type Error = IndexError;

    fn try_from(s: String) -> Result<Self, IndexError> {
        Cksum::parse(&s)
    }
}

impl From<Cksum> for String {
    fn from(c: Cksum) -> String {
        c.to_hex()
    }
}

/// What [`HEX_VALUES`] holds for a byte that is not a lowercase hex digit: no
/// digit's value (0 to 15) has any of these bits.
const NOT_HEX: u8 = 0xf0;

/// The value of each lowercase hex digit, `0-9` and `a-f`, by byte; [`NOT_HEX`]
/// for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut values = [NOT_HEX; 256];
    let mut digit = 0u8;
    while digit < 16 {
        let ascii = if digit < 10 {
            b'0' + digit
        } else {
            b'a' + digit - 10
        };
        values[ascii as usize] = digit;
        digit += 1;
    }
    values
};

/// The value of `byte` as a lowercase hex digit, or [`NOT_HEX`].
fn hex_value(byte: u8) -> u8 {
    // INVARIANT: the table has an entry for each of the 256 byte values.
    HEX_VALUES[usize::from(byte)]
}

const V_EXPECTED: &str = "an integer from 0 to 4294967295";

fn missing(field: &'static str, expected: &'static str) -> IndexError {
    IndexError::LineMissingField { field, expected }
}

fn bad_field(field: &'static str, expected: &'static str, found: &Value) -> IndexError {
    let found = match found {
        Value::Null => "null".to_owned(),
        Value::Array(_) | Value::Object(_) => format!("an {}", json_type(found)),
        scalar => format!("the {} {}", json_type(scalar), excerpt(&scalar.to_string())),
    };
    IndexError::LineBadField {
        field,
        expected,
        found,
    }
}

pub(super) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Parses JSON text like `serde_json::from_str::<Value>`, but refuses a key
/// repeated within any object (serde_json would silently keep the last).
pub(super) fn parse_strict_json(text: &str) -> Result<Value, IndexError> {
    let duplicate = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = StrictValue {
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|e| json_error(&duplicate, &e))
}

/// The error of a failed strict parse: the repeated key the visitor recorded, or
/// else the JSON parser's own error.
fn json_error(duplicate: &Cell<Option<String>>, error: &serde_json::Error) -> IndexError {
    match duplicate.take() {
        Some(key) => IndexError::LineDuplicateKey { key },
        None => IndexError::LineNotJson {
            reason: error.to_string(),
        },
    }
}

/// A `serde_json::Value` builder that fails on a repeated object key, recording
/// the key in `duplicate` so the caller can report it as such. serde_json's own
/// recursion limit still bounds the depth.
#[derive(Clone, Copy)]
struct StrictValue<'a> {
    duplicate: &'a Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json never yields a non-finite number from text; refuse rather
        // than invent a value if another deserializer does.
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                let key = excerpt(&key);
                let message = format!("duplicate key `{key}`");
                self.duplicate.set(Some(key));
                return Err(de::Error::custom(message));
            }
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// The typed fields of a line as received, before their checks.
#[derive(Debug, Default)]
struct TypedFields {
    name: Option<Value>,
    vers: Option<Value>,
    cksum: Option<Value>,
    yanked: Option<Value>,
    v: Option<Value>,
}

impl TypedFields {
    /// The slot of typed field `key`, if it is one.
    fn slot(&mut self, key: &str) -> Option<&mut Option<Value>> {
        match key {
            "name" => Some(&mut self.name),
            "vers" => Some(&mut self.vers),
            "cksum" => Some(&mut self.cksum),
            "yanked" => Some(&mut self.yanked),
            "v" => Some(&mut self.v),
            _ => None,
        }
    }
}

/// A whole line as [`check_index_line`] reads it: an object's typed fields, or
/// the JSON type of anything else.
enum Top {
    Object(TypedFields),
    Other(&'static str),
}

/// The top level of a line for [`check_index_line`]: the typed fields are built
/// as [`StrictValue`] builds them, every other value is walked by [`StrictSkip`].
/// Keys are checked for repeats before their values are read, as [`StrictValue`]
/// does, so both report the same first problem.
#[derive(Clone, Copy)]
struct CheckedTop<'a, 'de> {
    walk: StrictSkip<'a, 'de>,
}

impl<'de> DeserializeSeed<'de> for CheckedTop<'_, 'de> {
    type Value = Top;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Top, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CheckedTop<'_, 'de> {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Top, E> {
        Ok(Top::Other("boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Top, E> {
        Ok(Top::Other("number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Top, E> {
        Ok(Top::Other("number"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Top, E> {
        finite(v).map(|()| Top::Other("number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Top, E> {
        Ok(Top::Other("string"))
    }

    fn visit_unit<E>(self) -> Result<Top, E> {
        Ok(Top::Other("null"))
    }

    fn visit_none<E>(self) -> Result<Top, E> {
        Ok(Top::Other("null"))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Top, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top, A::Error> {
        self.walk.visit_seq(seq).map(|()| Top::Other("array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Top, A::Error> {
        let mut typed = TypedFields::default();
        let mut object = self.walk.object();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            let field = TYPED_FIELDS.iter().find(|f| **f == key).copied();
            self.walk.record(&mut object, key)?;
            match field.and_then(|field| typed.slot(field)) {
                Some(slot) => {
                    *slot = Some(access.next_value_seed(StrictValue {
                        duplicate: self.walk.duplicate,
                    })?);
                }
                None => access.next_value_seed(self.walk)?,
            }
        }
        self.walk.end(object);
        Ok(Top::Object(typed))
    }
}

/// Walks any JSON value like [`StrictValue`], failing where it fails (a repeated
/// key, recorded in `duplicate`), but builds nothing.
///
/// The keys of the objects being walked are kept on one stack per line, `keys`
/// (borrowed from the text where they have no escapes), rather than in a
/// collection per object: a line has a few dozen small objects, and allocating
/// for each was most of the cost of a check.
#[derive(Clone, Copy)]
struct StrictSkip<'a, 'de> {
    duplicate: &'a Cell<Option<String>>,
    keys: &'a RefCell<Vec<Cow<'de, str>>>,
}

/// The keys of the object being walked: those on the stack from `start`, or,
/// once there are more than [`FEW_KEYS`], a hash set (a crate's `features` may
/// have hundreds of keys; a set keeps the walk linear).
struct ObjectKeys<'de> {
    start: usize,
    many: Option<HashSet<Cow<'de, str>>>,
}

/// When an object's keys move from the stack into a hash set.
const FEW_KEYS: usize = 16;

impl<'de> StrictSkip<'_, 'de> {
    /// Starts the keys of a new object.
    fn object(&self) -> ObjectKeys<'de> {
        ObjectKeys {
            start: self.keys.borrow().len(),
            many: None,
        }
    }

    /// Records `key` in `object`, or fails as [`StrictValue`] does when the object
    /// had it already.
    fn record<E: de::Error>(
        &self,
        object: &mut ObjectKeys<'de>,
        key: Cow<'de, str>,
    ) -> Result<(), E> {
        let mut keys = self.keys.borrow_mut();
        let repeated = match &object.many {
            Some(set) => set.contains(&key),
            None => keys
                .get(object.start..)
                .is_some_and(|own| own.contains(&key)),
        };
        if repeated {
            let key = excerpt(&key);
            let message = format!("duplicate key `{key}`");
            self.duplicate.set(Some(key));
            return Err(E::custom(message));
        }
        match &mut object.many {
            Some(set) => {
                set.insert(key);
            }
            None if keys.len().saturating_sub(object.start) < FEW_KEYS => keys.push(key),
            None => {
                let mut set: HashSet<Cow<'de, str>> = keys.drain(object.start..).collect();
                set.insert(key);
                object.many = Some(set);
            }
        }
        Ok(())
    }

    /// Ends an object: its keys leave the stack.
    fn end(&self, object: ObjectKeys<'de>) {
        self.keys.borrow_mut().truncate(object.start);
    }
}

impl<'de> DeserializeSeed<'de> for StrictSkip<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSkip<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        finite(v)
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut object = self.object();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            self.record(&mut object, key)?;
            access.next_value_seed(self)?;
        }
        self.end(object);
        Ok(())
    }
}

/// What [`StrictValue`] does with a float: serde_json never yields a non-finite
/// one from text, and one from elsewhere is refused rather than invented.
fn finite<E: de::Error>(v: f64) -> Result<(), E> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(E::custom("non-finite number"))
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const CKSUM: &str = "d867001db0e2b6e0496f9fac96930e2d42233ecd3ca0413e0753d4c7695d289c";

    fn line_json() -> Value {
        json!({
            "name": "foo",
            "vers": "0.1.0",
            "deps": [{
                "name": "rand", "req": "^0.6", "features": ["i128_support"],
                "optional": false, "default_features": true, "target": null,
                "kind": "normal", "registry": null, "package": null
            }],
            "cksum": CKSUM,
            "features": {"extras": ["rand/simd_support"]},
            "yanked": false,
            "links": null,
            "v": 2,
            "features2": {"serde": ["dep:serde", "chrono?/serde"]},
            "rust_version": "1.60",
            "some_future_field": {"x": [1, 2.5, "three"]}
        })
    }

    fn code(line: &str) -> &'static str {
        match parse_index_line(line) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    fn with(field: &str, value: Value) -> String {
        let mut line = line_json();
        line[field] = value;
        line.to_string()
    }

    fn without(field: &str) -> String {
        let mut line = line_json();
        line.as_object_mut().unwrap().remove(field);
        line.to_string()
    }

    #[test]
    fn parses_the_cargo_book_example_and_keeps_unknown_fields() {
        let line = parse_index_line(&line_json().to_string()).unwrap();
        assert_eq!(line.name.as_str(), "foo");
        assert_eq!(line.vers, semver::Version::new(0, 1, 0));
        assert_eq!(line.cksum.to_hex(), CKSUM);
        assert!(!line.yanked);
        assert_eq!(line.v, Some(2));
        assert_eq!(line.schema_version(), 2);
        assert!(line.deps().is_some_and(Value::is_array));
        assert!(line.features().is_some());
        assert!(line.features2().is_some());
        assert_eq!(line.extra["some_future_field"]["x"][1], json!(2.5));
        for typed in TYPED_FIELDS {
            assert!(!line.extra.contains_key(typed));
        }
        assert_eq!(line.to_json(), line_json());
        assert_eq!(serde_json::to_value(&line).unwrap(), line_json());
    }

    #[test]
    fn accepts_surrounding_whitespace_and_crlf() {
        assert_eq!(code(&format!("  {}\r", line_json())), "ok");
    }

    #[test]
    fn minimal_line_defaults() {
        let text = format!(r#"{{"name":"Foo","vers":"1.0.0-rc.1+build.5","cksum":"{CKSUM}"}}"#);
        let line = parse_index_line(&text).unwrap();
        assert!(!line.yanked);
        assert_eq!(line.v, None);
        assert_eq!(line.schema_version(), 1);
        assert!(line.extra.is_empty());
        assert_eq!(line.vers.to_string(), "1.0.0-rc.1+build.5");
        // A missing `yanked` comes back as `false`; everything else is unchanged.
        let mut expected: Value = serde_json::from_str(&text).unwrap();
        expected["yanked"] = json!(false);
        assert_eq!(line.to_json(), expected);
    }

    #[test]
    fn unknown_schema_version_is_kept() {
        let line = parse_index_line(&with("v", json!(99))).unwrap();
        assert_eq!(line.v, Some(99));
        assert_eq!(parse_index_line(&with("v", json!(0))).unwrap().v, Some(0));
        assert_eq!(
            parse_index_line(&with("v", json!(u32::MAX))).unwrap().v,
            Some(u32::MAX)
        );
    }

    #[test]
    fn yanked_true() {
        assert!(
            parse_index_line(&with("yanked", json!(true)))
                .unwrap()
                .yanked
        );
    }

    #[test]
    fn rejects_non_json() {
        for text in [
            "",
            "{",
            "not json",
            "{\"name\":\"foo\"} x",
            "{}{}",
            "\u{feff}{}",
        ] {
            assert_eq!(code(text), "line-not-json", "{text:?}");
        }
    }

    #[test]
    fn rejects_non_objects() {
        for (text, found) in [
            ("[]", "array"),
            ("\"foo\"", "string"),
            ("null", "null"),
            ("1", "number"),
        ] {
            assert_eq!(
                parse_index_line(text).unwrap_err(),
                IndexError::LineNotObject { found },
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_duplicate_keys_at_any_depth() {
        let top = format!(r#"{{"name":"foo","name":"bar","vers":"1.0.0","cksum":"{CKSUM}"}}"#);
        assert_eq!(
            parse_index_line(&top).unwrap_err(),
            IndexError::LineDuplicateKey { key: "name".into() }
        );
        let nested = format!(
            r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","features":{{"a":[],"a":["x"]}}}}"#
        );
        assert_eq!(code(&nested), "line-duplicate-key");
        let in_array = format!(
            r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","deps":[{{"k":1,"k":2}}]}}"#
        );
        assert_eq!(code(&in_array), "line-duplicate-key");
        // The same key in sibling objects is fine.
        let siblings = format!(
            r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","deps":[{{"k":1}},{{"k":2}}]}}"#
        );
        assert_eq!(code(&siblings), "ok");
    }

    #[test]
    fn check_gives_the_errors_parse_gives() {
        let many_keys: String = (0..40).map(|i| format!(r#""k{i}":{i},"#)).collect();
        let cases = [
            line_json().to_string(),
            format!("  {}\r", line_json()),
            String::new(),
            "not json".into(),
            "{}{}".into(),
            "[]".into(),
            "[{\"a\":1,\"a\":2}]".into(),
            "\"foo\"".into(),
            "null".into(),
            "1.5".into(),
            "true".into(),
            format!(r#"{{"name":"foo","name":"bar","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","deps":[{{"k":1,"k":2}}]}}"#
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","deps":[{{"k":1}},{{"k":2}}]}}"#
            ),
            // A repeated key before a syntax error: the repeat is what both report.
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","f":{{"a":1,"a":2,}}"#),
            // Many keys at the top level and in a nested object (the hash set).
            format!(r#"{{{many_keys}"name":"foo","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(r#"{{{many_keys}"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","k39":0}}"#),
            format!(
                r#"{{"features":{{{many_keys}"k3":[]}},"name":"foo","vers":"1.0.0","cksum":"{CKSUM}"}}"#
            ),
            // An escaped key is the same key as its plain spelling.
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","f":{{"a":1,"\u0061":2}}}}"#
            ),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","n\u0061me":"x"}}"#),
            without("name"),
            with("yanked", json!(null)),
            with("v", json!(1.5)),
            with("vers", json!("1.0")),
            with("cksum", json!("00")),
            with("deps", json!([{"x": [1, {"y": null}]}])),
            // What a walker that builds nothing could get wrong (#11 item 8 follow-up):
            // escapes in strings, in keys and in the typed fields themselves.
            format!(r#"{{"name":"f\u006fo","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(
                r#"{{"name":"foo","vers":"1.0.\u0030","cksum":"\u0064{}"}}"#,
                &CKSUM[1..]
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\u00e9\"\\\/\b\f\n\r\t"}}"#
            ),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\ud83d\ude00"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\ud800"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\udc00x"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\u00"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\x"}}"#),
            format!("{{\"name\":\"foo\",\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\",\"d\":\"a\tb\"}}"),
            format!(
                "{{\"name\":\"foo\",\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\",\"d\":\"é{}\"}}",
                '\u{7f}'
            ),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","\"":1,"\u0022":2}}"#),
            format!(r#"{{"name":"foo","name":"f\u006fo","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","é":1,"\u00e9":2}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","a":1,"A":2}}"#),
            // Nested objects in unknown fields, deep and repeated.
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{{"a":{{"b":{{"c":{{}}}}}},"b":{{"a":1}}}}}}"#
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{{"a":{{"b":1,"c":{{"b":2}},"b":3}}}}}}"#
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{}1{}}}"#,
                "[".repeat(126),
                "]".repeat(126)
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{}1{}}}"#,
                "[".repeat(127),
                "]".repeat(127)
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{}1{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{}}}"#,
                r#"{"a":"#.repeat(130) + "1" + &"}".repeat(130)
            ),
            // Numbers, in unknown fields and in `v`.
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":[0,-0,1e400,-1e400,1E5,2.5e-3,18446744073709551616,-9223372036854775809]}}"#
            ),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":1e400}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":01}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":1.}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":-}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":.5}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":+1}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","v":2.0}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","v":-0}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","v":1e0}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","v":4294967295}}"#),
            format!(
                r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","v":99999999999999999999}}"#
            ),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","yanked":tru}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","yanked":nul}}"#),
            // Whitespace JSON allows, and what it does not.
            format!(" \t{{ \"name\" : \"foo\" ,\r\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\" }} \r\t"),
            format!(
                "{{\"name\":\"foo\",\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\"{}}}",
                '\u{a0}'
            ),
            format!(
                "{{\"name\":\"foo\",\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\"{}}}",
                '\u{c}'
            ),
            // Trailing commas, missing ones, and text after the object.
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}",}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":[1,]}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":{{"a":1,}}}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":[1 2]}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}"}},"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}"}}x"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}""#),
            // The typed fields spelled in other cases or shapes.
            format!(r#"{{"Name":"foo","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(
                r#"{{"name":"FOO","vers":"1.0.0","cksum":"{}"}}"#,
                CKSUM.to_uppercase()
            ),
            format!(r#"{{"name":"foo-bar_baz","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(r#"{{"name":"foo\u0000","vers":"1.0.0","cksum":"{CKSUM}"}}"#),
            format!(r#"{{"name":["foo"],"vers":{{"1":0}},"cksum":"{CKSUM}"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","yanked":"true"}}"#),
        ];
        for text in cases {
            let parsed = parse_index_line(&text);
            let checked = check_index_line(&text);
            match (&parsed, &checked) {
                (Ok(parsed), Ok(checked)) => {
                    assert_eq!(checked.name, parsed.name, "{text}");
                    assert_eq!(checked.vers, parsed.vers, "{text}");
                    assert_eq!(checked.cksum, parsed.cksum, "{text}");
                    assert_eq!((checked.yanked, checked.v), (parsed.yanked, parsed.v));
                    assert!(checked.extra.is_empty());
                }
                _ => assert_eq!(
                    checked.clone().map(|_| ()),
                    parsed.clone().map(|_| ()),
                    "{text}"
                ),
            }
        }
    }

    #[test]
    fn typed_fields_are_read_after_their_escapes() {
        let escaped = format!(
            r#"{{"name":"f\u006fo","vers":"1.0.\u0030","cksum":"\u0064{}"}}"#,
            &CKSUM[1..]
        );
        for line in [parse_index_line(&escaped), check_index_line(&escaped)] {
            let line = line.unwrap();
            assert_eq!(line.name.as_str(), "foo");
            assert_eq!(line.vers, semver::Version::new(1, 0, 0));
            assert_eq!(line.cksum.to_hex(), CKSUM);
        }
        for bad in [
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","d":"\ud800"}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}","x":1e400}}"#),
            format!(r#"{{"name":"foo","vers":"1.0.0","cksum":"{CKSUM}",}}"#),
            format!("{{\"name\":\"foo\",\"vers\":\"1.0.0\",\"cksum\":\"{CKSUM}\",\"d\":\"a\tb\"}}"),
        ] {
            assert_eq!(code(&bad), "line-not-json", "{bad}");
            assert_eq!(
                check_index_line(&bad).unwrap_err().code(),
                "line-not-json",
                "{bad}"
            );
        }
    }

    #[test]
    fn serde_deserialize_also_rejects_duplicate_keys() {
        let top = format!(r#"{{"name":"foo","vers":"1.0.0","vers":"2.0.0","cksum":"{CKSUM}"}}"#);
        let err = serde_json::from_str::<IndexLine>(&top).unwrap_err();
        assert!(err.to_string().contains("duplicate key `vers`"), "{err}");
        let good = serde_json::from_str::<IndexLine>(&line_json().to_string()).unwrap();
        assert_eq!(good.to_json(), line_json());
    }

    #[test]
    fn rejects_missing_fields() {
        for field in ["name", "vers", "cksum"] {
            let err = parse_index_line(&without(field)).unwrap_err();
            assert_eq!(err.code(), "line-missing-field", "{field}");
            assert!(matches!(err, IndexError::LineMissingField { field: f, .. } if f == field));
        }
        for optional in ["yanked", "v", "deps", "features"] {
            assert_eq!(code(&without(optional)), "ok", "{optional}");
        }
    }

    #[test]
    fn rejects_wrongly_typed_fields() {
        let cases = [
            ("name", json!(7)),
            ("vers", json!(1)),
            ("cksum", json!(null)),
            ("yanked", json!("false")),
            ("yanked", json!(null)),
            ("v", json!(-1)),
            ("v", json!(1.5)),
            ("v", json!(4_294_967_296_u64)),
            ("v", json!("2")),
            ("v", json!(null)),
        ];
        for (field, value) in cases {
            let err = parse_index_line(&with(field, value.clone())).unwrap_err();
            assert_eq!(err.code(), "line-bad-field", "{field} = {value}");
        }
        assert_eq!(
            parse_index_line(&with("yanked", json!(null))).unwrap_err(),
            IndexError::LineBadField {
                field: "yanked",
                expected: "true or false",
                found: "null".into()
            }
        );
        assert_eq!(
            parse_index_line(&with("yanked", json!("no"))).unwrap_err(),
            IndexError::LineBadField {
                field: "yanked",
                expected: "true or false",
                found: "the string \"no\"".into()
            }
        );
    }

    #[test]
    fn rejects_invalid_name() {
        assert_eq!(code(&with("name", json!("1foo"))), "crate-name-bad-start");
        assert_eq!(code(&with("name", json!(""))), "crate-name-empty");
        assert_eq!(code(&with("name", json!("fo o"))), "crate-name-bad-char");
    }

    #[test]
    fn vers_must_be_semver() {
        for good in [
            "0.0.0",
            "1.2.3",
            "1.0.0-alpha.1",
            "1.0.0+build",
            "10.20.30-rc.1+x.7",
        ] {
            assert_eq!(code(&with("vers", json!(good))), "ok", "{good}");
        }
        for bad in [
            "", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0 ", "1.0.0-01",
        ] {
            assert_eq!(code(&with("vers", json!(bad))), "line-bad-vers", "{bad:?}");
        }
    }

    #[test]
    fn cksum_must_be_64_lowercase_hex() {
        assert_eq!(code(&with("cksum", json!(CKSUM))), "ok");
        let upper = CKSUM.to_ascii_uppercase();
        let short = &CKSUM[..63];
        let long = format!("{CKSUM}0");
        let not_hex = format!("{}g", &CKSUM[..63]);
        for bad in [
            upper.as_str(),
            short,
            long.as_str(),
            not_hex.as_str(),
            "",
            "sha256:00",
        ] {
            assert_eq!(
                code(&with("cksum", json!(bad))),
                "line-bad-cksum",
                "{bad:?}"
            );
        }
        // Every digit decodes to its value, in order.
        let all_digits = "0123456789abcdef".repeat(4);
        assert_eq!(
            Cksum::parse(&all_digits).unwrap().as_bytes(),
            &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef].repeat(4)[..]
        );
        // One bad digit anywhere, high or low half of a byte, refuses the whole.
        for at in [0, 1, 31, 62, 63] {
            for bad in ["A", "F", "g", "/", ":", "`", " "] {
                let mut text = CKSUM.to_owned();
                text.replace_range(at..=at, bad);
                assert_eq!(
                    Cksum::parse(&text).unwrap_err(),
                    IndexError::LineBadCksum {
                        found: text.clone()
                    },
                    "{text}"
                );
            }
        }
        // Multi-byte characters of the right byte length are refused too.
        assert_eq!(
            code(&with("cksum", json!("é".repeat(32)))),
            "line-bad-cksum"
        );
    }

    #[test]
    fn cksum_round_trips() {
        let c = Cksum::parse(CKSUM).unwrap();
        assert_eq!(c.to_string(), CKSUM);
        assert_eq!(Cksum::from_bytes(*c.as_bytes()), c);
        assert_eq!(CKSUM.parse::<Cksum>().unwrap(), c);
        assert_eq!(serde_json::to_value(c).unwrap(), json!(CKSUM));
        assert_eq!(format!("{c:?}"), format!("Cksum({CKSUM})"));
    }

    #[test]
    fn extra_cannot_shadow_typed_fields_when_serializing() {
        let mut line = parse_index_line(&line_json().to_string()).unwrap();
        line.extra.insert("name".into(), json!("evil"));
        line.extra.insert("cksum".into(), json!("00"));
        let out = line.to_json();
        assert_eq!(out["name"], json!("foo"));
        assert_eq!(out["cksum"], json!(CKSUM));
        // Serialized text has each key once.
        let text = serde_json::to_string(&line).unwrap();
        assert_eq!(text.matches("\"name\":").count(), 2, "{text}"); // top level + the dep's name
        assert_eq!(parse_index_line(&text).unwrap().to_json(), line_json());
    }

    #[test]
    fn new_line_serializes_minimal_fields() {
        let line = IndexLine::new(
            CrateName::parse("abc").unwrap(),
            semver::Version::new(1, 2, 3),
            Cksum::from_bytes([0xab; 32]),
        );
        let back = parse_index_line(&serde_json::to_string(&line).unwrap()).unwrap();
        assert_eq!(back, line);
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn cksum_parses_exactly_lowercase_hex(text in "[0-9a-fA-F]{64}|.{0,70}") {
            let lowercase_hex = text.len() == 64
                && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            match Cksum::parse(&text) {
                Ok(cksum) => {
                    prop_assert!(lowercase_hex);
                    prop_assert_eq!(cksum.to_hex(), text.clone());
                    prop_assert_eq!(&hex::decode(&text).unwrap()[..], &cksum.as_bytes()[..]);
                }
                Err(e) => {
                    prop_assert!(!lowercase_hex);
                    prop_assert_eq!(e.code(), "line-bad-cksum");
                }
            }
        }
    }

    /// Fragments spliced into valid lines by
    /// `check_agrees_with_parse_on_tricky_insertions`.
    const TRICKY: [&str; 40] = [
        r#"\u00e9"#,
        r#"\""#,
        r#"\\"#,
        r#"\ud800"#,
        r#"\ud83d\ude00"#,
        r#"\u006e"#,
        r#"\u0000"#,
        r#"\u00"#,
        r#"\q"#,
        "é",
        "\t",
        "\u{1}",
        " \r ",
        ",",
        ",}",
        ",]",
        "}",
        "]",
        r#"{"a":1,"a":2}"#,
        r#"{"a":{"b":{"c":[{}]}}}"#,
        r#""name":"foo","#,
        r#""name":"f\u006fo","#,
        r#""name":"Foo","#,
        r#""name":"foo_bar","#,
        r#""name":"foo-bar","#,
        r#""vers":"1.0.0","#,
        r#""yanked":true,"#,
        r#""yanked":null,"#,
        r#""v":3,"#,
        r#""v":-1,"#,
        r#""x":{"k":[1,2,]},"#,
        "1e400",
        "-0",
        "0.5e-7",
        "18446744073709551616",
        "00",
        "true",
        "null",
        "\"\"",
        "A",
    ];

    prop_compose! {
        fn valid_line()(
            name in "[a-zA-Z][a-zA-Z0-9_-]{0,63}",
            (major, minor, patch) in (0u64..1000, 0u64..1000, 0u64..1000),
            pre in prop::option::of("[a-z][a-z0-9]{0,5}(\\.[1-9][0-9]{0,3})?"),
            build in prop::option::of("[a-zA-Z0-9]{1,6}"),
            cksum in "[0-9a-f]{64}",
            yanked in prop::option::of(any::<bool>()),
            v in prop::option::of(any::<u32>()),
            extra in prop::collection::btree_map("[a-z_0-9]{1,12}", json_value(), 0..6),
        ) -> Value {
            let mut vers = format!("{major}.{minor}.{patch}");
            if let Some(pre) = pre { vers.push('-'); vers.push_str(&pre); }
            if let Some(build) = build { vers.push('+'); vers.push_str(&build); }
            let mut map: Map<String, Value> = extra
                .into_iter()
                .filter(|(k, _)| !TYPED_FIELDS.contains(&k.as_str()))
                .collect();
            map.insert("name".into(), json!(name));
            map.insert("vers".into(), json!(vers));
            map.insert("cksum".into(), json!(cksum));
            if let Some(yanked) = yanked { map.insert("yanked".into(), json!(yanked)); }
            if let Some(v) = v { map.insert("v".into(), json!(v)); }
            Value::Object(map)
        }
    }

    proptest! {
        #[test]
        fn a_line_serializes_back_to_equal_json(input in valid_line()) {
            let text = input.to_string();
            let line = parse_index_line(&text).unwrap();
            // Compare with serde_json's own reading of the text: without its
            // `float_roundtrip` feature the last digit of a float may differ from
            // the generated value, for any parser built on it alike.
            let mut expected: Value = serde_json::from_str(&text).unwrap();
            if expected.get("yanked").is_none() {
                expected["yanked"] = json!(false);
            }
            prop_assert_eq!(line.to_json(), expected.clone());
            let again = serde_json::to_string(&line).unwrap();
            let reparsed = parse_index_line(&again).unwrap();
            prop_assert_eq!(&reparsed, &line);
            prop_assert_eq!(reparsed.vers.to_string(), input["vers"].as_str().unwrap());
        }

        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = parse_index_line(&s);
        }

        #[test]
        fn json_shaped_text_never_panics(s in r#"[{}\[\]",:0-9a-z\\ .e+-]{0,64}"#) {
            let _ = parse_index_line(&s);
        }

        #[test]
        fn check_agrees_with_parse_on_valid_lines(input in valid_line()) {
            let text = input.to_string();
            let parsed = parse_index_line(&text).unwrap();
            let checked = check_index_line(&text).unwrap();
            prop_assert_eq!(checked, IndexLine { extra: Map::new(), ..parsed });
        }

        #[test]
        fn check_agrees_with_parse_on_json_shaped_text(
            s in r#"[{}\[\]",:0-9a-z\\ .e+-]{0,64}"#
        ) {
            prop_assert_eq!(check_index_line(&s).map(|_| ()), parse_index_line(&s).map(|_| ()));
        }

        #[test]
        fn check_agrees_with_parse_on_mutated_lines(
            input in valid_line(),
            at in any::<prop::sample::Index>(),
            insert in r#"[{}\[\]",:0-9a-z\\ .e+-]{0,8}"#,
            cut in 0usize..4,
        ) {
            // A valid line with a few bytes replaced: mostly almost-valid JSON, the
            // kind where a walker that builds nothing could diverge.
            let text = input.to_string();
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + cut).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            let mutated = format!("{}{insert}{}", &text[..start], &text[end..]);
            prop_assert_eq!(
                check_index_line(&mutated).map(|l| (l.name, l.vers, l.cksum, l.yanked, l.v)),
                parse_index_line(&mutated).map(|l| (l.name, l.vers, l.cksum, l.yanked, l.v))
            );
        }

        #[test]
        fn check_agrees_with_parse_on_tricky_insertions(
            input in valid_line(),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(TRICKY.to_vec()), 0usize..3),
                1..4,
            ),
        ) {
            // A valid line with fragments a byte-level validator is likely to get
            // wrong spliced in: escapes, surrogates, repeated and nested keys,
            // numbers, whitespace, trailing commas, typed fields spelled otherwise.
            let mut text = input.to_string();
            for (at, insert, cut) in edits {
                let mut start = at.index(text.len() + 1);
                while !text.is_char_boundary(start) {
                    start -= 1;
                }
                let mut end = (start + cut).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text = format!("{}{insert}{}", &text[..start], &text[end..]);
            }
            prop_assert_eq!(
                check_index_line(&text).map(|l| (l.name, l.vers, l.cksum, l.yanked, l.v)),
                parse_index_line(&text).map(|l| (l.name, l.vers, l.cksum, l.yanked, l.v))
            );
        }

        #[test]
        fn check_agrees_with_parse_on_arbitrary_json(value in json_value(), dup in any::<bool>()) {
            let mut text = value.to_string();
            if dup && text.starts_with('{') && text.len() > 2 {
                // Repeat the object's first member.
                if let Some(first) = value.as_object().and_then(|m| m.iter().next()) {
                    text = format!("{{{}:{},{}", Value::from(first.0.as_str()), first.1, &text[1..]);
                }
            }
            prop_assert_eq!(check_index_line(&text).map(|_| ()), parse_index_line(&text).map(|_| ()));
        }

        #[test]
        fn arbitrary_json_values_never_panic(value in json_value()) {
            let _ = parse_index_line(&value.to_string());
            let _ = IndexLine::from_value(value);
        }
    }
}
