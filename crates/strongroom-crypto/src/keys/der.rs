//! A minimal DER reader, just enough to find the private integers inside the PKCS#8 documents
//! aws-lc writes (RSA `RSAPrivateKey`, EC `ECPrivateKey`), so `export` can hand out JWK parts
//! that aws-lc-rs has no getter for. It returns byte ranges into the document, never copies.
//! It never parses untrusted input: every document it reads was marshalled by aws-lc.

use std::ops::Range;

pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const INTEGER: u8 = 0x02;
pub(super) const OCTET_STRING: u8 = 0x04;

/// A cursor over the contents of one DER element (or a whole document).
pub(super) struct Reader<'a> {
    document: &'a [u8],
    position: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(document: &'a [u8]) -> Self {
        Self {
            document,
            position: 0,
            end: document.len(),
        }
    }

    /// Reads the next element, which must have `tag`; returns the range of its contents.
    pub(super) fn next(&mut self, tag: u8) -> Option<Range<usize>> {
        let header = self.document.get(self.position..self.end)?;
        let (&found_tag, rest) = header.split_first()?;
        let (&first_len, rest) = rest.split_first()?;
        let (len, len_bytes) = if first_len < 0x80 {
            (usize::from(first_len), 0)
        } else {
            let n_bytes = usize::from(first_len & 0x7f);
            if n_bytes == 0 || n_bytes > 4 {
                return None;
            }
            let len = rest
                .get(..n_bytes)?
                .iter()
                .fold(0usize, |acc, &byte| (acc << 8) | usize::from(byte));
            (len, n_bytes)
        };
        let start = self.position + 2 + len_bytes;
        let end = start.checked_add(len)?;
        if found_tag != tag || end > self.end {
            return None;
        }
        self.position = end;
        Some(start..end)
    }

    /// A reader over the contents `range` that `next` returned.
    pub(super) fn enter(&self, range: Range<usize>) -> Self {
        Self {
            document: self.document,
            position: range.start,
            end: range.end,
        }
    }

    /// Reads the next INTEGER as an unsigned magnitude: its range without leading zero bytes.
    pub(super) fn unsigned(&mut self) -> Option<Range<usize>> {
        let range = self.next(INTEGER)?;
        let bytes = self.document.get(range.clone())?;
        let n_zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
        Some(range.start + n_zeros..range.end)
    }
}

/// Enters a PKCS#8 `PrivateKeyInfo` and returns a reader over the algorithm-specific
/// private key (the contents of its `privateKey` OCTET STRING, itself one SEQUENCE).
pub(super) fn pkcs8_private_key(document: &[u8]) -> Option<Reader<'_>> {
    let mut outer = Reader::new(document);
    let info = outer.next(SEQUENCE)?;
    let mut info = outer.enter(info);
    info.next(INTEGER)?; // version
    info.next(SEQUENCE)?; // algorithm identifier
    let private_key = info.next(OCTET_STRING)?;
    let mut octets = info.enter(private_key);
    let inner = octets.next(SEQUENCE)?;
    Some(octets.enter(inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_refuses_overruns() {
        // SEQUENCE { INTEGER 0x00ff01, OCTET STRING (130 bytes, long-form length) }
        let mut document = vec![0x30, 0x81, 5 + 3 + 130, 0x02, 0x03, 0x00, 0xff, 0x01];
        document.extend_from_slice(&[0x04, 0x81, 130]);
        document.extend(std::iter::repeat_n(7u8, 130));
        let mut outer = Reader::new(&document);
        let sequence = outer.next(SEQUENCE).unwrap();
        let mut inner = outer.enter(sequence);
        assert_eq!(&document[inner.unsigned().unwrap()], &[0xff, 0x01]);
        let octets = inner.next(OCTET_STRING).unwrap();
        assert_eq!(octets.len(), 130);
        assert!(inner.next(INTEGER).is_none(), "nothing left");

        assert!(
            Reader::new(&[0x02, 0x05, 1, 2]).next(INTEGER).is_none(),
            "overrun"
        );
        assert!(
            Reader::new(&[0x04, 0x01, 1]).next(INTEGER).is_none(),
            "wrong tag"
        );
        assert!(
            Reader::new(&[0x02, 0x80]).next(INTEGER).is_none(),
            "indefinite"
        );
        assert!(Reader::new(&[]).next(INTEGER).is_none());
    }
}
