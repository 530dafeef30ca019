//! Distinguished names in the text form Key Vault uses for `x509_props.subject`: .NET's
//! `X500DistinguishedName` style, `CN=example.com, O=Contoso, S=Washington, C=US`.
//!
//! Both directions keep the order the text or the certificate has, so a subject we issue
//! reads back as it was written. x509-parser's own `Display` is close but not Azure's: it
//! writes `ST=` and `Email=` where .NET writes `S=` and `E=`, and never quotes a value with a
//! comma in it, which would then read back as two attributes.
//!
//! Accepted on input (case-insensitive): CN, O, OU, L, S or ST, C, E or EMAIL or
//! EMAILADDRESS, DC, STREET, SERIALNUMBER, T or TITLE, G or GN or GIVENNAME, SN or SURNAME,
//! and `OID.1.2.3` for anything else. Attributes are separated by `,` or `;`; a value may be
//! double-quoted (`O="Contoso, Ltd"`, `""` for a quote inside) or use backslash escapes.
//! A `+` is part of the value: rcgen writes one attribute per RDN, so multi-valued RDNs
//! cannot be issued (they are printed joined by ` + ` when a certificate has them). rcgen
//! also keeps one value per attribute type, so `DC=contoso, DC=com` is refused for issuance
//! (FIXME: lift both when rcgen's `DistinguishedName` can hold them).

use super::CertError;
use rcgen::{DistinguishedName, DnType, DnValue};
use x509_parser::asn1_rs::{Any, BmpString, Tag};
use x509_parser::x509::X509Name;

/// One attribute type we know by name: its OID, its .NET short name, and how its value is
/// encoded (RFC 5280 fixes PrintableString for countryName and serialNumber and IA5String
/// for emailAddress and domainComponent; everything else is UTF8String).
struct Attribute {
    oid: &'static [u64],
    name: &'static str,
    aliases: &'static [&'static str],
    encoding: Encoding,
}

#[derive(Clone, Copy)]
enum Encoding {
    Utf8,
    Printable,
    /// A PrintableString of two letters (ISO 3166 alpha-2).
    Country,
    Ia5,
}

const ATTRIBUTES: &[Attribute] = &[
    attribute(&[2, 5, 4, 3], "CN", &[], Encoding::Utf8),
    attribute(&[2, 5, 4, 10], "O", &[], Encoding::Utf8),
    attribute(&[2, 5, 4, 11], "OU", &[], Encoding::Utf8),
    attribute(&[2, 5, 4, 7], "L", &[], Encoding::Utf8),
    attribute(&[2, 5, 4, 8], "S", &["ST"], Encoding::Utf8),
    attribute(&[2, 5, 4, 6], "C", &[], Encoding::Country),
    attribute(
        &[1, 2, 840, 113_549, 1, 9, 1],
        "E",
        &["EMAIL", "EMAILADDRESS"],
        Encoding::Ia5,
    ),
    attribute(
        &[0, 9, 2342, 19_200_300, 100, 1, 25],
        "DC",
        &[],
        Encoding::Ia5,
    ),
    attribute(&[2, 5, 4, 9], "STREET", &[], Encoding::Utf8),
    attribute(&[2, 5, 4, 5], "SERIALNUMBER", &[], Encoding::Printable),
    attribute(&[2, 5, 4, 12], "T", &["TITLE"], Encoding::Utf8),
    attribute(&[2, 5, 4, 42], "G", &["GN", "GIVENNAME"], Encoding::Utf8),
    attribute(&[2, 5, 4, 4], "SN", &["SURNAME"], Encoding::Utf8),
];

const fn attribute(
    oid: &'static [u64],
    name: &'static str,
    aliases: &'static [&'static str],
    encoding: Encoding,
) -> Attribute {
    Attribute {
        oid,
        name,
        aliases,
        encoding,
    }
}

/// Parses Azure's subject text into the name rcgen writes, attribute by attribute in order.
pub(super) fn parse_subject(text: &str) -> Result<DistinguishedName, CertError> {
    let pairs = split_pairs(text)?;
    if pairs.is_empty() {
        return Err(bad("the subject is empty"));
    }
    let mut name = DistinguishedName::new();
    let mut seen: Vec<Vec<u64>> = Vec::with_capacity(pairs.len());
    for (attribute_type, value) in pairs {
        let (oid, encoding) = resolve(&attribute_type)?;
        // rcgen's `DistinguishedName` keeps one value per type, so a second `OU=` or `DC=`
        // would silently replace the first: refuse rather than issue another name.
        if seen.contains(&oid) {
            return Err(bad(format!(
                "{attribute_type} appears more than once, which cannot be issued"
            )));
        }
        seen.push(oid.clone());
        if value.is_empty() {
            return Err(bad(format!("{attribute_type} has an empty value")));
        }
        let value = encode(encoding, &attribute_type, value)?;
        name.push(DnType::from_oid(&oid), value);
    }
    Ok(name)
}

/// Azure's text for a certificate's subject or issuer.
pub(super) fn format_name(name: &X509Name<'_>) -> String {
    name.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let oid: Option<Vec<u64>> = attribute.attr_type().iter().map(Iterator::collect);
                    let label = oid
                        .as_deref()
                        .and_then(|oid| ATTRIBUTES.iter().find(|known| known.oid == oid))
                        .map_or_else(
                            || format!("OID.{}", attribute.attr_type().to_id_string()),
                            |known| known.name.to_owned(),
                        );
                    format!("{label}={}", quoted(&value_text(attribute.attr_value())))
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn bad(reason: impl Into<String>) -> CertError {
    CertError::BadSubject(reason.into())
}

/// `type=value` pairs, values unquoted and unescaped, both trimmed.
fn split_pairs(text: &str) -> Result<Vec<(String, String)>, CertError> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut attribute_type = String::new();
        loop {
            match chars.next() {
                Some('=') => break,
                Some(',' | ';') | None if attribute_type.trim().is_empty() && pairs.is_empty() => {
                    return Ok(pairs);
                }
                Some(',' | ';') | None => {
                    return Err(bad(format!(
                        "{:?} is not of the form TYPE=value",
                        attribute_type.trim()
                    )));
                }
                Some(c) => attribute_type.push(c),
            }
        }
        let attribute_type = attribute_type.trim().to_owned();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => value.push('"'),
                    Some('"') => break,
                    Some('\\') => value.push(chars.next().ok_or_else(|| bad("a trailing \\"))?),
                    Some(c) => value.push(c),
                    None => return Err(bad(format!("{attribute_type} has an unclosed quote"))),
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            match chars.next() {
                None => {
                    pairs.push((attribute_type, value));
                    return Ok(pairs);
                }
                Some(',' | ';') => pairs.push((attribute_type, value)),
                Some(_) => {
                    return Err(bad(format!(
                        "{attribute_type} has text after its closing quote"
                    )));
                }
            }
        } else {
            // Escaped characters are kept even at the ends, where trimming would drop them.
            let mut kept_len = 0;
            let finished = loop {
                match chars.next() {
                    None => break true,
                    Some(',' | ';') => break false,
                    Some('\\') => {
                        value.push(chars.next().ok_or_else(|| bad("a trailing \\"))?);
                        kept_len = value.len();
                    }
                    Some(c) => {
                        value.push(c);
                        if !c.is_whitespace() {
                            kept_len = value.len();
                        }
                    }
                }
            };
            value.truncate(kept_len);
            pairs.push((attribute_type, value));
            if finished {
                return Ok(pairs);
            }
        }
    }
}

fn resolve(attribute_type: &str) -> Result<(Vec<u64>, Encoding), CertError> {
    let upper = attribute_type.to_ascii_uppercase();
    if let Some(known) = ATTRIBUTES
        .iter()
        .find(|known| known.name == upper || known.aliases.contains(&upper.as_str()))
    {
        return Ok((known.oid.to_vec(), known.encoding));
    }
    let dotted = upper.strip_prefix("OID.").unwrap_or(&upper);
    let oid = parse_oid(dotted)
        .ok_or_else(|| bad(format!("{attribute_type:?} is not a known attribute type")))?;
    let encoding = ATTRIBUTES
        .iter()
        .find(|known| known.oid == oid.as_slice())
        .map_or(Encoding::Utf8, |known| known.encoding);
    Ok((oid, encoding))
}

/// A dotted OID with at least two arcs and a first arc of 0, 1 or 2.
pub(super) fn parse_oid(dotted: &str) -> Option<Vec<u64>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|arc| {
            // `u64::from_str` takes a leading `+`; an OID arc is digits only.
            if arc.is_empty() || !arc.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                arc.parse().ok()
            }
        })
        .collect::<Option<_>>()?;
    let valid = arcs.len() >= 2 && arcs[0] <= 2 && (arcs[0] == 2 || arcs[1] < 40);
    valid.then_some(arcs)
}

fn encode(encoding: Encoding, attribute_type: &str, value: String) -> Result<DnValue, CertError> {
    let not_allowed = |what: &str| bad(format!("{attribute_type} must be {what}"));
    match encoding {
        Encoding::Utf8 => Ok(DnValue::Utf8String(value)),
        Encoding::Country => {
            if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(not_allowed("a two-letter country code"));
            }
            value
                .try_into()
                .map(DnValue::PrintableString)
                .map_err(|_| not_allowed("a two-letter country code"))
        }
        Encoding::Printable => value
            .try_into()
            .map(DnValue::PrintableString)
            .map_err(|_| not_allowed("printable ASCII")),
        Encoding::Ia5 => value
            .try_into()
            .map(DnValue::Ia5String)
            .map_err(|_| not_allowed("ASCII")),
    }
}

/// The value as text: string types as themselves, anything else as `#` and the hex of its
/// contents (RFC 4514 would hex the whole encoding; no Azure name has such values).
fn value_text(value: &Any<'_>) -> String {
    match value.tag() {
        Tag::BmpString => BmpString::try_from(value.clone())
            .map(|bmp| bmp.string())
            .unwrap_or_else(|_| hex_value(value)),
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String => {
            std::str::from_utf8(value.data).map_or_else(|_| hex_value(value), str::to_owned)
        }
        _ => hex_value(value),
    }
}

fn hex_value(value: &Any<'_>) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("#");
    for byte in value.data {
        let _ = write!(text, "{byte:02X}");
    }
    text
}

/// Quotes a value that would not read back as one value otherwise (.NET quotes the same way,
/// doubling a quote inside).
fn quoted(value: &str) -> String {
    let needs_quotes = value.is_empty()
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
        || value.contains([',', ';', '"', '+', '\\', '=']);
    if needs_quotes {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
