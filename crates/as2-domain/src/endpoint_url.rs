//! Partner and webhook URLs: absolute http(s) URLs; HTTPS only in live mode.

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
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_port(host_port);
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:_".contains(&b));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if value.len() > 2048 || !host_ok || !port_ok || value.contains(char::is_whitespace) {
        errors.add(field, "The URL must be a valid URL with a host name");
    }
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        return match host_port.split_once("]:") {
            Some((host, port)) => (host, Some(port)),
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
    }
}
