//! The payload store's behaviour, one test body run on both backends: the file system in a
//! temporary directory and S3 on a real server on 127.0.0.1 (`as2_test_support::s3`), whose
//! part size is S3's smallest so that multipart uploads stay small.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use as2_test_support::s3::S3Server;
use sha2::{Digest, Sha256};

use as2_payload_s3::{MIN_PART_SIZE, S3Config, open_s3};
use as2_store::payload::PayloadStore;

/// A store of each backend (S3 only when a server is installed; CI requires one).
struct Backends {
    _dir: tempfile::TempDir,
    _server: Option<S3Server>,
    stores: Vec<(&'static str, PayloadStore)>,
}

fn backends() -> Backends {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = vec![("fs", PayloadStore::open(dir.path()).unwrap())];
    let server = S3Server::start();
    if let Some(server) = &server {
        server.create_bucket("payloads");
        let mut config = S3Config::from_url("s3://payloads/as2/test", |n| server.var(n)).unwrap();
        // the smallest part S3 allows, so a multipart test stays small
        config.part_size = MIN_PART_SIZE;
        stores.push(("s3", open_s3(config).unwrap()));
    }
    Backends {
        _dir: dir,
        _server: server,
        stores,
    }
}

fn each(test: impl Fn(&str, &PayloadStore)) {
    for (name, store) in &backends().stores {
        test(name, store);
    }
}

/// Deterministic bytes that are not all alike (a part mix-up would show).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn read_streamed(store: &PayloadStore, key: &str) -> Vec<u8> {
    let mut streamed = Vec::new();
    store
        .open_read(key)
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    streamed
}

#[test]
fn round_trip_with_hash_and_size() {
    each(|name, store| {
        let stored = store.put_bytes(b"ISA*00*...~").unwrap();
        assert_eq!(stored.size, 11, "{name}");
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(b"ISA*00*...~")));
        assert_eq!(store.read(&stored.key).unwrap(), b"ISA*00*...~", "{name}");
        assert_eq!(read_streamed(store, &stored.key), b"ISA*00*...~", "{name}");
    });
}

#[test]
fn an_empty_payload_round_trips() {
    each(|name, store| {
        let stored = store.put_bytes(b"").unwrap();
        assert_eq!(stored.size, 0, "{name}");
        assert_eq!(store.read(&stored.key).unwrap(), b"", "{name}");
    });
}

#[test]
fn a_payload_larger_than_a_part_goes_up_in_parts_and_streams_back() {
    each(|name, store| {
        // two full parts and a short last one, written in odd-sized chunks
        let payload = pattern(2 * MIN_PART_SIZE + 123_457);
        let mut writer = store.begin().unwrap();
        for chunk in payload.chunks(700_001) {
            writer.write_all(chunk).unwrap();
        }
        let key = writer.key().to_owned();
        assert!(store.read(&key).is_err(), "{name}: visible before finish");
        let stored = writer.finish().unwrap();
        assert_eq!(stored.key, key);
        assert_eq!(stored.size, payload.len() as u64, "{name}");
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(&payload)));
        let streamed = read_streamed(store, &stored.key);
        assert!(streamed == payload, "{name}: the streamed read differs");
    });
}

#[test]
fn an_unfinished_payload_is_never_visible() {
    each(|name, store| {
        for size in [10, 2 * MIN_PART_SIZE + 1] {
            let mut writer = store.begin().unwrap();
            writer.write_all(&pattern(size)).unwrap();
            let key = writer.key().to_owned();
            drop(writer);
            let missing = store.read(&key).unwrap_err();
            assert_eq!(
                missing.kind(),
                std::io::ErrorKind::NotFound,
                "{name} {size}"
            );
            assert!(
                store.list_shard(shard_of(&key)).unwrap().is_empty(),
                "{name}"
            );
        }
    });
}

#[test]
fn missing_payloads_are_not_found_and_deleting_them_is_fine() {
    each(|name, store| {
        let key = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            store.read(key).unwrap_err().kind(),
            std::io::ErrorKind::NotFound,
            "{name}"
        );
        assert_eq!(
            store.open_read(key).err().map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound),
            "{name}"
        );
        store.delete(key).unwrap();
        let stored = store.put_bytes(b"gone soon").unwrap();
        store.delete(&stored.key).unwrap();
        assert!(store.read(&stored.key).is_err(), "{name}");
    });
}

#[test]
fn keys_cannot_escape_the_store() {
    each(|name, store| {
        for bad in [
            "../../etc/passwd",
            "",
            "ABCDEF0123456789ABCDEF0123456789",
            "zz",
            "0123456789abcdef0123456789abcde/",
        ] {
            assert!(store.read(bad).is_err(), "{name} {bad}");
            assert!(store.open_read(bad).is_err(), "{name} {bad}");
            assert!(store.delete(bad).is_err(), "{name} {bad}");
        }
    });
}

#[test]
fn a_shard_lists_its_payloads_with_their_times() {
    each(|name, store| {
        let before = SystemTime::now() - Duration::from_secs(5);
        let keys: Vec<String> = (0..6)
            .map(|i| store.put_bytes(&pattern(i)).unwrap().key)
            .collect();
        for key in &keys {
            let listed = store.list_shard(shard_of(key)).unwrap();
            let entry = listed
                .iter()
                .find(|l| &l.key == key)
                .unwrap_or_else(|| panic!("{name}: {key} not listed"));
            assert!(entry.modified >= before, "{name}");
            assert!(listed.iter().all(|l| l.key[..2] == key[..2]), "{name}");
        }
        store.delete_many(&keys).unwrap();
        for key in &keys {
            assert!(store.read(key).is_err(), "{name}");
        }
    });
}

fn shard_of(key: &str) -> u8 {
    u8::from_str_radix(&key[..2], 16).unwrap()
}
