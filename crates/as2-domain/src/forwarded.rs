//! The client address of a request that may have come through a reverse proxy
//! (`AS2_TRUSTED_PROXIES`). Only when the socket's peer is a trusted proxy are `Forwarded`
//! (RFC 7239) or, without it, `X-Forwarded-For` and `X-Forwarded-Proto` believed: the hops are
//! read from the right (the nearest proxy's entry) and the first one that is not itself a
//! trusted proxy is the client; an entry that is not an IP address (`unknown`, an obfuscated
//! name) stops the walk at the hop after it. From any other peer the headers are ignored and
//! the peer is the client. The partner firewall, the access logs and anything keyed on a
//! client address use [`ClientAddr`].

use std::net::{IpAddr, SocketAddr};

use crate::network::{IpNetwork, NetworkParseError};

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

/// The client of a request, as far as the listener can tell: a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    /// The client's address (the socket's peer unless a trusted proxy said otherwise).
    pub ip: IpAddr,
    /// The scheme the client used, when a trusted proxy said (`https`, `http`); `None` from a
    /// direct client (the listener knows whether it speaks TLS).
    pub forwarded_https: Option<bool>,
}

/// The forwarding headers of a request, every line of each.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForwardingHeaders<'a> {
    /// `Forwarded` lines.
    pub forwarded: &'a [&'a str],
    /// `X-Forwarded-For` lines.
    pub x_forwarded_for: &'a [&'a str],
    /// `X-Forwarded-Proto` lines.
    pub x_forwarded_proto: &'a [&'a str],
}

impl TrustedProxies {
    /// The networks of a comma-separated list of CIDRs or addresses (blank: none).
    ///
    /// # Errors
    /// An entry is not an address or a CIDR network.
    pub fn parse(list: &str) -> Result<Self, NetworkParseError> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether none are trusted (the headers are never believed).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client of a request from `peer` carrying `headers`.
    pub fn client(&self, peer: IpAddr, headers: ForwardingHeaders<'_>) -> ClientAddr {
        let direct = ClientAddr {
            ip: peer,
            forwarded_https: None,
        };
        if !self.trusts(peer) {
            return direct;
        }
        let (hops, proto) = if headers.forwarded.is_empty() {
            (
                list(headers.x_forwarded_for).collect::<Vec<_>>(),
                list(headers.x_forwarded_proto).last(),
            )
        } else {
            let elements: Vec<_> = list(headers.forwarded).collect();
            let hops = elements
                .iter()
                .filter_map(|e| parameter(e, "for"))
                .collect();
            (hops, elements.last().and_then(|e| parameter(e, "proto")))
        };
        let mut ip = peer;
        for hop in hops.iter().rev() {
            match node_ip(hop) {
                Some(hop_ip) => {
                    ip = hop_ip;
                    if !self.trusts(hop_ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        ClientAddr {
            ip,
            forwarded_https: proto.map(|p| p.eq_ignore_ascii_case("https")),
        }
    }
}

/// The comma-separated items of every line, trimmed, empty ones skipped.
fn list<'a>(lines: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    lines
        .iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The value of `name` in one `Forwarded` element (`for=1.2.3.4;proto=https`), unquoted.
fn parameter<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"'))
    })
}

/// The address of a node (`192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711`,
/// `2001:db8::1`); `None` for `unknown`, obfuscated names and anything else.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            node.strip_prefix('[')
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(ip, _)| ip.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff<'a>(lines: &'a [&'a str]) -> ForwardingHeaders<'a> {
        ForwardingHeaders {
            x_forwarded_for: lines,
            ..ForwardingHeaders::default()
        }
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let client = proxies.client(ip("203.0.113.9"), xff(&["192.0.2.1"]));
        assert_eq!(client.ip, ip("203.0.113.9"));
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("10.0.0.1"), xff(&["192.0.2.1"])).ip,
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        // the client put a spoofed first entry; the proxies appended the real hops
        let client = proxies.client(ip("127.0.0.1"), xff(&["6.6.6.6, 198.51.100.4", "10.1.1.1"]));
        assert_eq!(client.ip, ip("198.51.100.4"));
        // all hops trusted: the leftmost
        assert_eq!(
            proxies.client(ip("10.0.0.2"), xff(&["10.0.0.3"])).ip,
            ip("10.0.0.3")
        );
        // no header: the proxy itself
        assert_eq!(proxies.client(ip("10.0.0.2"), xff(&[])).ip, ip("10.0.0.2"));
        // an unknown hop stops the walk at the trusted hop after it
        assert_eq!(
            proxies
                .client(ip("10.0.0.2"), xff(&["198.51.100.4, unknown, 10.0.0.7"]))
                .ip,
            ip("10.0.0.7")
        );
    }

    #[test]
    fn forwarded_is_preferred_and_parsed() {
        let proxies = TrustedProxies::parse("127.0.0.0/8").unwrap();
        let client = proxies.client(
            ip("127.0.0.1"),
            ForwardingHeaders {
                forwarded: &[r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https"#],
                x_forwarded_for: &["192.0.2.99"],
                x_forwarded_proto: &["http"],
            },
        );
        assert_eq!(client.ip, ip("2001:db8:cafe::17"));
        assert_eq!(client.forwarded_https, Some(true));
        let with_port = proxies.client(
            ip("127.0.0.1"),
            ForwardingHeaders {
                forwarded: &["For=192.0.2.60:8080;Proto=http;by=203.0.113.43"],
                ..ForwardingHeaders::default()
            },
        );
        assert_eq!(with_port.ip, ip("192.0.2.60"));
        assert_eq!(with_port.forwarded_https, Some(false));
    }

    #[test]
    fn the_list_is_checked() {
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(
            TrustedProxies::parse("10.0.0.0/8,::1")
                .unwrap()
                .trusts(ip("::1"))
        );
        assert!(TrustedProxies::parse("10.0.0.0/8,proxy").is_err());
    }
}
