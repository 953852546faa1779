//! `as2`: a command-line tool for debugging partner AS2 traffic with as2-core: inspect a
//! captured request or MDN, unpack one with keys, pack a request to post with curl, and
//! verify an MDN against the message sent, and check a message's evidence bundle.
//!
//! Exit codes: 0 success, 1 usage or I/O error; when a message or MDN fails, the code of
//! its MDN disposition (10 `decryption-failed`, 11 `authentication-failed`, 12
//! `integrity-check-failed`, 13 `decompression-failed`, 14 `insufficient-message-security`,
//! 15 `unexpected-processing-error`, 16 `unsupported format`, 17 `unsupported
//! MIC-algorithms`; 2 for a failure without one), and the output names it (see `exit.rs`).

// A command-line tool reports on stdout/stderr by design.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod capture;
mod creds;
mod evidence_verify;
mod exit;
mod inspect;
mod mdn_verify;
mod pack;
mod unpack;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What a command produced: machine output, human output, exit code.
#[derive(Debug)]
pub struct Outcome {
    /// For `--json`.
    pub json: serde_json::Value,
    /// For people.
    pub text: String,
    /// The process exit code.
    pub code: u8,
}

/// The exit codes, for `--help` (the table of `exit.rs`).
const EXIT_CODES: &str = "Exit codes: 0 ok; 1 usage or I/O error; when a message or MDN fails, its MDN \
disposition: 10 decryption-failed, 11 authentication-failed, 12 integrity-check-failed, \
13 decompression-failed, 14 insufficient-message-security, 15 unexpected-processing-error, \
16 unsupported format, 17 unsupported MIC-algorithms, 2 any other failure.";

#[derive(Debug, Parser)]
#[command(
    name = "as2",
    version,
    about = "Inspect, unpack, pack and verify AS2 messages and MDNs",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the layers of a captured AS2 request or MDN (no keys needed).
    Inspect {
        /// Captured HTTP request or response: headers, blank line, body.
        file: PathBuf,
    },
    /// Decrypt, decompress and verify a captured request; write the payload; show the MIC.
    /// On failure, print the MDN disposition and exit with its code (10-17).
    Unpack {
        /// Captured HTTP request.
        file: PathBuf,
        /// Our private key: PEM/DER PKCS#1 or PKCS#8 (encrypted too), or PKCS#12.
        #[arg(long)]
        key: PathBuf,
        /// Password of the key or PKCS#12 file.
        #[arg(long)]
        key_password: Option<String>,
        /// Our certificate, when the key file does not contain it.
        #[arg(long)]
        our_cert: Option<PathBuf>,
        /// The partner's certificate (trusted signer); may be repeated.
        #[arg(long = "cert", required = true)]
        certs: Vec<PathBuf>,
        /// Where to write the payload.
        #[arg(long)]
        out: PathBuf,
        /// Fail (insufficient-message-security) when the message is not signed.
        #[arg(long)]
        require_signed: bool,
        /// Fail (insufficient-message-security) when the message is not encrypted.
        #[arg(long)]
        require_encrypted: bool,
        /// Write the MDN a receiver would answer with (an HTTP response) to this file.
        #[arg(long)]
        mdn_out: Option<PathBuf>,
    },
    /// Build an AS2 request to post with curl, and print the MIC to expect.
    Pack(Box<PackCli>),
    /// MDN commands.
    Mdn {
        #[command(subcommand)]
        command: MdnCommand,
    },
    /// Evidence-of-delivery commands.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Check a message's evidence bundle (`GET /v1/messages/{id}/evidence`) offline: files,
    /// MDN signature, MIC, time-stamp. Exit 0, or 2 naming the failed checks.
    Verify {
        /// The bundle (zip).
        file: PathBuf,
        /// Also require the MDN's signer to be this certificate (PEM or DER).
        #[arg(long)]
        signer_cert: Option<PathBuf>,
        /// Also require the time-stamping authority to be this certificate (PEM or DER).
        #[arg(long)]
        tsa_cert: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct PackCli {
    /// The payload file.
    payload: PathBuf,
    /// Our AS2 id (AS2-From).
    #[arg(long)]
    from: String,
    /// The partner's AS2 id (AS2-To).
    #[arg(long)]
    to: String,
    /// Our private key (signing): PEM/DER PKCS#1 or PKCS#8 (encrypted too), or PKCS#12.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Password of the key or PKCS#12 file.
    #[arg(long)]
    key_password: Option<String>,
    /// Our certificate, when the key file does not contain it.
    #[arg(long)]
    our_cert: Option<PathBuf>,
    /// The partner's certificate (encryption).
    #[arg(long = "cert")]
    certs: Vec<PathBuf>,
    /// Sign with this digest: sha1, sha224, sha256, sha384, sha512 (md5 is accepted on
    /// input only).
    #[arg(long)]
    sign: Option<String>,
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5.
    #[arg(long)]
    pss: bool,
    /// Encrypt: 3des, aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm.
    #[arg(long)]
    encrypt: Option<String>,
    /// Use RSAES-OAEP (SHA-256) key transport instead of PKCS#1 v1.5.
    #[arg(long)]
    oaep: bool,
    /// Compress before or after signing.
    #[arg(long, value_parser = ["before", "after"])]
    compress: Option<String>,
    /// Request an MDN: `sync` or `async=URL`.
    #[arg(long)]
    mdn: Option<String>,
    /// Disposition-Notification-To value.
    #[arg(long, default_value = "as2@localhost")]
    mdn_to: String,
    /// Request a signed MDN with this MIC algorithm (sha1, sha224, sha256, sha384, sha512).
    #[arg(long)]
    signed_mdn: Option<String>,
    /// Content-Type of the payload.
    #[arg(long, default_value = "application/octet-stream")]
    content_type: String,
    /// Filename for the payload's Content-Disposition.
    #[arg(long)]
    filename: Option<String>,
    /// Subject header.
    #[arg(long)]
    subject: Option<String>,
    /// Use this Message-ID instead of a generated one (with or without angle brackets).
    #[arg(long)]
    message_id: Option<String>,
    /// Target in the request line.
    #[arg(long, default_value = "/as2")]
    path: String,
    /// Where to write the HTTP request (also writes OUT.headers and OUT.body).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Subcommand)]
enum MdnCommand {
    /// Verify a captured MDN against the message we sent.
    Verify {
        /// Captured MDN: HTTP response or async POST.
        file: PathBuf,
        /// The partner's certificate (verifies a signed MDN); may be repeated.
        #[arg(long = "cert", required = true)]
        certs: Vec<PathBuf>,
        /// The Message-ID of our message.
        #[arg(long)]
        message_id: String,
        /// The expected MIC, as `as2 pack` printed it (`<base64>, sha-256`).
        #[arg(long)]
        mic: Option<String>,
        /// Fail when the MDN is not signed.
        #[arg(long)]
        require_signed: bool,
    },
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Inspect { file } => inspect::run(file),
        Command::Unpack {
            file,
            key,
            key_password,
            our_cert,
            certs,
            out,
            require_signed,
            require_encrypted,
            mdn_out,
        } => unpack::run(&unpack::Args {
            file,
            key,
            key_password: key_password.as_deref(),
            our_cert: our_cert.as_deref(),
            certs,
            out,
            require_signed: *require_signed,
            require_encrypted: *require_encrypted,
            mdn_out: mdn_out.as_deref(),
        }),
        Command::Pack(p) => pack::run(&pack::Args {
            payload: &p.payload,
            from: &p.from,
            to: &p.to,
            key: p.key.as_deref(),
            key_password: p.key_password.as_deref(),
            our_cert: p.our_cert.as_deref(),
            certs: &p.certs,
            sign: p.sign.as_deref(),
            pss: p.pss,
            encrypt: p.encrypt.as_deref(),
            oaep: p.oaep,
            compress: p.compress.as_deref(),
            mdn: p.mdn.as_deref(),
            mdn_to: &p.mdn_to,
            signed_mdn: p.signed_mdn.as_deref(),
            content_type: &p.content_type,
            filename: p.filename.as_deref(),
            subject: p.subject.as_deref(),
            message_id: p.message_id.as_deref(),
            path: &p.path,
            out: &p.out,
        }),
        Command::Mdn {
            command:
                MdnCommand::Verify {
                    file,
                    certs,
                    message_id,
                    mic,
                    require_signed,
                },
        } => mdn_verify::run(&mdn_verify::Args {
            file,
            certs,
            message_id,
            mic: mic.as_deref(),
            require_signed: *require_signed,
        }),
        Command::Evidence {
            command:
                EvidenceCommand::Verify {
                    file,
                    signer_cert,
                    tsa_cert,
                },
        } => evidence_verify::run(&evidence_verify::Args {
            file,
            signer_cert: signer_cert.as_deref(),
            tsa_cert: tsa_cert.as_deref(),
        }),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(o) => {
            // a closed pipe (`as2 inspect F | head`) is not an error worth a panic
            let mut out = std::io::stdout().lock();
            let _ = if cli.json {
                writeln!(out, "{}", o.json)
            } else {
                write!(out, "{}", o.text)
            };
            ExitCode::from(o.code)
        }
        Err(e) => {
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({ "ok": false, "error": format!("{e:#}") })
                );
            } else {
                eprintln!("as2: {e:#}");
            }
            ExitCode::from(1)
        }
    }
}
