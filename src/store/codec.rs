//! The byte envelope around every stored record: `[MAGIC (2 bytes) | record version (u8) | body]`,
//! the body being serde_json.
//!
//! Why an envelope: the magic catches a value written by something that is not this codec (a
//! bug, a foreign tool, a table opened with the wrong layout), and the version byte is checked
//! *before* the body is parsed, so a record written by a newer Bert is refused with a clear error
//! instead of being half-understood.
//!
//! Why JSON: a personal bot stores little, JSON is readable with any tool when something goes
//! wrong with real money, and it is self-describing, so a field added later with
//! `#[serde(default)]` reads old rows without a version bump. Decimals are strings (the domain's
//! serde does that), so no precision is lost. A change that old rows cannot be read through
//! (renamed or retyped field) bumps [`RECORD_VERSION`] and teaches [`decode`] the old layout.
//!
//! Decoding never panics: every failure is [`StoreError::Corrupt`] naming the table and key.

use super::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first two bytes of every record ("Bt").
pub const MAGIC: [u8; 2] = *b"Bt";
/// The body layout this Bert writes. Version 1: serde_json of the record type.
pub const RECORD_VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1;

/// Serializes `value` into an envelope. `what` names the record for the error message.
pub fn encode<T: Serialize + ?Sized>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&MAGIC);
    out.push(RECORD_VERSION);
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Encode { what, detail: e.to_string() })?;
    Ok(out)
}

/// Checks the envelope of a record read from `table` at `key` and returns its JSON body.
pub fn body<'b>(table: &str, key: &dyn std::fmt::Display, bytes: &'b [u8]) -> Result<&'b [u8], StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt { table: table.to_string(), key: key.to_string(), detail };
    if bytes.len() < HEADER_LEN {
        return Err(corrupt(format!("record of {} bytes is shorter than its header", bytes.len())));
    }
    if bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt(format!("bad magic {:02x?} (expected {:02x?})", &bytes[..MAGIC.len()], MAGIC)));
    }
    match bytes[MAGIC.len()] {
        RECORD_VERSION => Ok(&bytes[HEADER_LEN..]),
        v => Err(corrupt(format!(
            "record version {v} is not one this Bert can read (it reads {RECORD_VERSION}); was it written by a newer Bert?"
        ))),
    }
}

/// Decodes a record read from `table` at `key`.
pub fn decode<T: DeserializeOwned>(table: &str, key: &dyn std::fmt::Display, bytes: &[u8]) -> Result<T, StoreError> {
    let body = body(table, key, bytes)?;
    serde_json::from_slice(body).map_err(|e| StoreError::Corrupt {
        table: table.to_string(),
        key: key.to_string(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineMeta;
    use proptest::prelude::*;

    fn corrupt_detail(r: Result<EngineMeta, StoreError>) -> String {
        match r {
            Err(StoreError::Corrupt { table, key, detail }) => {
                assert_eq!((table.as_str(), key.as_str()), ("t", "k"));
                detail
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        let meta = EngineMeta { paused: true, next_position: 7, breaker: None, ..Default::default() };
        let bytes = encode("meta", &meta).unwrap();
        assert_eq!(&bytes[..3], b"Bt\x01");
        assert_eq!(&bytes[3..], br#"{"paused":true,"next_position":7,"breaker":null}"#);
        assert_eq!(decode::<EngineMeta>("t", &"k", &bytes).unwrap(), meta);
        // The performance schedule, when there is one, comes back as written.
        let mark = crate::engine::PerformanceMark {
            at: crate::domain::Timestamp(7_200_000),
            portfolio: rust_decimal::Decimal::new(1_001_791, 2),
            portfolio_at: crate::domain::Timestamp(3_600_000),
        };
        let meta = EngineMeta { performance: Some(mark), ..meta };
        let bytes = encode("meta", &meta).unwrap();
        assert_eq!(decode::<EngineMeta>("t", &"k", &bytes).unwrap(), meta);
    }

    #[test]
    fn wrong_magic_is_corrupt() {
        let mut bytes = encode("meta", &EngineMeta::default()).unwrap();
        bytes[0] = b'X';
        assert!(corrupt_detail(decode("t", &"k", &bytes)).contains("bad magic"));
    }

    #[test]
    fn unknown_version_is_corrupt() {
        let mut bytes = encode("meta", &EngineMeta::default()).unwrap();
        bytes[2] = RECORD_VERSION + 1;
        assert!(corrupt_detail(decode("t", &"k", &bytes)).contains("newer Bert"));
    }

    #[test]
    fn truncated_is_corrupt() {
        let bytes = encode("meta", &EngineMeta::default()).unwrap();
        for len in 0..bytes.len() {
            corrupt_detail(decode("t", &"k", &bytes[..len]));
        }
    }

    proptest! {
        /// Whatever the bytes, decoding returns (an error); it never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), header in any::<bool>()) {
            let mut input = if header { b"Bt\x01".to_vec() } else { Vec::new() };
            input.extend_from_slice(&bytes);
            let _ = decode::<EngineMeta>("t", &"k", &input);
            let _ = decode::<crate::store::JournalEntry>("t", &"k", &input);
            let _ = decode::<crate::store::OutboxRow>("t", &"k", &input);
        }
    }
}
