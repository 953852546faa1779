//! Partner and webhook URLs: absolute http(s) URLs; HTTPS only in live mode; a host written
//! as an IP address must be one the destination policy permits.

use std::net::IpAddr;

use crate::destination::DestinationPolicy;
use crate::mode::Mode;
use crate::validation::ValidationErrors;

/// Checks an endpoint URL; `live` mode requires HTTPS.
pub fn check_endpoint_url(errors: &mut ValidationErrors, field: &str, value: &str, mode: Mode) {
    let lower = value.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        if mode == Mode::Live {
            errors.add(field, "The URL must be a valid HTTPS endpoint");
            return;
        }
        rest
    } else {
        errors.add(
            field,
            if mode == Mode::Live {
                "The URL must be a valid HTTPS endpoint"
            } else {
                "The URL must be a valid http:// or https:// endpoint"
            },
        );
        return;
    };
    let (host, port) = host_and_port(rest);
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:_".contains(&b))
        && url::Url::parse(value.trim()).is_ok();
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if value.len() > 2048 || !host_ok || !port_ok || value.contains(char::is_whitespace) {
        errors.add(field, "The URL must be a valid URL with a host name");
    }
}

/// Checks that a URL whose host is an IP address (in any form a URL parser reads as one:
/// `[::ffff:127.0.0.1]`, `2130706433`, `0x7f.1`) names an address `policy` permits. Host names
/// are judged when they are resolved, at connect time.
pub fn check_destination(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    policy: &DestinationPolicy,
) {
    let Some(address) = literal_address(value) else {
        return;
    };
    if let Err(refused) = policy.check(address) {
        let label = if field == "mdn_url" {
            "The MDN URL"
        } else {
            "The URL"
        };
        errors.add(
            field,
            format!(
                "{label} points at {}, {}, which the platform does not connect to (an operator can allow it with AS2_OUTBOUND_ALLOW)",
                refused.address, refused.range
            ),
        );
    }
}

/// The IP address the host of an `http(s)://` URL is written as, read by the WHATWG URL
/// parser the HTTP client uses (`[::ffff:127.0.0.1]`, `2130706433`, `0x7f.1` are addresses);
/// `None` for a host name or a URL that is not http(s).
pub fn literal_address(url: &str) -> Option<IpAddr> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    match parsed.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// The host and the port of what follows `scheme://`. Like a URL parser for http(s), a
/// backslash ends the authority too, and the user information ends at the last `@`.
fn host_and_port(rest: &str) -> (&str, Option<&str>) {
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    split_port(host_port)
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        // `[v6]` or `[v6]:port`, brackets kept; anything else is left whole (and invalid)
        let Some(end) = host_port.find(']') else {
            return (host_port, None);
        };
        let (host, rest) = host_port.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: &str, mode: Mode) -> bool {
        let mut errors = ValidationErrors::new();
        check_endpoint_url(&mut errors, "url", value, mode);
        errors.is_empty()
    }

    #[test]
    fn live_mode_requires_https() {
        assert!(ok("https://cliente.com/as2", Mode::Live));
        assert!(!ok("http://cliente.com/as2", Mode::Live));
        assert!(ok("http://127.0.0.1:8081/as2/receive", Mode::Test));
    }

    #[test]
    fn rejects_broken_urls() {
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://host:99999/",
            "https://ho st/",
            "cliente.com",
        ] {
            assert!(!ok(bad, Mode::Test), "{bad}");
        }
        assert!(ok("https://[::1]:8443/as2", Mode::Live));
        assert!(!ok("http://1.2.3.4.5/", Mode::Test));
        assert!(!ok("http://0x100000000/", Mode::Test));
        assert!(!ok("http://[::zz]/", Mode::Test));
    }

    fn address(url: &str) -> Option<IpAddr> {
        literal_address(url)
    }

    #[test]
    fn reads_ip_hosts_like_a_url_parser() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        for url in [
            "http://127.0.0.1/",
            "http://127.0.0.1.:8080/x",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.1/",
            "HTTP://user:pw@127.0.0.1:80/a?b#c",
            "http://127.0.0.1\\@partner.example/",
        ] {
            assert_eq!(address(url), Some(loopback), "{url}");
        }
        assert_eq!(
            address("http://[::ffff:127.0.0.1]/"),
            Some("::ffff:127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            address("http://[fe80::1]:8080/"),
            Some("fe80::1".parse().unwrap())
        );
        for url in [
            "https://partner.example/as2",
            "https://127.0.0.1.nip.io/",
            "https://0x7f.example/",
            "https://1.2.3.4.example/",
            "mailto:x@127.0.0.1",
        ] {
            assert_eq!(address(url), None, "{url}");
        }
    }

    fn refused(url: &str, policy: &DestinationPolicy) -> Option<String> {
        let mut errors = ValidationErrors::new();
        check_destination(&mut errors, "url", url, policy);
        errors.fields().get("url").map(|s| s.join(" "))
    }

    #[test]
    fn refuses_internal_literal_addresses_unless_allowed() {
        let strict = DestinationPolicy::strict();
        for url in [
            "http://10.0.0.1/as2",
            "http://169.254.169.254/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fe80::1]/",
            "http://2130706433/",
            "http://[::1]:8443/",
        ] {
            let sentence = refused(url, &strict).unwrap_or_else(|| panic!("{url} accepted"));
            assert!(sentence.starts_with("The URL points at "), "{sentence}");
            assert!(sentence.contains("AS2_OUTBOUND_ALLOW"), "{sentence}");
        }
        assert_eq!(refused("https://partner.example/as2", &strict), None);
        assert_eq!(refused("https://8.8.8.8/as2", &strict), None);
        let allowed =
            DestinationPolicy::parse("10.0.0.0/8,169.254.169.254,127.0.0.0/8,fe80::/10").unwrap();
        for url in [
            "http://10.0.0.1/as2",
            "http://169.254.169.254/",
            "http://[::ffff:127.0.0.1]/",
            "http://[fe80::1]/",
        ] {
            assert_eq!(refused(url, &allowed), None, "{url}");
        }
        let mut errors = ValidationErrors::new();
        check_destination(&mut errors, "mdn_url", "http://10.0.0.1/", &strict);
        assert!(
            errors.fields()["mdn_url"][0].starts_with("The MDN URL points at 10.0.0.1, a private")
        );
    }
}
