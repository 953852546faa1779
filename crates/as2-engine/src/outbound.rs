//! Outbound messages, the parts that need no network: `prepare` claims a queued message and
//! writes its [`Recipe`] as the partner's settings say (compress, sign with the station's key,
//! encrypt for the partner's certificate) under its fixed Message-ID; `record_mic` keeps the
//! MIC the partner's MDN must return; `conclude` reads what the partner answered and moves
//! the message on (`delivered`, `sent` awaiting an async MDN, back to `queued` for a retry, or
//! `failed`). The worker encodes the body from the payload store and does the HTTP in between.

mod recipe;

use std::time::Duration;

use as2_core::cms::EncryptOptions;
use as2_core::crypto::{
    ContentEncryption, CryptoProvider, DigestAlgorithm, KeyTransport, MicAlgStyle, SignatureScheme,
};
use as2_core::message::{Compression, Mic, NotificationOptions, OutboundMessage};
use as2_domain::algorithms::{
    self as domain, CompressionOrder, EncryptAlgorithm, MdnMode, SignAlgorithm,
};
use as2_domain::id::{MessageId, StationId};
use as2_domain::message::{Direction, ErrorKind, Message, MessageError, MessageStatus};
use as2_domain::partner::Partner;
use as2_domain::public_url::PublicAs2Urls;
use as2_domain::station::Station;
use as2_domain::webhook::EventType;
use as2_store::jobs::{Fate, JobInput, MdnTimeout, MessageRef};
use as2_store::payload::PayloadStore;
use as2_store::{Announce, Scope, Store, StoreError, StoreResult, Tx};

use crate::error::EngineError;
use crate::material::{certificate, station_signer};
use crate::mdn::apply_receipt;

pub use self::recipe::Recipe;
use self::recipe::Signing;

/// Engine settings the outbound side needs.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// The crypto provider: randomness and the key implementation (the binary chooses it).
    pub crypto: &'static CryptoProvider,
    /// Where partners post our async MDNs when the station names no `mdn_url`: the public
    /// AS2 URL of the message's mode (`AS2_PUBLIC_AS2_URL`, `AS2_PUBLIC_AS2_TEST_URL`), where
    /// the gateway recognises an MDN by its content.
    pub async_mdn_urls: PublicAs2Urls,
    /// How long an async MDN may take before the message fails.
    pub mdn_timeout: Duration,
    /// The domain of generated Message-IDs and our `User-Agent`.
    pub user_agent: String,
    /// After how many send attempts in a row without an answer a partner is announced
    /// unreachable (`partner.unreachable`, emailed to the tenant's alert recipients).
    pub unreachable_alert_after: u32,
}

impl OutboundConfig {
    /// The defaults, with `crypto`.
    #[must_use]
    pub fn new(crypto: &'static CryptoProvider) -> Self {
        Self {
            crypto,
            async_mdn_urls: PublicAs2Urls::new("http://127.0.0.1:8081/as2/receive", None),
            mdn_timeout: Duration::from_secs(6 * 3600),
            user_agent: concat!("as2-platform/", env!("CARGO_PKG_VERSION")).into(),
            unreachable_alert_after: 5,
        }
    }
}

/// A message ready to encode and post.
#[derive(Debug, Clone)]
pub struct PreparedSend {
    /// Tenant and mode.
    pub scope: Scope,
    /// The message (status `processing`); its `mic` is set once the body is encoded.
    pub message: Message,
    /// The partner it goes to.
    pub partner: Partner,
    /// The partner's AS2 URL.
    pub url: String,
    /// HTTP headers besides the encoder's (the AS2 and MIME headers): `User-Agent`, and
    /// `Authorization` when the partner uses basic auth.
    pub headers: Vec<(String, String)>,
    /// How to encode the body, again on every attempt.
    pub recipe: Recipe,
    /// The partner's timeout.
    pub timeout: Duration,
    /// Backoff base between attempts.
    pub retry_interval: Duration,
}

/// What `prepare` decided.
#[derive(Debug)]
pub enum Prepared {
    /// Post this.
    Send(Box<PreparedSend>),
    /// Nothing to do: the message is already past sending (a job run twice after a crash).
    Done,
    /// The message cannot be built (missing certificate or key): it failed.
    Failed(Box<Message>),
}

/// What the partner answered.
#[derive(Debug, Clone)]
pub enum HttpOutcome {
    /// No answer: connection refused, TLS failure, timeout.
    Transport(String),
    /// Not sent: the destination policy refuses the URL's address (the sentence says which
    /// and why). No retry can change that.
    Refused(String),
    /// An HTTP answer.
    Answer {
        /// Status code.
        status: u16,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
}

/// What `conclude` made of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conclusion {
    /// Final: delivered or failed.
    Final(MessageStatus),
    /// Sent; an async MDN is awaited until the timeout job runs.
    AwaitingMdn,
    /// Try again later (the message is `queued` again): the reason.
    Retry(String),
}

fn digest(alg: SignAlgorithm) -> DigestAlgorithm {
    match alg {
        SignAlgorithm::Sha1 => DigestAlgorithm::Sha1,
        SignAlgorithm::Sha256 => DigestAlgorithm::Sha256,
        SignAlgorithm::Sha384 => DigestAlgorithm::Sha384,
        SignAlgorithm::Sha512 => DigestAlgorithm::Sha512,
        SignAlgorithm::Sha3_256 => DigestAlgorithm::Sha3_256,
        SignAlgorithm::Sha3_384 => DigestAlgorithm::Sha3_384,
        SignAlgorithm::Sha3_512 => DigestAlgorithm::Sha3_512,
    }
}

fn cipher(alg: EncryptAlgorithm) -> ContentEncryption {
    match alg {
        EncryptAlgorithm::TripleDes => ContentEncryption::Des3Cbc,
        EncryptAlgorithm::Aes128Cbc => ContentEncryption::Aes128Cbc,
        EncryptAlgorithm::Aes192Cbc => ContentEncryption::Aes192Cbc,
        EncryptAlgorithm::Aes256Cbc => ContentEncryption::Aes256Cbc,
        EncryptAlgorithm::Aes128Gcm => ContentEncryption::Aes128Gcm,
        EncryptAlgorithm::Aes256Gcm => ContentEncryption::Aes256Gcm,
    }
}

/// The codec's form of a partner's unsigned-MIC setting (both directions use it).
pub(crate) fn unsigned_mic(setting: domain::UnsignedMic) -> as2_core::message::UnsignedMic {
    match setting {
        domain::UnsignedMic::ContentOnly => as2_core::message::UnsignedMic::ContentOnly,
        domain::UnsignedMic::WithHeaders => as2_core::message::UnsignedMic::WithHeaders,
    }
}

fn secs(value: i32) -> Duration {
    Duration::from_secs(u64::try_from(value.max(1)).unwrap_or(1))
}

/// Fails `message` for a reason no retry can fix, with its events.
fn fail_for_configuration(
    store: &Store,
    scope: Scope,
    message: &Message,
    sentence: String,
) -> Result<Prepared, EngineError> {
    let error = MessageError {
        kind: ErrorKind::Configuration,
        sentence,
    };
    let failed = store.messages().transition(
        scope,
        message.id,
        MessageStatus::Failed,
        Some(&error),
        "failed",
        Some(&Announce::new(EventType::MessageFailed)),
    )?;
    Ok(Prepared::Failed(Box::new(failed)))
}

/// Takes the job's message to `processing` and writes how to encode it.
pub fn prepare(
    store: &Store,
    job: &MessageRef,
    config: &OutboundConfig,
) -> Result<Prepared, EngineError> {
    let scope = job.scope()?;
    let message = match store.messages().get(scope, job.message()) {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Ok(Prepared::Done),
        Err(e) => return Err(e.into()),
    };
    if message.direction != Direction::Outbound {
        return Ok(Prepared::Done);
    }
    let message = match message.status {
        MessageStatus::Queued => store.messages().transition(
            scope,
            message.id,
            MessageStatus::Processing,
            None,
            "sending",
            None,
        )?,
        // A worker died mid-send: send again under the same Message-ID (the partner
        // answers a duplicate with its original MDN).
        MessageStatus::Processing => {
            store.messages().add_event(
                scope,
                message.id,
                "resumed",
                Some("Sending again after an interrupted attempt"),
            )?;
            message
        }
        _ => return Ok(Prepared::Done),
    };
    let partner = store.partners().get(scope, message.partner_id)?;
    let station = store.stations().get(scope, message.station_id)?;
    match build(store, scope, &message, &partner, &station, config) {
        Ok(recipe) => {
            let mut headers = vec![("User-Agent".to_owned(), config.user_agent.clone())];
            if partner.settings.auth {
                let password = store
                    .partners()
                    .auth_password(scope, partner.id)?
                    .unwrap_or_default();
                let user = partner.settings.auth_user.clone().unwrap_or_default();
                headers.push((
                    "Authorization".into(),
                    crate::basic_auth::header(&user, &password),
                ));
            }
            Ok(Prepared::Send(Box::new(PreparedSend {
                scope,
                url: message
                    .destination_url
                    .clone()
                    .unwrap_or_else(|| partner.settings.url.clone()),
                timeout: secs(partner.settings.timeout_secs),
                retry_interval: secs(partner.settings.retry_interval_secs),
                partner,
                message,
                headers,
                recipe,
            })))
        }
        Err(BuildError::Platform(e)) => Err(e),
        Err(unbuildable) => fail_for_configuration(store, scope, &message, unbuildable.to_string()),
    }
}

/// Why a message could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The message has no payload to send.
    #[error("The message has no stored payload")]
    NoPayload,
    /// The partner wants signed messages and the station has no key to sign with.
    #[error(
        "The partner's settings ask for signed messages but station {0} has no certificate with a private key; add one to the station"
    )]
    NoSigningKey(StationId),
    /// The partner wants encrypted messages and has no certificate to encrypt for.
    #[error(
        "The partner's settings ask for encryption but the partner has no certificate; upload the partner's certificate and set certificate_id"
    )]
    NoPartnerCertificate,
    /// The partner has no AS2 URL (it was created to only send to us) and the message names
    /// no destination of its own.
    #[error("The partner has no AS2 URL to send to; set the partner's url")]
    NoUrl,
    /// The platform failed (the store, our own key material): try again.
    #[error(transparent)]
    Platform(#[from] EngineError),
}

/// Writes the recipe of the AS2 request (the payload is read when it is encoded); a
/// [`BuildError`] other than `Platform` means the settings make it impossible, and no retry
/// can help.
fn build(
    store: &Store,
    scope: Scope,
    message: &Message,
    partner: &Partner,
    station: &Station,
    config: &OutboundConfig,
) -> Result<Recipe, BuildError> {
    let Some(payload) = &message.payload else {
        return Err(BuildError::NoPayload);
    };
    if message.destination_url.is_none() && partner.settings.url.is_empty() {
        return Err(BuildError::NoUrl);
    }
    let settings = &partner.settings;
    let signing = if settings.sign {
        match station_signer(config.crypto, store, scope, station).map_err(EngineError::from)? {
            Some((certificate, key)) => Some(Signing {
                certificate,
                key,
                digest: digest(settings.sign_algorithm),
                scheme: match settings.signature_scheme {
                    domain::SignatureScheme::Pkcs1v15 => SignatureScheme::Pkcs1v15,
                    domain::SignatureScheme::Pss => SignatureScheme::Pss,
                },
            }),
            None => return Err(BuildError::NoSigningKey(station.id)),
        }
    } else {
        None
    };
    let recipient = if settings.encrypt {
        match settings.encryption_certificate() {
            Some(id) => Some(certificate(store, scope, id).map_err(EngineError::from)?),
            None => return Err(BuildError::NoPartnerCertificate),
        }
    } else {
        None
    };
    let mut out = OutboundMessage::new(
        config.crypto,
        &station.settings.as2_id,
        &settings.as2_id,
        &[],
        &message.content_type,
    );
    out.message_id = Some(message.as2_message_id.clone());
    out.subject = message
        .subject
        .clone()
        .unwrap_or_else(|| "AS2 message".into());
    out.filename = message.filename.clone();
    out.unsigned_mic = unsigned_mic(settings.unsigned_mic);
    if settings.compress {
        out.compression = match settings.compression_order {
            CompressionOrder::BeforeSigning => Compression::BeforeSigning,
            CompressionOrder::AfterSigning => Compression::AfterSigning,
        };
    }
    let encryption = recipient.map(|cert| {
        let options = EncryptOptions::new(cipher(settings.encrypt_algorithm)).with_key_transport(
            match settings.key_transport {
                domain::KeyTransport::RsaPkcs1v15 => KeyTransport::RsaPkcs1v15,
                domain::KeyTransport::RsaOaepSha1 => KeyTransport::RsaOaep(DigestAlgorithm::Sha1),
                domain::KeyTransport::RsaOaepSha256 => {
                    KeyTransport::RsaOaep(DigestAlgorithm::Sha256)
                }
            },
        );
        (cert, options)
    });
    if settings.mdn_mode != MdnMode::None {
        out.mdn_to = Some(station.settings.as2_id.clone());
        out.mdn_options = Some(if settings.mdn_signed {
            NotificationOptions::signed(&[digest(settings.sign_algorithm)])
        } else {
            NotificationOptions::parse("")
        });
    }
    if settings.mdn_mode == MdnMode::Async {
        out.receipt_delivery_option = Some(
            station
                .settings
                .mdn_url
                .clone()
                .unwrap_or_else(|| config.async_mdn_urls.for_mode(scope.mode).to_owned()),
        );
    }
    // only what works: a partner that believes in multiple attachments would send several
    // documents in one message, which we store as one
    out.ediint_features = vec!["CEM".into()];
    Ok(Recipe {
        template: out,
        payload: payload.clone(),
        // a negative size is no size: the body is then spooled to learn its length
        payload_len: u64::try_from(message.bytes).ok(),
        signing,
        encryption,
    })
}

/// Keeps the MIC the partner's MDN must return, once the body is encoded: the first
/// attempt's stays (the MIC covers the payload entity, the same on every attempt). Called
/// before the body's last bytes leave, so that an async MDN never arrives before its MIC.
/// Returns `message` with its MIC.
///
/// # Errors
/// The store failed.
pub fn record_mic(
    store: &Store,
    scope: Scope,
    message: &Message,
    mic: &Mic,
) -> Result<Message, EngineError> {
    let mut message = message.clone();
    if message.mic.is_none() {
        let value = mic.to_header_value(MicAlgStyle::Rfc5751);
        store.messages().set_mic(scope, message.id, &value)?;
        message.mic = Some(value);
    }
    Ok(message)
}

/// Moves the message on according to the partner's answer.
pub fn conclude(
    store: &Store,
    payloads: &PayloadStore,
    sent: &PreparedSend,
    outcome: &HttpOutcome,
    config: &OutboundConfig,
) -> Result<Conclusion, EngineError> {
    let scope = sent.scope;
    let (status, headers, body) = match outcome {
        HttpOutcome::Transport(reason) => {
            return Ok(Conclusion::Retry(format!(
                "Could not reach the partner at {}: {reason}",
                sent.url
            )));
        }
        HttpOutcome::Refused(reason) => {
            let sentence = format!(
                "The message was not sent to the partner's URL {}: {reason}",
                sent.url
            );
            fail_for_configuration(store, scope, &sent.message, sentence)?;
            return Ok(Conclusion::Final(MessageStatus::Failed));
        }
        HttpOutcome::Answer {
            status,
            headers,
            body,
        } => (*status, headers, body),
    };
    if let Some(redirect) = crate::http_client::redirect_refusal(
        status,
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("location"))
            .map(|(_, value)| value.as_str()),
    ) {
        return Ok(Conclusion::Retry(format!(
            "The partner answered {redirect}"
        )));
    }
    if !(200..300).contains(&status) {
        let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
        return Ok(Conclusion::Retry(format!(
            "The partner answered HTTP {status}{}",
            if text.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", text.trim())
            }
        )));
    }
    match sent.partner.settings.mdn_mode {
        MdnMode::Sync => {
            match apply_receipt::apply(
                config.crypto,
                store,
                payloads,
                scope,
                &sent.message,
                &sent.partner,
                headers,
                body,
            )? {
                apply_receipt::Receipt::Applied(done) => Ok(Conclusion::Final(done.status)),
                // No authenticated receipt: like no answer, tried again under the same
                // Message-ID until the attempts are used up.
                apply_receipt::Receipt::Refused(sentence) => Ok(Conclusion::Retry(sentence)),
            }
        }
        MdnMode::Async => {
            let timeout_at = chrono::Utc::now()
                + chrono::Duration::from_std(config.mdn_timeout)
                    .unwrap_or_else(|_| chrono::Duration::hours(6));
            // sent, its timeout and its event commit together: a crash leaves no sent
            // message that nothing would ever time out
            let sent_now = store.transaction(|tx| {
                let message = tx.messages().transition(
                    scope,
                    sent.message.id,
                    MessageStatus::Sent,
                    None,
                    "sent",
                    Some(&Announce::new(EventType::MessageSent)),
                )?;
                tx.jobs().enqueue(
                    &MdnTimeout(MessageRef::new(scope, message.id)),
                    timeout_at,
                    MdnTimeout::RETRY.max_attempts,
                )?;
                Ok(message)
            });
            match sent_now {
                Ok(_) => Ok(Conclusion::AwaitingMdn),
                // The async MDN came back before we got here: the message is final already.
                Err(StoreError::Conflict(_)) => {
                    let now = store.messages().get(scope, sent.message.id)?;
                    Ok(Conclusion::Final(now.status))
                }
                Err(e) => Err(e.into()),
            }
        }
        MdnMode::None => {
            store.messages().transition(
                scope,
                sent.message.id,
                MessageStatus::Delivered,
                None,
                "delivered",
                Some(&Announce::new(EventType::MessageDelivered)),
            )?;
            Ok(Conclusion::Final(MessageStatus::Delivered))
        }
    }
}

/// What a failed attempt leaves, written with the job's outcome: the message goes back to
/// `queued` when its job runs again, and fails (announced) when the job is dead.
///
/// # Errors
/// The store failed (the job's outcome is not written either).
pub fn after_failed_attempt(
    tx: &mut Tx<'_>,
    scope: Scope,
    message: &Message,
    reason: &str,
    fate: Fate,
) -> StoreResult<()> {
    let (to, event, sentence, announce) = match fate {
        Fate::RetryAt(_) => (
            MessageStatus::Queued,
            "retry_scheduled",
            reason.to_owned(),
            None,
        ),
        Fate::Dead => (
            MessageStatus::Failed,
            "failed",
            format!(
                "{reason}. Gave up after {} attempts; check the partner's URL and availability, then retry",
                message.attempts
            ),
            Some(Announce::new(EventType::MessageFailed)),
        ),
        Fate::Done => return Ok(()),
    };
    let error = MessageError {
        kind: ErrorKind::Transport,
        sentence,
    };
    tx.messages().transition(
        scope,
        message.id,
        to,
        Some(&error),
        event,
        announce.as_ref(),
    )?;
    Ok(())
}

/// The async MDN of a `sent` message never came: it fails (announced). Nothing happens when
/// the message is gone or no longer `sent` (the MDN arrived meanwhile).
///
/// # Errors
/// The store failed.
pub fn mdn_timed_out(tx: &mut Tx<'_>, scope: Scope, id: MessageId) -> StoreResult<()> {
    let message = match tx.messages().get(scope, id) {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if message.status != MessageStatus::Sent {
        return Ok(());
    }
    let error = MessageError {
        kind: ErrorKind::MdnTimeout,
        sentence: "The partner's asynchronous MDN did not arrive in time; ask the partner whether they received the message, then retry".into(),
    };
    tx.messages().transition(
        scope,
        message.id,
        MessageStatus::Failed,
        Some(&error),
        "failed",
        Some(&Announce::new(EventType::MessageFailed)),
    )?;
    Ok(())
}
