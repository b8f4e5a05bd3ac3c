//! The bearer token of the control plane's commands, compared in constant time.

use subtle::ConstantTimeEq;

use super::plane::Token;

/// Why a command was refused before it reached the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No token is configured: commands are off.
    NoTokenConfigured,
    /// The request carries no bearer token, or a wrong one.
    BadToken,
}

/// Checks the `Authorization` header `header` against `token`.
pub(super) fn check(token: Option<&Token>, header: Option<&[u8]>) -> Result<(), Refusal> {
    let Some(token) = token else {
        return Err(Refusal::NoTokenConfigured);
    };
    let presented = header
        .and_then(|h| h.strip_prefix(b"Bearer "))
        .ok_or(Refusal::BadToken)?;
    if bool::from(presented.ct_eq(token.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::BadToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = Token::new("s3cret".to_string());
        assert_eq!(check(Some(&token), Some(b"Bearer s3cret")), Ok(()));
        for wrong in [
            &b"Bearer s3cre"[..],
            b"Bearer s3cret ",
            b"bearer s3cret",
            b"s3cret",
            b"Bearer ",
        ] {
            assert_eq!(check(Some(&token), Some(wrong)), Err(Refusal::BadToken));
        }
        assert_eq!(check(Some(&token), None), Err(Refusal::BadToken));
        assert_eq!(
            check(None, Some(b"Bearer s3cret")),
            Err(Refusal::NoTokenConfigured)
        );
    }
}
