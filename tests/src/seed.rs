//! Direct seeding of the store for tests and benchmarks that start the gateway binary
//! themselves: RSA identities and a tenant with one station and one partner (test mode unless
//! said otherwise: such stations are reached on the gateway's test URL, `/as2/test/receive`).

use std::time::Duration;

use as2_core::cert::Certificate;
use as2_core::crypto::PrivateKeyOps;
use as2_core::{cert, keys};
use as2_domain::Mode;
use as2_domain::algorithms::MdnMode;
use as2_domain::certificate::CertificateInfo;
use as2_domain::id::{AccountId, PartnerId, StationId};
use as2_domain::partner::PartnerSettings;
use as2_domain::plan::Plan;
use as2_domain::station::StationSettings;
use as2_store::repo::certificates::NewCertificate;
use as2_store::{Scope, Store};

/// The master key of stores made here (the one `as2_store::testing` uses): 32 bytes of 7.
pub const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

/// `AS2_OUTBOUND_ALLOW` for a gateway binary that posts to 127.0.0.1 (a partner or itself):
/// loopback, which the platform refuses by default.
pub const OUTBOUND_ALLOW_LOOPBACK: &str = "127.0.0.0/8,::1";

/// An RSA-2048 key pair with a self-signed certificate.
#[derive(Debug)]
pub struct Identity {
    /// The private key.
    pub key: Box<dyn PrivateKeyOps>,
    /// The private key in PEM.
    pub key_pem: Vec<u8>,
    /// The certificate.
    pub cert: Certificate,
}

/// A new identity `CN=name`, valid for a day.
pub fn identity(name: &str) -> Identity {
    let key =
        keys::generate_rsa_key(&as2_core::crypto::rust_crypto::DEFAULT_PROVIDER, 2048).unwrap();
    let cert = cert::generate_self_signed(
        &as2_core::crypto::rust_crypto::DEFAULT_PROVIDER,
        &key,
        &format!("CN={name}"),
        std::time::SystemTime::now(),
        Duration::from_secs(86_400),
    )
    .unwrap();
    let key_pem = keys::private_key_to_pem(&key).unwrap().as_bytes().to_vec();
    Identity {
        key: Box::new(key),
        key_pem,
        cert,
    }
}

/// The domain's view of a certificate.
pub fn info(cert: &Certificate) -> CertificateInfo {
    CertificateInfo {
        subject: cert.subject(),
        issuer: cert.issuer(),
        serial: cert.serial_hex(),
        fingerprint_sha256: cert.fingerprint_sha256_hex(),
        not_before: cert.not_before().into(),
        not_after: cert.not_after().into(),
        key_usage: vec![],
    }
}

/// One test-mode tenant with station `ours` (key pair `me`) and partner `theirs` (certificate
/// `them`, posting to `url`, signed sync MDNs, retries every second).
pub fn tenant(
    store: &Store,
    name: &str,
    ours: &str,
    theirs: &str,
    me: &Identity,
    them: &Identity,
    url: &str,
) -> (Scope, StationId, PartnerId) {
    let seeded = seed(
        store,
        &Seed {
            mode: Mode::Test,
            name,
            ours,
            theirs,
            me,
            them,
            url,
            basic_auth: None,
        },
    );
    (seeded.scope, seeded.station, seeded.partner)
}

/// What [`seed`] made.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    /// The account that owns the tenant.
    pub account: AccountId,
    /// The tenant and mode.
    pub scope: Scope,
    /// Our station.
    pub station: StationId,
    /// The partner.
    pub partner: PartnerId,
}

/// What [`seed`] makes.
#[derive(Debug, Clone, Copy)]
pub struct Seed<'a> {
    /// The mode of the tenant's station and partner.
    pub mode: Mode,
    /// The account and tenant name.
    pub name: &'a str,
    /// Our station's AS2 ID.
    pub ours: &'a str,
    /// The partner's AS2 ID.
    pub theirs: &'a str,
    /// Our station's key pair.
    pub me: &'a Identity,
    /// The partner's certificate.
    pub them: &'a Identity,
    /// The partner's AS2 URL.
    pub url: &'a str,
    /// The basic-auth user and password the partner must send us, if any.
    pub basic_auth: Option<(&'a str, &'a str)>,
}

/// One tenant with a station and a partner of `seed.mode` (signed sync MDNs, retries every
/// second).
#[allow(clippy::missing_panics_doc)]
pub fn seed(store: &Store, seed: &Seed<'_>) -> Seeded {
    let Seed {
        mode,
        name,
        ours,
        theirs,
        me,
        them,
        url,
        basic_auth,
    } = *seed;
    let account = store
        .accounts()
        .create_account(name, Plan::Professional)
        .unwrap();
    let tenant = store.accounts().create_tenant(account.id, name).unwrap();
    let scope = Scope::new(tenant.id, mode);
    let pair = store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "ours",
                info: &info(&me.cert),
                der: me.cert.der(),
                chain_der: None,
                private_key_der: Some(&me.key_pem),
            },
        )
        .unwrap();
    let partner_cert = store
        .certificates()
        .create(
            scope,
            &NewCertificate {
                name: "theirs",
                info: &info(&them.cert),
                der: them.cert.der(),
                chain_der: None,
                private_key_der: None,
            },
        )
        .unwrap();
    let station = store
        .stations()
        .create(
            scope,
            &StationSettings {
                name: ours.into(),
                as2_id: ours.into(),
                certificate_id: Some(pair.id),
                encryption_certificate_id: None,
                mdn_url: None,
                is_default: true,
            },
        )
        .unwrap();
    let mut settings = PartnerSettings::new(theirs.into(), theirs.into(), url.into(), station.id);
    settings.certificate_id = Some(partner_cert.id);
    settings.mdn_mode = MdnMode::Sync;
    settings.mdn_signed = true;
    settings.retry_interval_secs = 1;
    settings.retry_attempts = 20;
    if let Some((user, _)) = basic_auth {
        settings.auth = true;
        settings.auth_user = Some(user.into());
    }
    let partner = store
        .partners()
        .create(scope, &settings, basic_auth.map(|(_, password)| password))
        .unwrap();
    Seeded {
        account: account.id,
        scope,
        station: station.id,
        partner: partner.id,
    }
}
