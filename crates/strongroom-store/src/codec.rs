//! Byte encodings for the composite values neither backend has a column type for (tags,
//! permission lists), shared so that both store the same bytes and a whole-deployment copy
//! moves rows between them unchanged.
//!
//! Hand-written rather than serde: each format is a run of length-prefixed UTF-8 strings
//! (LEB128 length, then the bytes), tiny and stable. The formats belong to the schema, so a
//! change here is a migration in every backend. Anything that does not decode is
//! `StoreError::Corrupt`.

use std::collections::BTreeMap;

use crate::StoreError;

/// Encodes tags as alternating key and value strings, in key order.
pub(crate) fn encode_tags(tags: &BTreeMap<String, String>) -> Vec<u8> {
    let n_bytes: usize = tags.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(n_bytes);
    for (key, value) in tags {
        put_str(&mut out, key);
        put_str(&mut out, value);
    }
    out
}

pub(crate) fn decode_tags(bytes: &[u8]) -> Result<BTreeMap<String, String>, StoreError> {
    let mut reader = Reader { rest: bytes };
    let mut tags = BTreeMap::new();
    while !reader.rest.is_empty() {
        let key = reader.string()?;
        let value = reader.string()?;
        tags.insert(key.to_owned(), value.to_owned());
    }
    Ok(tags)
}

/// Encodes a list of strings (access-policy permissions) in order.
pub(crate) fn encode_strings(items: &[String]) -> Vec<u8> {
    let n_bytes: usize = items.iter().map(|s| s.len() + 1).sum();
    let mut out = Vec::with_capacity(n_bytes);
    for item in items {
        put_str(&mut out, item);
    }
    out
}

pub(crate) fn decode_strings(bytes: &[u8]) -> Result<Vec<String>, StoreError> {
    let mut reader = Reader { rest: bytes };
    let mut items = Vec::new();
    while !reader.rest.is_empty() {
        items.push(reader.string()?.to_owned());
    }
    Ok(items)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let mut len = s.len();
    loop {
        #[allow(clippy::cast_possible_truncation, reason = "masked to 7 bits first")]
        let low = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn string(&mut self) -> Result<&'a str, StoreError> {
        let len = self.len()?;
        if len > self.rest.len() {
            return Err(StoreError::Corrupt(
                "a stored string is truncated".to_owned(),
            ));
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        std::str::from_utf8(head)
            .map_err(|_| StoreError::Corrupt("a stored string is not UTF-8".to_owned()))
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        let mut len: usize = 0;
        for shift in (0..usize::BITS).step_by(7) {
            let Some((&byte, tail)) = self.rest.split_first() else {
                break;
            };
            self.rest = tail;
            // `shift` stays below `usize::BITS`, so the shift cannot panic; bits pushed out
            // by a corrupt tenth byte give a wrong length, which the bounds check refuses.
            len |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(len);
            }
        }
        Err(StoreError::Corrupt(
            "a stored length is malformed".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        let mut tags = BTreeMap::new();
        assert_eq!(decode_tags(&encode_tags(&tags)).unwrap(), tags);
        tags.insert(String::new(), String::new());
        tags.insert("env".to_owned(), "prod".to_owned());
        tags.insert("ünï".to_owned(), "x".repeat(300));
        let bytes = encode_tags(&tags);
        assert_eq!(decode_tags(&bytes).unwrap(), tags);
    }

    #[test]
    fn strings_round_trip() {
        let items = vec![
            "get".to_owned(),
            String::new(),
            "a,b".to_owned(),
            "é".repeat(100),
        ];
        assert_eq!(decode_strings(&encode_strings(&items)).unwrap(), items);
        assert_eq!(decode_strings(&[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn length_prefix_is_leb128() {
        let mut out = Vec::new();
        put_str(&mut out, &"a".repeat(300));
        assert_eq!(&out[..2], &[0xac, 0x02]);
        assert_eq!(out.len(), 302);
    }

    #[test]
    fn corrupt_bytes_are_refused() {
        for bad in [
            &[0x05, b'a'][..],
            &[0x80][..],
            &[0x01, 0xff][..],
            &[0xff; 12][..],
        ] {
            assert!(
                matches!(decode_strings(bad), Err(StoreError::Corrupt(_))),
                "{bad:?} should be corrupt"
            );
        }
        // A key without its value.
        assert!(matches!(
            decode_tags(&[0x01, b'k']),
            Err(StoreError::Corrupt(_))
        ));
    }
}
