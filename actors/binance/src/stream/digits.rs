//! Runs of ASCII digits, read eight bytes at a time (SWAR: one `u64` holds eight bytes,
//! the first byte in its lowest bits). No `unsafe`: a run near the end of the text falls
//! back to reading a byte at a time.

/// Powers of ten that fit a `u64`'s sixteen-digit runs: `POW10[n]` is 10^n.
pub(super) const POW10: [u64; 17] = {
    let mut p = [1u64; 17];
    let mut n = 1;
    while n < 17 {
        p[n] = p[n - 1] * 10;
        n += 1;
    }
    p
};

/// The longest run [`run`] reads.
pub(super) const MAX_RUN: usize = 16;

/// The run of ASCII digits at `b[i..]`, up to [`MAX_RUN`] of them: its length and value. A
/// run of exactly `MAX_RUN` may go on (the caller looks at the next byte); `i` past the end
/// reads as an empty run.
#[inline(always)]
pub(super) fn run(b: &[u8], i: usize) -> (usize, u64) {
    let (n, high) = chunk(b, i);
    // Most runs end within eight digits or right after them.
    if n < 8 || !matches!(b.get(i + 8), Some(b'0'..=b'9')) {
        return (n, high);
    }
    let (m, low) = chunk(b, i + 8);
    (8 + m, high * POW10[m] + low)
}

/// The length of the run of ASCII digits at `b[i..]` (of any length; 0 if `i` is past the
/// end).
#[inline(always)]
pub(super) fn digit_count(b: &[u8], i: usize) -> usize {
    let mut n = 0;
    while let Some(bytes) = b.get(i + n..).and_then(<[u8]>::first_chunk::<8>) {
        let k = leading_digits(u64::from_le_bytes(*bytes));
        n += k;
        if k < 8 {
            return n;
        }
    }
    while let Some(b'0'..=b'9') = b.get(i + n) {
        n += 1;
    }
    n
}

/// The run of up to eight digits at `b[i..]`: its length and value.
#[inline(always)]
fn chunk(b: &[u8], i: usize) -> (usize, u64) {
    match b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        Some(bytes) => {
            let v = u64::from_le_bytes(*bytes);
            let n = leading_digits(v);
            (n, value(v, n))
        }
        None => {
            let (mut n, mut value) = (0, 0);
            while let Some(&c @ b'0'..=b'9') = b.get(i + n) {
                value = value * 10 + u64::from(c - b'0');
                n += 1;
            }
            (n, value)
        }
    }
}

/// How many of the eight bytes in `v` are digits before the first that is not (0..=8).
#[inline]
fn leading_digits(v: u64) -> usize {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    // A digit is 0x30..=0x39: its high nibble is 3, and still 3 once 6 is added. A carry out
    // of a byte comes only from a byte that is not a digit (>= 0xFA) and only disturbs the
    // bytes after it, so the first byte flagged is exact.
    let odd = ((v & HIGH_NIBBLES) ^ THREES)
        | ((v.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) ^ THREES);
    // The high bit of each byte of `odd` that is not zero (no carries between bytes here).
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let flagged = ((odd & LOW7).wrapping_add(LOW7) | odd) & !LOW7;
    (flagged.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (0..=8) bytes of `v`, which are digits.
#[inline]
fn value(v: u64, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    // Digits to 0..=9 (the bytes after them may borrow from one another, never from a
    // digit's), then the digits to the top with zeros (leading zeros) below them.
    let d = v.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - n));
    // simdjson's `parse_eight_digits_unrolled`: pairs, then quads, then all eight.
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    let pairs = (d & MASK).wrapping_mul(100 + (1_000_000 << 32));
    let quads = ((d >> 16) & MASK).wrapping_mul(1 + (10_000 << 32));
    pairs.wrapping_add(quads) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The run, a byte at a time.
    fn slow_run(b: &[u8], i: usize) -> (usize, u64) {
        let Some(rest) = b.get(i..) else {
            return (0, 0);
        };
        let digits = rest
            .iter()
            .take(MAX_RUN)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let value = rest[..digits]
            .iter()
            .fold(0, |v, c| v * 10 + u64::from(c - b'0'));
        (digits, value)
    }

    #[test]
    fn runs_of_every_length_at_every_offset() {
        let text = b"x0123456789876543210123456789\"9:0.5\xff\x001234567\xfa9";
        for i in 0..=text.len() + 1 {
            for end in i..=text.len() {
                assert_eq!(
                    run(&text[..end], i),
                    slow_run(&text[..end], i),
                    "{i}..{end}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn counts_match_a_byte_at_a_time(
            b in prop::collection::vec(
                prop_oneof![8 => b'0'..=b'9', 1 => any::<u8>()],
                0..60,
            ),
            i in 0usize..62,
        ) {
            let expected = b.get(i..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit()).count();
            prop_assert_eq!(digit_count(&b, i), expected);
        }

        #[test]
        fn runs_match_a_byte_at_a_time(
            b in prop::collection::vec(
                prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>(), 1 => prop::sample::select(vec![b'/', b':', b'.', b'"', 0xFA, 0xFF])],
                0..40,
            ),
            i in 0usize..42,
        ) {
            prop_assert_eq!(run(&b, i), slow_run(&b, i));
        }
    }
}
