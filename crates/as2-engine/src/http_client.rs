//! The platform's one outbound HTTP client, used for every request it makes on its own
//! (AS2 messages to partners, async MDNs, webhooks, the TSA): reqwest over rustls with the
//! destination policy enforced where the connection is made. A host name is resolved by
//! [`PolicyResolver`], which drops every address the policy refuses (and fails with a
//! sentence when none is left), so what is checked is what is connected to; a host written
//! as an IP address is not resolved by reqwest, so [`OutboundClient::post`] checks it before
//! the request is built. Redirects are never followed (a 3xx is the answer, which callers
//! treat as a failure: [`redirect_refusal`]), and no proxy is used (a proxy would resolve the
//! host itself, out of the policy's reach).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use as2_domain::destination::{DestinationPolicy, RefusedAddress};
use as2_trust::tsa_transport::{Query, TransportError, TsaTransport};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A destination the policy refuses: the host name (when it was one) and the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DestinationRefused {
    /// The host name that resolved to the address; `None` when the URL named the address.
    pub host: Option<String>,
    /// The (first) refused address and its range.
    pub refused: RefusedAddress,
}

impl std::fmt::Display for DestinationRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let RefusedAddress { address, range } = self.refused;
        match &self.host {
            Some(host) => write!(f, "{host} resolves to {address}, {range}"),
            None => write!(f, "{address} is {range}"),
        }?;
        f.write_str(
            ", which the platform does not connect to (an operator can allow it with AS2_OUTBOUND_ALLOW)",
        )
    }
}

/// The outbound client: cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    policy: Arc<DestinationPolicy>,
    user_agent: Arc<str>,
    connect_timeout: Duration,
}

/// A partner's TLS settings that cannot make a client.
#[derive(Debug, thiserror::Error)]
pub enum PartnerTlsError {
    /// The CA bundle, the pin or the client certificate cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// reqwest refuses the configuration.
    #[error("building the partner's HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl OutboundClient {
    /// A client that connects only where `policy` permits, sends `user_agent`, gives a
    /// connection `connect_timeout` to open, follows no redirect and uses no proxy.
    ///
    /// # Errors
    /// The TLS configuration cannot be built.
    pub fn new(
        policy: DestinationPolicy,
        user_agent: &str,
        connect_timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = builder(&policy, user_agent, connect_timeout).build()?;
        Ok(Self {
            client,
            policy,
            user_agent: user_agent.into(),
            connect_timeout,
        })
    }

    /// A client like this one (policy, user agent, timeout, no redirect, no proxy) whose TLS
    /// is `tls`: a partner's private CA, pinned key or client certificate.
    ///
    /// # Errors
    /// The settings cannot be used.
    pub fn with_partner_tls(
        &self,
        tls: &crate::tls::outbound::PartnerTls,
    ) -> Result<Self, PartnerTlsError> {
        let config = crate::tls::outbound::client_config(tls)?;
        let client = builder(&self.policy, &self.user_agent, self.connect_timeout)
            .tls_backend_preconfigured(config)
            .build()?;
        Ok(Self {
            client,
            ..self.clone()
        })
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &DestinationPolicy {
        &self.policy
    }

    /// A POST to `url`.
    ///
    /// # Errors
    /// The URL's host is an IP address the policy refuses (nothing is sent).
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, DestinationRefused> {
        if let Some(address) = literal_host(url) {
            self.policy
                .check(address)
                .map_err(|refused| DestinationRefused {
                    host: None,
                    refused,
                })?;
        }
        Ok(self.client.post(url))
    }
}

/// The client builder every outbound client starts from.
fn builder(
    policy: &Arc<DestinationPolicy>,
    user_agent: &str,
    connect_timeout: Duration,
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(PolicyResolver {
            policy: policy.clone(),
        })
}

/// The IP address a URL's host is, as reqwest's URL parser reads it (`2130706433` and
/// `[::ffff:127.0.0.1]` included); `None` for a host name or an unparsable URL (which
/// reqwest refuses itself).
fn literal_host(url: &str) -> Option<IpAddr> {
    let url = reqwest::Url::parse(url).ok()?;
    // the parser has made every IPv4 form dotted and put IPv6 in brackets; a name never
    // parses as an address
    url.host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The policy's refusal inside a request error, if that is why it failed.
pub fn refusal(error: &reqwest::Error) -> Option<&DestinationRefused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<DestinationRefused>() {
            return Some(refused);
        }
        source = cause.source();
    }
    None
}

/// The sentence for an answer that is a redirect (3xx), which is never followed; `None`
/// for any other status.
pub fn redirect_refusal(status: u16, location: Option<&str>) -> Option<String> {
    if !(300..400).contains(&status) {
        return None;
    }
    let target = location
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|l| !l.is_empty())
        .map_or_else(String::new, |l| format!(" to {l}"));
    Some(format!(
        "answered HTTP {status}, a redirect{target}, which is not followed: configure the final URL instead"
    ))
}

/// Resolves host names and keeps only the addresses the policy permits.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    policy: Arc<DestinationPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_refusal = None;
            let permitted: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|address| match policy.check(address.ip()) {
                    Ok(()) => true,
                    Err(refused) => {
                        first_refusal.get_or_insert(refused);
                        false
                    }
                })
                .collect();
            if permitted.is_empty() {
                return Err(match first_refusal {
                    Some(refused) => Box::new(DestinationRefused {
                        host: Some(host),
                        refused,
                    })
                        as Box<dyn std::error::Error + Send + Sync>,
                    None => format!("{host} has no address").into(),
                });
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// The TSA's queries go through the same client as everything else the platform posts.
impl TsaTransport for OutboundClient {
    fn query<'a>(&'a self, url: &'a str, request: Vec<u8>) -> Query<'a> {
        Box::pin(async move {
            let response = self
                .post(url)
                .map_err(|e| TransportError::Refused(e.to_string()))?
                .timeout(Duration::from_secs(30))
                .header("Content-Type", "application/timestamp-query")
                .body(request)
                .send()
                .await
                .map_err(|e| match refusal(&e) {
                    Some(why) => TransportError::Refused(why.to_string()),
                    None => TransportError::Unreachable(e.to_string()),
                })?;
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok());
            if let Some(sentence) = redirect_refusal(response.status().as_u16(), location) {
                return Err(TransportError::Refused(sentence));
            }
            if !response.status().is_success() {
                return Err(TransportError::Unreachable(format!(
                    "HTTP {}",
                    response.status()
                )));
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| TransportError::Unreachable(e.to_string()))?;
            Ok(body.to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_hosts_are_read_like_reqwest_reads_them() {
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1:8080/x",
            "http://[::ffff:127.0.0.1]/",
        ] {
            let address = literal_host(url).unwrap_or_else(|| panic!("{url}"));
            assert!(
                !DestinationPolicy::strict().permits(address),
                "{url} is {address}"
            );
        }
        assert_eq!(literal_host("https://partner.example/as2"), None);
        assert_eq!(literal_host("not a url"), None);
    }

    #[test]
    fn only_3xx_is_a_redirect() {
        assert_eq!(redirect_refusal(200, None), None);
        assert_eq!(redirect_refusal(404, Some("x")), None);
        let sentence = redirect_refusal(307, Some("http://10.0.0.1/\r\nx")).unwrap();
        assert!(sentence.contains("HTTP 307"), "{sentence}");
        assert!(sentence.contains("to http://10.0.0.1/x"), "{sentence}");
        assert!(sentence.contains("not followed"), "{sentence}");
    }

    #[tokio::test]
    async fn a_literal_refused_address_is_not_even_requested() {
        let client =
            OutboundClient::new(DestinationPolicy::strict(), "t", Duration::from_secs(1)).unwrap();
        let error = client.post("http://169.254.169.254/latest").unwrap_err();
        assert_eq!(error.host, None);
        assert!(error.to_string().contains("cloud metadata"), "{error}");
        assert!(client.post("https://partner.example/as2").is_ok());
    }

    #[tokio::test]
    async fn a_host_name_resolving_to_loopback_fails_with_the_sentence() {
        let client =
            OutboundClient::new(DestinationPolicy::strict(), "t", Duration::from_secs(1)).unwrap();
        let error = client
            .post("http://localhost:9/x")
            .unwrap()
            .send()
            .await
            .unwrap_err();
        let refused = refusal(&error).unwrap_or_else(|| panic!("not a refusal: {error:?}"));
        assert_eq!(refused.host.as_deref(), Some("localhost"));
        assert!(refused.refused.address.is_loopback());
        assert!(
            refused.to_string().starts_with("localhost resolves to "),
            "{refused}"
        );
    }
}
