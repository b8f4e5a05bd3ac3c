//! Request signing: `signature` = lowercase hex HMAC-SHA256 of the exact query string, keyed
//! with the API secret. The secret never leaves the [`Signer`] (its `Debug` is redacted).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Signs query strings with one API secret. The keyed HMAC state is computed once, so each
/// signature costs only the message's hashing.
#[derive(Clone)]
pub struct Signer {
    keyed: Hmac<Sha256>,
}

impl Signer {
    /// A signer for `secret`.
    pub fn new(secret: &str) -> Self {
        Self {
            keyed: Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes a key of any length"),
        }
    }

    /// The lowercase hex signature of `payload`.
    pub fn sign(&self, payload: &str) -> String {
        hex::encode(self.digest(payload))
    }

    /// `payload` with `&signature=<hex>` appended: the query string a signed endpoint takes.
    pub fn signed_query(&self, payload: &str) -> String {
        let mut out = String::with_capacity(payload.len() + 75);
        out.push_str(payload);
        out.push_str("&signature=");
        out.push_str(&hex::encode(self.digest(payload)));
        out
    }

    /// Whether `signature` (hex, either case) is the signature of `payload`; compared in
    /// constant time.
    pub fn verify(&self, payload: &str, signature: &str) -> bool {
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        let mut mac = self.keyed.clone();
        mac.update(payload.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }

    fn digest(&self, payload: &str) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<secret redacted>)")
    }
}

/// Splits a signed query string into the signed payload and its signature: the signature is
/// the last parameter, as Binance requires. `None` when there is no `signature` parameter.
pub fn split_signature(query: &str) -> Option<(&str, &str)> {
    let at = query.rfind("signature=")?;
    let (payload, sig) = query.split_at(at);
    if at != 0 && !payload.ends_with('&') {
        return None;
    }
    Some((
        payload.strip_suffix('&').unwrap_or(payload),
        &sig["signature=".len()..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const PAYLOAD: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1\
                           &price=0.1&recvWindow=5000&timestamp=1499827319559";

    #[test]
    fn the_documented_test_vector_signs_as_binance_says() {
        let signer = Signer::new(SECRET);
        assert_eq!(
            signer.sign(PAYLOAD),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        assert!(signer.verify(
            PAYLOAD,
            "C8DB56825AE71D6D79447849E617115F4A920FA2ACDCAB2B053C4B2838BD6B71"
        ));
    }

    #[test]
    fn a_changed_payload_or_key_does_not_verify() {
        let signer = Signer::new(SECRET);
        let sig = signer.sign(PAYLOAD);
        assert!(!signer.verify(&PAYLOAD.replace("quantity=1", "quantity=2"), &sig));
        assert!(!Signer::new("another").verify(PAYLOAD, &sig));
        assert!(!signer.verify(PAYLOAD, "not hex"));
    }

    #[test]
    fn a_signed_query_splits_back_into_payload_and_signature() {
        let signer = Signer::new(SECRET);
        let query = signer.signed_query(PAYLOAD);
        let (payload, sig) = split_signature(&query).unwrap();
        assert_eq!(payload, PAYLOAD);
        assert!(signer.verify(payload, sig));
        assert_eq!(split_signature("a=1&b=2"), None);
        assert_eq!(split_signature("a=1&xsignature=2"), None);
    }

    #[test]
    fn the_secret_never_prints() {
        assert!(!format!("{:?}", Signer::new(SECRET)).contains("NhqP"));
    }
}
