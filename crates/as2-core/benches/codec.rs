//! The codec per message: build (sign SHA-256 + encrypt AES-256-CBC, no compression) and
//! parse (decrypt + verify + MIC) of 1 KB, 1 MB and 100 MB payloads, with each RSA
//! backend (`rsa` 0.10 and aws-lc-rs through as2-crypto-aws-lc).
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a caller of the codec: it reads the clock, files and processes as callers do"
)]

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn codec(c: &mut Criterion<common::cpu_time::CpuTime>) {
    let id = common::identity();
    for (label, len) in common::SIZES {
        let data = common::payload(len);
        let mut group = c.benchmark_group(format!("codec_{label}"));
        common::tune(&mut group, len);
        group.throughput(Throughput::Bytes(len as u64));
        for (backend, key) in common::backends(id) {
            group.bench_function(BenchmarkId::new("build", backend), |b| {
                b.iter(|| common::build(id, key, black_box(&data)));
            });
            let built = common::build(id, key, &data);
            assert_eq!(common::parse(id, key, &built), len);
            group.bench_function(BenchmarkId::new("parse", backend), |b| {
                b.iter(|| common::parse(id, key, black_box(&built)));
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = codec
}
criterion_main!(benches);
