//! PKCS#11 URIs (RFC 7512): which module, token and key a `--key pkcs11:...` names.
//!
//! ```text
//! pkcs11:token=root-alice;object=tuf-root;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so
//! ```
//!
//! Supported path attributes (RFC 7512 §2.3): `token`, `manufacturer`, `model`, `serial`
//! (the token), `slot-id` (the slot), `object` (`CKA_LABEL`), `id` (`CKA_ID`, bytes),
//! `type` (`private`, `public`, `cert`, `secret-key`, `data`). Query attributes:
//! `module-path`.
//!
//! Refused, with a message saying what to do instead:
//! * `pin-value` and `pin-source`: a PIN in a URI ends up in shell history, process lists
//!   and logs; `tuf` asks on the terminal or reads `--pin-env NAME`.
//! * `module-name`: resolving a bare name against a platform's library directories is a
//!   guess; give `module-path` (or `TUF_PKCS11_MODULE`).
//! * any other attribute (`library-*`, `slot-description`, `slot-manufacturer`, vendor
//!   `x-*`, unknown ones): a URI with a constraint we would silently ignore could name a
//!   key other than the one meant (RFC 7512 §3.3: a URI consumer that cannot honour an
//!   attribute must not treat the URI as matching).
//!
//! Values are percent-decoded (RFC 7512 §2.3, RFC 3986 §2.1); an attribute may appear
//! once (RFC 7512 §2.3). [`Pkcs11Uri`]'s `Display` writes the URI back percent-encoded,
//! and parsing what it writes gives the same value.

use std::fmt;
use std::path::PathBuf;

/// The URI scheme, with its colon.
pub const SCHEME: &str = "pkcs11:";

/// A URI longer than this is not a key reference anyone typed.
pub const MAX_URI_BYTES: usize = 4096;

/// A parsed PKCS#11 URI: every field is a constraint that must match, `None` matches
/// anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// Token label (`CK_TOKEN_INFO.label`).
    pub token: Option<String>,
    /// Token manufacturer (`CK_TOKEN_INFO.manufacturerID`).
    pub manufacturer: Option<String>,
    /// Token model (`CK_TOKEN_INFO.model`).
    pub model: Option<String>,
    /// Token serial number (`CK_TOKEN_INFO.serialNumber`).
    pub serial: Option<String>,
    /// Slot id (`CK_SLOT_ID`, decimal).
    pub slot_id: Option<u64>,
    /// Object label (`CKA_LABEL`).
    pub object: Option<String>,
    /// Object id (`CKA_ID`), raw bytes.
    pub id: Option<Vec<u8>>,
    /// Object class.
    pub object_type: Option<ObjectType>,
    /// The module to load (`module-path`).
    pub module_path: Option<PathBuf>,
}

/// `type=` of a PKCS#11 URI (RFC 7512 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `private`: a private key.
    Private,
    /// `public`: a public key.
    Public,
    /// `cert`: a certificate.
    Cert,
    /// `secret-key`: a secret key.
    SecretKey,
    /// `data`: a data object.
    Data,
}

impl ObjectType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Public => "public",
            Self::Cert => "cert",
            Self::SecretKey => "secret-key",
            Self::Data => "data",
        }
    }
}

/// Why a PKCS#11 URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// It does not start with `pkcs11:`.
    #[error("not a PKCS#11 URI: it must start with `pkcs11:`")]
    NotPkcs11,
    /// It is longer than [`MAX_URI_BYTES`].
    #[error("the PKCS#11 URI is {found} bytes, over the limit of {limit}")]
    TooLong {
        /// Its length.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// It has a `#fragment`, which RFC 7512 does not define.
    #[error("a PKCS#11 URI has no `#` part; percent-encode a `#` in a value as %23")]
    Fragment,
    /// An attribute is not `name=value`.
    #[error("`{part}` is not an attribute `name=value`")]
    NotAnAttribute {
        /// The offending part, percent-encoded as found.
        part: String,
    },
    /// A `%` is not followed by two hex digits.
    #[error("attribute `{attribute}` has a `%` not followed by two hex digits")]
    BadPercentEncoding {
        /// The attribute.
        attribute: String,
    },
    /// A text attribute does not decode to UTF-8.
    #[error("attribute `{attribute}` does not decode to UTF-8 text")]
    NotUtf8 {
        /// The attribute.
        attribute: String,
    },
    /// An attribute appears twice (RFC 7512 §2.3 allows it once).
    #[error("attribute `{attribute}` appears more than once")]
    Duplicate {
        /// The attribute.
        attribute: String,
    },
    /// `pin-value` or `pin-source`: a PIN does not belong in a URI.
    #[error(
        "the URI carries a PIN (`{attribute}`): a PIN in a URI ends up in shell history, \
         process lists and logs. Remove it; `tuf` asks for the PIN on the terminal, or \
         reads it from the variable named by --pin-env NAME"
    )]
    PinInUri {
        /// `pin-value` or `pin-source`.
        attribute: String,
    },
    /// `module-name`: only `module-path` is supported.
    #[error(
        "`module-name` is not supported: give the module's file as \
         `?module-path=/path/to/module.so` (or set TUF_PKCS11_MODULE)"
    )]
    ModuleName,
    /// An attribute this implementation does not honour.
    #[error(
        "attribute `{attribute}` is not supported (a constraint that were ignored could \
         pick another key); use token, manufacturer, model, serial, slot-id, object, id, \
         type and module-path"
    )]
    Unsupported {
        /// The attribute.
        attribute: String,
    },
    /// `slot-id` is not a decimal number.
    #[error("slot-id `{value}` is not a decimal number")]
    BadSlotId {
        /// The value found.
        value: String,
    },
    /// `type` is not one RFC 7512 defines.
    #[error("type `{value}` is not one of private, public, cert, secret-key, data")]
    BadType {
        /// The value found.
        value: String,
    },
    /// A value is empty (`token=`): it would match nothing RFC 7512 defines usefully.
    #[error("attribute `{attribute}` has an empty value")]
    Empty {
        /// The attribute.
        attribute: String,
    },
}

impl Pkcs11Uri {
    /// Parse `text` (RFC 7512 §2.3). The scheme is case-insensitive (RFC 3986 §3.1).
    pub fn parse(text: &str) -> Result<Self, UriError> {
        if text.len() > MAX_URI_BYTES {
            return Err(UriError::TooLong {
                found: text.len(),
                limit: MAX_URI_BYTES,
            });
        }
        let rest = text
            .get(..SCHEME.len())
            .filter(|s| s.eq_ignore_ascii_case(SCHEME))
            .and_then(|_| text.get(SCHEME.len()..))
            .ok_or(UriError::NotPkcs11)?;
        if rest.contains('#') {
            return Err(UriError::Fragment);
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (part, in_query) in path
            .split(';')
            .map(|p| (p, false))
            .chain(query.split('&').map(|p| (p, true)))
        {
            if part.is_empty() {
                // `pkcs11:` alone, or a trailing `;`: nothing to constrain.
                continue;
            }
            let (name, raw) = part
                .split_once('=')
                .ok_or_else(|| UriError::NotAnAttribute {
                    part: part.to_owned(),
                })?;
            if seen.iter().any(|s| s == name) {
                return Err(UriError::Duplicate {
                    attribute: name.to_owned(),
                });
            }
            seen.push(name.to_owned());
            uri.set(name, raw, in_query)?;
        }
        Ok(uri)
    }

    /// Set one attribute from its percent-encoded value.
    fn set(&mut self, name: &str, raw: &str, in_query: bool) -> Result<(), UriError> {
        let bytes = percent_decode(raw).ok_or_else(|| UriError::BadPercentEncoding {
            attribute: name.to_owned(),
        })?;
        let text = || {
            if bytes.is_empty() {
                return Err(UriError::Empty {
                    attribute: name.to_owned(),
                });
            }
            String::from_utf8(bytes.clone()).map_err(|_| UriError::NotUtf8 {
                attribute: name.to_owned(),
            })
        };
        match (name, in_query) {
            ("pin-value" | "pin-source", _) => {
                return Err(UriError::PinInUri {
                    attribute: name.to_owned(),
                })
            }
            ("module-name", true) => return Err(UriError::ModuleName),
            ("module-path", true) => self.module_path = Some(PathBuf::from(text()?)),
            ("token", false) => self.token = Some(text()?),
            ("manufacturer", false) => self.manufacturer = Some(text()?),
            ("model", false) => self.model = Some(text()?),
            ("serial", false) => self.serial = Some(text()?),
            ("object", false) => self.object = Some(text()?),
            ("slot-id", false) => {
                let value = text()?;
                let digits_only = value.bytes().all(|b| b.is_ascii_digit());
                self.slot_id = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|_| digits_only)
                        .ok_or(UriError::BadSlotId { value })?,
                );
            }
            ("id", false) => {
                if bytes.is_empty() {
                    return Err(UriError::Empty {
                        attribute: name.to_owned(),
                    });
                }
                self.id = Some(bytes);
            }
            ("type", false) => {
                let value = text()?;
                self.object_type = Some(match value.as_str() {
                    "private" => ObjectType::Private,
                    "public" => ObjectType::Public,
                    "cert" => ObjectType::Cert,
                    "secret-key" => ObjectType::SecretKey,
                    "data" => ObjectType::Data,
                    _ => return Err(UriError::BadType { value }),
                });
            }
            _ => {
                return Err(UriError::Unsupported {
                    attribute: name.to_owned(),
                })
            }
        }
        Ok(())
    }

    /// The same URI without `module-path`: what names the key on the token, for messages.
    pub fn without_module(&self) -> Self {
        Self {
            module_path: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The URI, percent-encoded so that [`Pkcs11Uri::parse`] reads back the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SCHEME)?;
        let mut path: Vec<(&str, String)> = Vec::new();
        let text = |s: &String| percent_encode(s.as_bytes(), false);
        if let Some(v) = &self.manufacturer {
            path.push(("manufacturer", text(v)));
        }
        if let Some(v) = &self.model {
            path.push(("model", text(v)));
        }
        if let Some(v) = &self.serial {
            path.push(("serial", text(v)));
        }
        if let Some(v) = &self.slot_id {
            path.push(("slot-id", v.to_string()));
        }
        if let Some(v) = &self.token {
            path.push(("token", text(v)));
        }
        if let Some(v) = &self.object {
            path.push(("object", text(v)));
        }
        if let Some(v) = &self.id {
            // Every byte encoded: an id is binary (RFC 7512 §2.3 example `id=%01%02`).
            path.push(("id", v.iter().map(|b| format!("%{b:02X}")).collect()));
        }
        if let Some(v) = self.object_type {
            path.push(("type", v.as_str().to_owned()));
        }
        for (i, (name, value)) in path.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{name}={value}")?;
        }
        if let Some(module) = &self.module_path {
            let module = module.to_string_lossy();
            write!(
                f,
                "?module-path={}",
                percent_encode(module.as_bytes(), true)
            )?;
        }
        Ok(())
    }
}

/// Decode `%XX` escapes; `None` for a `%` without two hex digits after it.
fn percent_decode(raw: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex_value)?;
            let lo = bytes.next().and_then(hex_value)?;
            out.push(hi << 4 | lo);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encode all but RFC 3986 unreserved characters (and `/` in the query, which
/// RFC 7512's `pk11-qchar` allows, so module paths stay readable).
fn percent_encode(bytes: &[u8], query: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (query && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_examples_and_ours() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=root-alice;object=tuf-root?module-path=/usr/lib/softhsm/libsofthsm2.so",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("root-alice"));
        assert_eq!(uri.object.as_deref(), Some("tuf-root"));
        assert_eq!(
            uri.module_path.as_deref(),
            Some(std::path::Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        // RFC 7512 §3 examples.
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;\
             type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=",
        );
        // `serial=` is empty: refused rather than matching every token.
        assert_eq!(
            uri.unwrap_err(),
            UriError::Empty {
                attribute: "serial".into()
            }
        );
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;\
             type=cert;id=%69%95%3E%5C%F4%BD%EC%91",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(uri.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(uri.object_type, Some(ObjectType::Cert));
        assert_eq!(
            uri.id.as_deref(),
            Some(&[0x69, 0x95, 0x3E, 0x5C, 0xF4, 0xBD, 0xEC, 0x91][..])
        );
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        assert_eq!(
            Pkcs11Uri::parse("PKCS11:slot-id=7").unwrap().slot_id,
            Some(7)
        );
    }

    #[test]
    fn display_parses_back_to_the_same_uri() {
        let uri = Pkcs11Uri {
            token: Some("a;b=c?d&e/f%g h#".into()),
            manufacturer: Some("Yubico".into()),
            model: Some("YubiKey YK5".into()),
            serial: Some("1234".into()),
            slot_id: Some(3),
            object: Some("Private key for Digital Signature".into()),
            id: Some(vec![0, 2, 0xff]),
            object_type: Some(ObjectType::Private),
            module_path: Some("/usr/lib/x86_64-linux-gnu/libykcs11.so".into()),
        };
        let text = uri.to_string();
        assert!(text.contains("?module-path=/usr/lib/x86_64-linux-gnu/libykcs11.so"));
        assert!(text.contains("id=%00%02%FF"));
        assert_eq!(Pkcs11Uri::parse(&text).unwrap(), uri);
        assert!(!uri.without_module().to_string().contains("module-path"));
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let cases: &[(&str, UriError)] = &[
            ("file:/x", UriError::NotPkcs11),
            ("pkcs1", UriError::NotPkcs11),
            ("pkcs11:token=a#frag", UriError::Fragment),
            (
                "pkcs11:token",
                UriError::NotAnAttribute {
                    part: "token".into(),
                },
            ),
            (
                "pkcs11:token=a%2",
                UriError::BadPercentEncoding {
                    attribute: "token".into(),
                },
            ),
            (
                "pkcs11:token=a%zz",
                UriError::BadPercentEncoding {
                    attribute: "token".into(),
                },
            ),
            (
                "pkcs11:token=%FF",
                UriError::NotUtf8 {
                    attribute: "token".into(),
                },
            ),
            (
                "pkcs11:token=a;token=b",
                UriError::Duplicate {
                    attribute: "token".into(),
                },
            ),
            (
                "pkcs11:token=a?pin-value=1234",
                UriError::PinInUri {
                    attribute: "pin-value".into(),
                },
            ),
            (
                "pkcs11:token=a?pin-source=file:/pin",
                UriError::PinInUri {
                    attribute: "pin-source".into(),
                },
            ),
            ("pkcs11:token=a?module-name=softhsm2", UriError::ModuleName),
            (
                "pkcs11:library-manufacturer=x",
                UriError::Unsupported {
                    attribute: "library-manufacturer".into(),
                },
            ),
            (
                "pkcs11:x-vendor=1",
                UriError::Unsupported {
                    attribute: "x-vendor".into(),
                },
            ),
            (
                // A path attribute in the query is not the path attribute.
                "pkcs11:?token=a",
                UriError::Unsupported {
                    attribute: "token".into(),
                },
            ),
            (
                "pkcs11:slot-id=+1",
                UriError::BadSlotId { value: "+1".into() },
            ),
            (
                "pkcs11:slot-id=99999999999999999999999",
                UriError::BadSlotId {
                    value: "99999999999999999999999".into(),
                },
            ),
            (
                "pkcs11:type=secret",
                UriError::BadType {
                    value: "secret".into(),
                },
            ),
            (
                "pkcs11:id=",
                UriError::Empty {
                    attribute: "id".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Pkcs11Uri::parse(text).as_ref(), Err(expected), "{text}");
        }
        let long = format!("pkcs11:token={}", "a".repeat(MAX_URI_BYTES));
        assert!(matches!(
            Pkcs11Uri::parse(&long),
            Err(UriError::TooLong { .. })
        ));
        // The PIN is never echoed back in the error.
        let e = Pkcs11Uri::parse("pkcs11:token=a?pin-value=s3cret").unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
