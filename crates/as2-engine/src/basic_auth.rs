//! HTTP basic authentication: the header we send to a partner and the check of the one a
//! partner sends us (compared in constant time).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq as _;

/// The `Authorization` header value for `user` and `password`.
pub fn header(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// Whether `authorization` is `Basic base64(expected)`, where `expected` is `user:password`.
pub fn matches(authorization: Option<&str>, expected: &str) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(given) = STANDARD.decode(token.trim()) else {
        return false;
    };
    bool::from(given.ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_right_credentials_in_any_scheme_case() {
        let h = header("partner", "s3cret:with colon");
        assert!(matches(Some(&h), "partner:s3cret:with colon"));
        assert!(matches(
            Some(&h.replacen("Basic", "basic", 1)),
            "partner:s3cret:with colon"
        ));
    }

    #[test]
    fn refuses_wrong_missing_and_malformed_credentials() {
        assert!(!matches(Some(&header("partner", "nope")), "partner:s3cret"));
        assert!(!matches(None, "partner:s3cret"));
        assert!(!matches(Some("Bearer abc"), "partner:s3cret"));
        assert!(!matches(Some("Basic %%%"), "partner:s3cret"));
        assert!(!matches(Some("Basic"), "partner:s3cret"));
    }
}
