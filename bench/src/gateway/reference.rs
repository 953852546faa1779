//! The reference receivers `bench gateway` measures beside the gateway, in the same run and
//! with the same load generator: HTTP servers that do less than the platform, so that each
//! row says what a receiver of these messages could reach on this machine with that much
//! work and no more. Each runs in a process of its own (this binary, `as2-bench reference
//! KIND PORT DIR`), its CPU read like the gateway's.
//!
//! - [`Reference::RsaOnly`]: hyper answers every request with a fixed 2 KiB body after the
//!   two RSA-2048 private-key operations of a receive (two signatures with the gateway's
//!   aws-lc-rs key): the floor plus HTTP and the load generator, the ceiling of any receiver.
//! - [`Reference::Codec`]: hyper and the platform's codec, nothing else: `as2-core` decrypts,
//!   verifies and computes the MIC of each message and builds its signed MDN (aws-lc-rs keys),
//!   with no database, no admission and no file: the gateway without the platform.
//!
//! Both run their work on the runtime's worker threads (one per core), the cheapest
//! arrangement there is for CPU-bound requests; the gateway hands it to blocking threads so
//! that a slow message never holds up the sockets, which costs thread hand-offs.
//!
//! A measuring instrument, not a server: it listens on 127.0.0.1 only, for the bench that
//! started it, and reads each body whole with none of the gateway's limits on size, count or
//! time. Never expose it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use as2_core::cert::Certificate;
use as2_core::cms::{DecryptionKey, SignOptions};
use as2_core::crypto::{CryptoProvider, DigestAlgorithm, PrivateKeyOps, SignatureScheme};
use as2_core::mdn::{MdnDisposition, MdnParams, build_mdn};
use as2_core::message::{InboundConfig, Signer, parse_inbound};
use as2_core::mime::Headers;
use as2_crypto_aws_lc::AwsLcKey;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// What a reference receiver does per message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Reference {
    /// Two RSA private-key operations, a fixed answer.
    RsaOnly,
    /// `as2-core`'s receive and signed MDN, no platform.
    Codec,
}

impl Reference {
    /// The word on the command line.
    pub(crate) fn arg(self) -> &'static str {
        match self {
            Self::RsaOnly => "rsa-only",
            Self::Codec => "codec",
        }
    }

    fn from_arg(arg: &str) -> Result<Self> {
        match arg {
            "rsa-only" => Ok(Self::RsaOnly),
            "codec" => Ok(Self::Codec),
            other => bail!("unknown reference receiver {other:?} (rsa-only or codec)"),
        }
    }

    /// Its row's label in the summary.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::RsaOnly => "reference: hyper + 2 RSA operations",
            Self::Codec => "reference: hyper + as2-core, no platform",
        }
    }
}

/// The files the receiver reads from its directory: our key and certificate, the partner's.
pub(crate) const OUR_KEY: &str = "us.key.pem";
pub(crate) const OUR_CERT: &str = "us.cert.der";
pub(crate) const PARTNER_CERT: &str = "partner.cert.der";

/// What every request needs, loaded once.
struct Keys {
    provider: &'static CryptoProvider,
    key: AwsLcKey,
    cert: Certificate,
    partner: [Certificate; 1],
}

/// `as2-bench reference KIND PORT DIR`: serves on 127.0.0.1:PORT until killed.
pub(crate) fn serve(args: &[String]) -> Result<()> {
    let [kind, port, dir] = args else {
        bail!("usage: as2-bench reference rsa-only|codec PORT DIR");
    };
    let kind = Reference::from_arg(kind)?;
    let port: u16 = port.parse().context("the port")?;
    let keys = Arc::new(load(Path::new(dir))?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .context("binding the reference receiver's port")?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let keys = keys.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let keys = keys.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(kind, &keys, request).await) }
                });
                // a connection the load generator closes ends here; nothing to report
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn load(dir: &Path) -> Result<Keys> {
    let key = as2_core::keys::load_private_key(&std::fs::read(dir.join(OUR_KEY))?, None)?;
    Ok(Keys {
        provider: &as2_crypto_aws_lc::DEFAULT_PROVIDER,
        key: AwsLcKey::new(&key)?,
        cert: Certificate::from_der(&std::fs::read(dir.join(OUR_CERT))?)?,
        partner: [Certificate::from_der(&std::fs::read(
            dir.join(PARTNER_CERT),
        )?)?],
    })
}

async fn answer(kind: Reference, keys: &Keys, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return failure("the body could not be read");
    };
    let answered = match kind {
        Reference::RsaOnly => rsa_only(keys),
        Reference::Codec => codec(keys, &parts.headers, &body),
    };
    answered.unwrap_or_else(|e| failure(&e.to_string()))
}

/// Two signatures, then 2 KiB: about an MDN's size.
fn rsa_only(keys: &Keys) -> Result<Response<Full<Bytes>>> {
    for n in 0..2u8 {
        keys.key.sign(
            SignatureScheme::Pkcs1v15,
            DigestAlgorithm::Sha256,
            &[n],
            keys.provider.secure_random,
        )?;
    }
    Ok(Response::new(Full::new(Bytes::from(vec![b'm'; 2048]))))
}

/// The codec's receive and signed MDN.
fn codec(keys: &Keys, headers: &hyper::HeaderMap, body: &[u8]) -> Result<Response<Full<Bytes>>> {
    let pairs = headers
        .iter()
        .map(|(name, value)| Ok((name.as_str().to_owned(), value.to_str()?.to_owned())))
        .collect::<Result<Vec<_>>>()?;
    let headers = Headers::from_pairs(pairs);
    let decryption = [DecryptionKey {
        certificate: &keys.cert,
        key: &keys.key,
    }];
    let cfg = InboundConfig::new(keys.provider, &decryption, &keys.partner)
        .with_require_signature(true)
        .with_require_encryption(true);
    let inbound = parse_inbound(&headers, body, &cfg)?;
    let envelope = &inbound.envelope;
    let original = envelope.message_id.as_deref().unwrap_or_default();
    let mut params = MdnParams::new(
        keys.provider,
        &envelope.as2_to,
        &envelope.as2_from,
        original,
        MdnDisposition::Processed,
    );
    params.mic = Some(inbound.mic.clone());
    params.signer = Some(Signer::new(
        &keys.cert,
        &keys.key,
        SignOptions::new(std::time::SystemTime::now()),
    ));
    let mdn = build_mdn(&params)?;
    let mut response = Response::new(Full::new(Bytes::from(mdn.body)));
    for (name, value) in mdn.headers {
        response.headers_mut().append(
            hyper::header::HeaderName::try_from(name)?,
            hyper::header::HeaderValue::try_from(value)?,
        );
    }
    Ok(response)
}

/// A 500 that says why (the load generator counts any non-2xx as a failure).
fn failure(why: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(why.to_owned())));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

#[cfg(test)]
mod tests {
    use as2_core::mdn::parse_mdn;
    use as2_e2e::seed::identity;

    use super::*;

    /// The codec reference does a receiver's whole work: its answer is the signed MDN the
    /// sender verifies, with the MIC of the message it sent; a message signed by anyone but the
    /// partner is refused (the load generator then fails the run): the signature is checked,
    /// not skipped.
    #[test]
    fn the_codec_reference_answers_with_the_signed_mdn_the_sender_verifies() -> Result<()> {
        let (us, partner) = (identity("us"), identity("partner"));
        let keys = Keys {
            provider: &as2_crypto_aws_lc::DEFAULT_PROVIDER,
            key: AwsLcKey::new(&as2_core::keys::load_private_key(&us.key_pem, None)?)?,
            cert: us.cert.clone(),
            partner: [partner.cert.clone()],
        };
        let built = super::super::corpus::build(&partner, &us, 1).remove(0);
        let mut headers = hyper::HeaderMap::new();
        for (name, value) in &built.headers {
            headers.append(
                hyper::header::HeaderName::try_from(name.as_str())?,
                hyper::header::HeaderValue::try_from(value.as_str())?,
            );
        }

        let response = codec(&keys, &headers, &built.body)?;
        let pairs = response
            .headers()
            .iter()
            .map(|(n, v)| Ok((n.as_str().to_owned(), v.to_str()?.to_owned())))
            .collect::<Result<Vec<_>>>()?;
        let body = body_of(response)?;
        let mdn = parse_mdn(
            &Headers::from_pairs(pairs),
            &body,
            std::slice::from_ref(&us.cert),
        )?;
        mdn.check(&built.message_id, Some(&built.mic), true)?;

        let stranger = identity("stranger");
        let unsigned_by_partner = super::super::corpus::build(&stranger, &us, 1).remove(0);
        let refused = codec(&keys, &headers, &unsigned_by_partner.body);
        assert!(
            refused.is_err(),
            "a message the partner did not sign is answered"
        );
        Ok(())
    }

    /// The bytes of a response's full body.
    fn body_of(response: Response<Full<Bytes>>) -> Result<Bytes> {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        Ok(runtime.block_on(response.into_body().collect())?.to_bytes())
    }
}
