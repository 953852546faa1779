//! The public AS2 URLs partners post to: one per mode, so test and live traffic never share
//! a route (a station's AS2 ID is unique per installation and mode, and the URL says which).

use crate::mode::Mode;

/// The path of the live AS2 endpoint on the gateway.
pub const LIVE_PATH: &str = "/as2/receive";
/// The path of the test AS2 endpoint on the gateway.
pub const TEST_PATH: &str = "/as2/test/receive";

/// The platform's public AS2 URLs, live and test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicAs2Urls {
    live: String,
    test: String,
}

impl PublicAs2Urls {
    /// From the live URL (`AS2_PUBLIC_AS2_URL`) and, when the operator sets one, the test URL
    /// (`AS2_PUBLIC_AS2_TEST_URL`). Without one, the test URL is the live URL with its
    /// trailing [`LIVE_PATH`] replaced by [`TEST_PATH`] (or [`TEST_PATH`] appended to its
    /// origin when the live URL has another path).
    pub fn new(live: impl Into<String>, test: Option<String>) -> Self {
        let live = live.into();
        let test = test.unwrap_or_else(|| derive_test_url(&live));
        Self { live, test }
    }

    /// The URL for `mode`.
    pub fn for_mode(&self, mode: Mode) -> &str {
        match mode {
            Mode::Live => &self.live,
            Mode::Test => &self.test,
        }
    }
}

fn derive_test_url(live: &str) -> String {
    let trimmed = live.trim_end_matches('/');
    if let Some(base) = trimmed.strip_suffix(LIVE_PATH) {
        return format!("{base}{TEST_PATH}");
    }
    // scheme://authority, then the test path
    let after_scheme = trimmed.find("://").map_or(0, |i| i + 3);
    let origin_end = trimmed[after_scheme..]
        .find('/')
        .map_or(trimmed.len(), |i| after_scheme + i);
    format!("{}{TEST_PATH}", &trimmed[..origin_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_url_is_derived_from_the_live_one() {
        let urls = PublicAs2Urls::new("https://as2.example.com/as2/receive", None);
        assert_eq!(
            urls.for_mode(Mode::Live),
            "https://as2.example.com/as2/receive"
        );
        assert_eq!(
            urls.for_mode(Mode::Test),
            "https://as2.example.com/as2/test/receive"
        );
        let other = PublicAs2Urls::new("https://as2.example.com:4443/edi/in", None);
        assert_eq!(
            other.for_mode(Mode::Test),
            "https://as2.example.com:4443/as2/test/receive"
        );
        let given = PublicAs2Urls::new("https://a/as2/receive", Some("https://t/x".into()));
        assert_eq!(given.for_mode(Mode::Test), "https://t/x");
    }
}
