//! Deleting a certificate or a station only when nothing live uses it, on both backends:
//! what uses a certificate (a station's or partner's column, a live subject's trust record),
//! the partners of a station, nothing deleted while in use, and the name of a deleted one,
//! never another tenant's or mode's.

use as2_domain::trust::{TrustRecord, TrustSubject};
use as2_store::StoreError;
use as2_store::repo::deletion::{CertificateUse, Deletion};
use as2_store::testing::TestDb;

use crate::common::*;

#[test]
fn a_certificate_in_use_stays_until_nothing_live_uses_it() {
    for db in TestDb::all() {
        let store = &db.store;
        let s = scopes(store);
        let (theirs, ours, next, spare) = (
            certificate(store, s.a, None),
            certificate(store, s.a, Some(b"key")),
            certificate(store, s.a, Some(b"key")),
            certificate(store, s.a, None),
        );
        let mut station_settings = store
            .stations()
            .get(s.a, station(store, s.a, "OURS"))
            .unwrap();
        station_settings.settings.encryption_certificate_id = Some(ours);
        let station = store
            .stations()
            .update(s.a, station_settings.id, &station_settings.settings)
            .unwrap();
        let mut settings = partner_settings(station.id, "THEIRS");
        settings.certificate_id = Some(theirs);
        settings.tls_inbound_client_certificate_id = Some(theirs);
        let partner = store.partners().create(s.a, &settings, None).unwrap();
        let mut record = TrustRecord::with_current(None);
        record.next = Some(next);
        let event = trust_event("rollover_scheduled", "test");
        store
            .trust()
            .save(
                s.a,
                TrustSubject::Station,
                station.id.0,
                None,
                &record,
                None,
                &event,
            )
            .unwrap();

        let certificates = store.certificates();
        assert_eq!(
            certificates.uses(s.a, theirs).unwrap(),
            [
                CertificateUse::Partner {
                    id: partner.id,
                    field: "certificate_id"
                },
                CertificateUse::Partner {
                    id: partner.id,
                    field: "tls_inbound_client_certificate_id"
                },
            ]
        );
        assert_eq!(
            certificates.uses(s.a, ours).unwrap(),
            [CertificateUse::Station {
                id: station.id,
                field: "encryption_certificate_id"
            }]
        );
        assert_eq!(
            certificates.uses(s.a, next).unwrap(),
            [CertificateUse::Trust {
                subject: TrustSubject::Station,
                id: station.id.0,
                slot: "next"
            }]
        );
        for id in [theirs, ours, next] {
            let refused = certificates.delete_unused(s.a, id).unwrap();
            assert!(matches!(refused, Deletion::InUse(_)), "{id}");
            assert!(certificates.get(s.a, id).is_ok(), "{id} kept");
            assert_eq!(certificates.deleted_name(s.a, id).unwrap(), None);
        }
        for other in [s.b, s.a_live] {
            assert!(matches!(
                certificates.delete_unused(other, spare),
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                certificates.uses(other, spare),
                Err(StoreError::NotFound)
            ));
        }
        assert_eq!(
            certificates.delete_unused(s.a, spare).unwrap(),
            Deletion::Deleted
        );
        assert_eq!(
            certificates.deleted_name(s.a, spare).unwrap().as_deref(),
            Some("cert")
        );
        assert_eq!(certificates.deleted_name(s.b, spare).unwrap(), None);
        assert!(matches!(
            certificates.delete_unused(s.a, spare),
            Err(StoreError::NotFound)
        ));

        // the station's partner keeps it; once both are deleted nothing uses anything
        let stations = store.stations();
        assert_eq!(
            stations.partners_using(s.a, station.id).unwrap(),
            [partner.id]
        );
        assert_eq!(
            stations.delete_unused(s.a, station.id).unwrap(),
            Deletion::InUse(vec![partner.id])
        );
        assert!(stations.get(s.a, station.id).is_ok());
        assert!(matches!(
            stations.delete_unused(s.b, station.id),
            Err(StoreError::NotFound)
        ));
        store.partners().delete(s.a, partner.id).unwrap();
        assert_eq!(
            stations.delete_unused(s.a, station.id).unwrap(),
            Deletion::Deleted
        );
        assert_eq!(
            stations.deleted_names(s.a, station.id).unwrap(),
            Some(("Station OURS".to_owned(), "OURS".to_owned()))
        );
        assert_eq!(stations.deleted_names(s.a_live, station.id).unwrap(), None);
        for id in [theirs, ours, next] {
            assert!(certificates.uses(s.a, id).unwrap().is_empty(), "{id}");
            assert_eq!(
                certificates.delete_unused(s.a, id).unwrap(),
                Deletion::Deleted
            );
        }
    }
}
