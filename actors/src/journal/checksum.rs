//! The checksum every keel record carries in the store (format version 2): a CRC-32 of the
//! record's key and value, stored in front of the value. sled checks its own log; this check
//! is keel's, so that whatever sled 0.34 hands back from a torn or bit-flipped file, a damaged
//! record is refused, naming its key, instead of decoding to something never written. The key is covered too, so that a value found under
//! another key than its own is refused as well.
//!
//! Stored value: `crc32(len(key) ‖ key ‖ payload)` as 4 little-endian bytes, then the payload
//! (a record's JSON, or nothing for a record whose key says it all). The meta record is the
//! one exception: it stays plain JSON, so that every version can read which version a store
//! is.

/// Bytes of the checksum in front of each stored value.
pub(super) const CHECKSUM_LEN: usize = 4;

/// The CRC-32 of `key` and `payload` together.
pub(super) fn crc(key: &str, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&(key.len() as u64).to_le_bytes());
    hasher.update(key.as_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// A buffer to write a payload into after the room for its checksum; finish it with
/// [`seal_in_place`].
pub(super) fn sealing_buffer(capacity: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(CHECKSUM_LEN + capacity);
    buf.extend_from_slice(&[0; CHECKSUM_LEN]);
    buf
}

/// Writes the checksum of `key` and the payload (what follows the room left by
/// [`sealing_buffer`]) in front of it.
pub(super) fn seal_in_place(key: &str, buf: &mut [u8]) {
    let sum = crc(key, &buf[CHECKSUM_LEN..]);
    buf[..CHECKSUM_LEN].copy_from_slice(&sum.to_le_bytes());
}

/// The stored value of `payload` under `key`.
pub(super) fn seal(key: &str, payload: &[u8]) -> Vec<u8> {
    let mut buf = sealing_buffer(payload.len());
    buf.extend_from_slice(payload);
    seal_in_place(key, &mut buf);
    buf
}

/// The payload of a stored value, once its checksum matched; otherwise why not.
pub(super) fn unseal<'a>(key: &str, stored: &'a [u8]) -> Result<&'a [u8], String> {
    if stored.len() < CHECKSUM_LEN {
        return Err(format!(
            "{} bytes, shorter than its checksum: truncated",
            stored.len()
        ));
    }
    let (sum, payload) = stored.split_at(CHECKSUM_LEN);
    let sum = u32::from_le_bytes(sum.try_into().expect("CHECKSUM_LEN bytes"));
    let expected = crc(key, payload);
    if sum != expected {
        return Err(format!(
            "checksum mismatch (stored {sum:08x}, computed {expected:08x}): the record was \
             damaged on disk or does not belong under this key"
        ));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_under_its_own_key_only() {
        let stored = seal("run/info", br#"{"run_id":"a"}"#);
        assert_eq!(unseal("run/info", &stored).unwrap(), br#"{"run_id":"a"}"#);
        let err = unseal("risk/state", &stored).unwrap_err();
        assert!(err.contains("checksum mismatch"), "{err}");
        let err = unseal("run/info", &stored[..3]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert_eq!(
            unseal("om/applied/1", &seal("om/applied/1", b"")).unwrap(),
            b""
        );
    }
}
