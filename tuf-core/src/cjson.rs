//! OLPC canonical JSON, the byte form TUF signs (TUF §4.2, "canonical JSON").
//!
//! Two halves:
//!
//! * [`parse`] reads untrusted JSON strictly into an untyped [`serde_json::Value`]: a
//!   number that is not an integer and an object key that appears twice are refused, since
//!   the canonical form has no floats and a repeated key means two parsers may see two
//!   different documents behind one signature.
//! * [`to_canonical`] writes a value in canonical form: keys sorted, no insignificant
//!   whitespace, integers only, and only `"` and `\` escaped; every other byte of a string
//!   is written as it is (UTF-8), control characters included.
//!
//! # Deviation from `olpc-cjson`, and why
//!
//! The `olpc-cjson` crate (used by tough) rewrites every string to Unicode NFC and sorts
//! keys by their *escaped* bytes. The OLPC text says strings are "uninterpreted bytes" and
//! keys are "in lexicographically sorted order", and the reference implementation
//! (securesystemslib's `encode_canonical`, used by python-tuf) sorts by code point and
//! never normalises. A signature made by python-tuf over a non-NFC string, or an object
//! whose keys contain `"` or `\`, would fail to verify through `olpc-cjson`. So the writer
//! here follows the reference; a property test checks it agrees byte for byte with
//! `olpc-cjson` on every input where the two rules coincide.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::Error;

/// Parse `bytes` as strict JSON for signed metadata.
///
/// Refuses floats and integers outside `i64`/`u64` ([`Error::Float`]), repeated object
/// keys ([`Error::DuplicateKey`]), nesting deeper than `max_depth` ([`Error::TooDeep`]),
/// and anything that is not JSON ([`Error::Json`]).
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Value, Error> {
    let ctx = Ctx {
        error: RefCell::new(None),
        depth: Cell::new(0),
        max_depth,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = ValueSeed { ctx: &ctx }.deserialize(&mut de);
    let parsed = parsed.and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(value) => Ok(value),
        Err(json_err) => Err(ctx.error.into_inner().unwrap_or(Error::Json {
            reason: json_err.to_string(),
        })),
    }
}

/// The canonical form of `value` (see the module documentation).
///
/// Fails with [`Error::Float`] if `value` holds a number that is not an integer (possible
/// only for a value built in code, never for one from [`parse`]).
pub fn to_canonical(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// Append the canonical form of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), Error> {
    write_value(value, out, Strings::Canonical)
}

/// The form this crate writes metadata *files* in: the canonical form, except that
/// control characters inside strings are written as `\u00XX` escapes.
///
/// Canonical JSON writes control characters raw, which RFC 8259 parsers (serde_json
/// included) refuse; a file must stay readable by any JSON parser. For metadata without
/// control characters (all metadata in practice) the two forms are byte-identical, and a
/// reader's canonical form of what it parsed is the same either way.
pub fn to_file_form(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out, Strings::JsonSafe)?;
    Ok(out)
}

#[derive(Clone, Copy)]
enum Strings {
    Canonical,
    JsonSafe,
}

fn write_value(value: &Value, out: &mut Vec<u8>, strings: Strings) -> Result<(), Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                write_integer(out, i.unsigned_abs(), i < 0);
            } else if let Some(u) = n.as_u64() {
                write_integer(out, u, false);
            } else {
                return Err(Error::Float {
                    found: n.to_string(),
                });
            }
        }
        Value::String(s) => write_string(s, out, strings),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, strings)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted by the keys' UTF-8 bytes, which is code point order, as
            // securesystemslib's `sorted(obj.keys())` does. serde_json's map (a B-tree of
            // `String`s, whose order is that byte order) usually iterates sorted already;
            // only another order is collected and sorted.
            out.push(b'{');
            let mut previous: Option<&String> = None;
            let sorted = map.keys().all(|key| {
                let in_order = previous.map_or(true, |p| p.as_bytes() < key.as_bytes());
                previous = Some(key);
                in_order
            });
            let mut entries: Vec<(&String, &Value)> = Vec::new();
            if !sorted {
                entries = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            }
            let items: Box<dyn Iterator<Item = (&String, &Value)>> = if sorted {
                Box::new(map.iter())
            } else {
                Box::new(entries.into_iter())
            };
            for (i, (key, item)) in items.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out, strings);
                out.push(b':');
                write_value(item, out, strings)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Serialize any `Serialize` value to canonical JSON (through an untyped value, so unknown
/// fields kept in a flattened map are written like any other).
pub fn to_canonical_from<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let value = serde_json::to_value(value).map_err(|e| Error::Json {
        reason: e.to_string(),
    })?;
    to_canonical(&value)
}

/// Append the decimal form of `magnitude`, with a `-` when `negative`, without allocating.
pub(crate) fn write_integer(out: &mut Vec<u8>, magnitude: u64, negative: bool) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = magnitude;
    loop {
        at -= 1;
        // INVARIANT: `rest % 10` < 10, so the cast is exact; u64::MAX has 20 digits, so
        // `at` never goes below 0.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (rest % 10) as u8;
        digits[at] = b'0' + digit;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

fn write_string(s: &str, out: &mut Vec<u8>, strings: Strings) {
    out.push(b'"');
    // Most strings (names, hex digests, dates) need no escape: copy them whole.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b <= 0x1f) {
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for &byte in s.as_bytes() {
        match (byte, strings) {
            (b'"' | b'\\', _) => out.extend_from_slice(&[b'\\', byte]),
            (0..=0x1f, Strings::JsonSafe) => {
                out.extend_from_slice(format!("\\u{byte:04x}").as_bytes());
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

struct Ctx {
    error: RefCell<Option<Error>>,
    depth: Cell<usize>,
    max_depth: usize,
}

impl Ctx {
    fn fail<E: de::Error>(&self, error: Error) -> E {
        let message = error.to_string();
        *self.error.borrow_mut() = Some(error);
        E::custom(message)
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        let depth = self.depth.get().saturating_add(1);
        if depth > self.max_depth {
            return Err(self.fail(Error::TooDeep {
                limit: self.max_depth,
            }));
        }
        self.depth.set(depth);
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }
}

#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    ctx: &'a Ctx,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Err(self.ctx.fail(Error::Float {
            found: v.to_string(),
        }))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.ctx.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        self.ctx.leave();
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.ctx.enter()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(self.ctx.fail(Error::DuplicateKey { key }));
            }
            let item = map.next_value_seed(self)?;
            object.insert(key, item);
        }
        self.ctx.leave();
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;

    fn canon(text: &str) -> Result<String, Error> {
        let value = parse(text.as_bytes(), 64)?;
        Ok(String::from_utf8(to_canonical(&value)?).expect("utf8 in, utf8 out"))
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        assert_eq!(
            canon(r#" { "b" : 1, "a" : [ true, null, "x" ] } "#).unwrap(),
            r#"{"a":[true,null,"x"],"b":1}"#
        );
    }

    #[test]
    fn escapes_only_quote_and_backslash() {
        assert_eq!(
            canon(r#""a\"b\\c\n\t\u0001/""#).unwrap(),
            "\"a\\\"b\\\\c\n\t\u{1}/\""
        );
    }

    #[test]
    fn file_form_escapes_control_characters_only() {
        let value = parse(br#"{"k":"a\u0001b\n\"/"}"#, 64).unwrap();
        assert_eq!(to_canonical(&value).unwrap(), b"{\"k\":\"a\x01b\n\\\"/\"}");
        assert_eq!(
            to_file_form(&value).unwrap(),
            br#"{"k":"a\u0001b\u000a\"/"}"#
        );
    }

    #[test]
    fn keeps_unicode_bytes_unnormalised() {
        // "e" + combining acute (NFD) stays as it is; olpc-cjson would make it NFC.
        assert_eq!(canon("\"e\\u0301\"").unwrap(), "\"e\u{301}\"");
    }

    #[test]
    fn sorts_by_code_point_not_by_escaped_form() {
        // Raw order: `a"` (0x22) < `a#` (0x23); escaped order would put `a#` first.
        assert_eq!(canon(r#"{"a#":1,"a\"":2}"#).unwrap(), r#"{"a\"":2,"a#":1}"#);
    }

    #[test]
    fn integers_at_the_edges() {
        assert_eq!(
            canon("18446744073709551615").unwrap(),
            "18446744073709551615"
        );
        assert_eq!(
            canon("-9223372036854775808").unwrap(),
            "-9223372036854775808"
        );
        assert_eq!(canon("18446744073709551616").unwrap_err().code(), "float");
        assert_eq!(canon("-9223372036854775809").unwrap_err().code(), "float");
    }

    #[test]
    fn refuses_floats() {
        for text in ["1.0", "1e2", "-0.5", r#"{"a":[1.5]}"#] {
            assert_eq!(canon(text).unwrap_err().code(), "float", "{text}");
        }
    }

    #[test]
    fn refuses_duplicate_keys_at_any_depth() {
        let err = canon(r#"{"a":{"b":1,"b":2}}"#).unwrap_err();
        assert!(
            matches!(err, Error::DuplicateKey { ref key } if key == "b"),
            "{err}"
        );
    }

    #[test]
    fn refuses_deep_nesting_and_trailing_data() {
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert_eq!(canon(&deep).unwrap_err().code(), "too-deep");
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(canon(&ok).is_ok());
        assert_eq!(canon("{} {}").unwrap_err().code(), "json");
        assert_eq!(canon("{").unwrap_err().code(), "json");
        assert_eq!(parse(b"\"\xff\"", 64).unwrap_err().code(), "json");
    }

    fn olpc(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut out, olpc_cjson::CanonicalFormatter::new());
        value.serialize(&mut ser).expect("serializes");
        out
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        // Strings from a set that is NFC and has no `"` / `\`, where the two rules agree.
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "[a-zA-Z0-9 _/\\-\u{e9}\u{4e2d}\u{1f600}\n\t\u{1}]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z0-9_\u{e9}]{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_round_trips(value in arb_json()) {
            // The file form parses back to the same value, whose canonical form is the
            // canonical form of the original: what a verifier computes equals what the
            // signer signed.
            let file = to_file_form(&value).unwrap();
            let reparsed = parse(&file, 64).unwrap();
            prop_assert_eq!(&reparsed, &value);
            prop_assert_eq!(to_canonical(&reparsed).unwrap(), to_canonical(&value).unwrap());
            // Canonical form is a fixed point wherever it is itself valid JSON.
            let canonical = to_canonical(&value).unwrap();
            if !canonical.iter().any(|b| *b < 0x20) {
                prop_assert_eq!(&canonical, &file);
                prop_assert_eq!(to_canonical(&parse(&canonical, 64).unwrap()).unwrap(), canonical);
            }
        }

        #[test]
        fn agrees_with_olpc_cjson_where_rules_coincide(value in arb_json()) {
            prop_assert_eq!(to_canonical(&value).unwrap(), olpc(&value));
        }

        #[test]
        fn pretty_and_compact_inputs_have_one_canonical_form(value in arb_json()) {
            let pretty = serde_json::to_vec_pretty(&value).unwrap();
            let compact = serde_json::to_vec(&value).unwrap();
            prop_assert_eq!(
                to_canonical(&parse(&pretty, 64).unwrap()).unwrap(),
                to_canonical(&parse(&compact, 64).unwrap()).unwrap()
            );
        }

        #[test]
        fn parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&bytes, 64);
        }
    }
}
