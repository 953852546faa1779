//! Email for alerts: the installation's SMTP server (`AS2_SMTP_URL`, `AS2_SMTP_FROM`) through
//! lettre on tokio (rustls for `smtps://` and STARTTLS). A send that fails for now (no
//! connection, a 4xx answer, a timeout) is tried again by the job; one the server refuses for
//! good (a 5xx answer, an address it will not take) is not.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A mail server settings error, naming the variable.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// `AS2_SMTP_URL` is not an SMTP URL lettre understands.
    #[error(
        "AS2_SMTP_URL must be smtp://host[:port] (add ?tls=required for STARTTLS) or smtps://host[:port], with user:password@ when the server asks: {0}"
    )]
    Url(String),
    /// `AS2_SMTP_FROM` is not an address.
    #[error("AS2_SMTP_FROM must be an address such as \"AS2 platform <as2@example.com>\": {0}")]
    From(String),
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// Worth trying again later.
    Transient(String),
    /// The server or the mail is refused for good.
    Permanent(String),
}

/// The installation's mail server and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The server without credentials, for logs.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer of `url` (`AS2_SMTP_URL`) sending as `from` (`AS2_SMTP_FROM`).
    ///
    /// # Errors
    /// Either setting is malformed; the error names the variable and never the password.
    pub fn new(url: &str, from: &str) -> Result<Self, MailerError> {
        let server = without_credentials(url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError::Url(format!("{server}: {e}")))?
            .timeout(Some(TIMEOUT))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| MailerError::From(format!("{e}")))?;
        Ok(Self {
            transport,
            from,
            server,
        })
    }

    /// The server, without credentials.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one plain-text mail to every address of `to`.
    ///
    /// # Errors
    /// The mail could not be handed to the server ([`SendFailure`] says whether to retry).
    pub async fn send(
        &self,
        to: &[String],
        subject: &str,
        body: String,
    ) -> Result<(), SendFailure> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        for address in to {
            let mailbox: Mailbox = address.parse().map_err(|e| {
                SendFailure::Permanent(format!("the address {address:?} is not valid: {e}"))
            })?;
            builder = builder.to(mailbox);
        }
        let message = builder
            .body(body)
            .map_err(|e| SendFailure::Permanent(format!("the mail could not be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendFailure::Permanent(format!(
                "the mail server {} refused the mail: {e}",
                self.server
            ))),
            Err(e) => Err(SendFailure::Transient(format!(
                "the mail server {} could not take the mail: {e}",
                self.server
            ))),
        }
    }
}

/// `url` without `user:password@`.
fn without_credentials(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_credentials_never_shown() {
        let mailer = Mailer::new(
            "smtps://alerts:s3cret@mail.example.com:465",
            "AS2 <as2@example.com>",
        )
        .unwrap();
        assert_eq!(mailer.server(), "smtps://mail.example.com:465");
        assert!(!format!("{mailer:?}").contains("s3cret"));
        let bad = Mailer::new("http://mail.example.com", "as2@example.com").unwrap_err();
        assert!(bad.to_string().contains("AS2_SMTP_URL"));
        let bad = Mailer::new("smtp://u:s3cret@:25", "as2@example.com").unwrap_err();
        assert!(!bad.to_string().contains("s3cret"), "{bad}");
        let bad = Mailer::new("smtp://127.0.0.1:2525", "not an address").unwrap_err();
        assert!(bad.to_string().contains("AS2_SMTP_FROM"));
    }
}
