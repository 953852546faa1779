//! What `firewall: true` means in seed 000's partner body, which has no field for the
//! addresses: the addresses of the partner's own AS2 endpoint (`endpoint_url`), unless the
//! body lists `allowed_networks` (our addition to that body).
//!
//! A partner usually sends from the hosts it receives on; where it does not, the operator
//! lists the networks (here, or later with `PATCH /v1/partners/{id}`).

use std::net::IpAddr;
use std::time::Duration;

use as2_domain::endpoint_url::literal_address;

/// How long the endpoint's host name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The sentence a `firewall: true` gets when no address can be derived.
pub const NO_ADDRESSES: &str = "The firewall needs the addresses the partner sends from: give allowed_networks, or an endpoint_url whose host resolves (its addresses are allowed)";

/// The networks (`/32`, `/128`) of `endpoint_url`'s host: the address itself when the URL
/// is written with one, else what its name resolves to now. `None` when there is no URL,
/// it is not http(s), or the name does not resolve in time.
pub async fn endpoint_networks(endpoint_url: Option<&str>) -> Option<Vec<String>> {
    let url = endpoint_url?.trim();
    if let Some(address) = literal_address(url) {
        return Some(vec![network_of(address)]);
    }
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_owned();
    let port = parsed.port_or_known_default()?;
    let resolved = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .ok()?
        .ok()?;
    let mut networks: Vec<String> = resolved.map(|a| network_of(a.ip())).collect();
    networks.sort();
    networks.dedup();
    (!networks.is_empty()).then_some(networks)
}

fn network_of(address: IpAddr) -> String {
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match address {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/128"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_in_the_url_is_the_network() {
        assert_eq!(
            endpoint_networks(Some("https://192.0.2.7:4080/as2")).await,
            Some(vec!["192.0.2.7/32".to_owned()])
        );
        assert_eq!(
            endpoint_networks(Some("https://[2001:db8::1]/as2")).await,
            Some(vec!["2001:db8::1/128".to_owned()])
        );
    }

    #[tokio::test]
    async fn a_name_is_resolved() {
        let networks = endpoint_networks(Some("http://localhost:8080/as2"))
            .await
            .unwrap();
        assert!(
            networks
                .iter()
                .any(|n| n == "127.0.0.1/32" || n == "::1/128"),
            "{networks:?}"
        );
    }

    #[tokio::test]
    async fn no_url_or_no_answer_is_none() {
        assert_eq!(endpoint_networks(None).await, None);
        assert_eq!(endpoint_networks(Some("ftp://192.0.2.7/")).await, None);
        assert_eq!(
            endpoint_networks(Some("https://name.invalid/as2")).await,
            None
        );
    }
}
