//! The summary of a `bench gateway` run: one table row per case, each beside the RSA floor
//! measured in the same run, with the CPU per message of every process that shared the cores.

use std::fmt::Write as _;

use super::Figures;
use super::pinning::Pinning;

/// What one run measured.
pub(crate) struct Run<'a> {
    pub(crate) messages: usize,
    pub(crate) connections: usize,
    pub(crate) cores: usize,
    /// One RSA-2048 private-key operation with every core signing, before the cases.
    pub(crate) floor_ms: f64,
    /// The same, measured again after the cases (a drift says the machine changed).
    pub(crate) floor_after_ms: f64,
    /// The gateway's cores, when it was pinned to some and the rest ran elsewhere.
    pub(crate) pinning: Option<&'a Pinning>,
    pub(crate) rows: &'a [Figures],
}

/// The Markdown summary: the floor, then a row per case. "of the floor" is messages/s over
/// the floor measured beside the case (the faster of the floors right before and right after
/// it, two RSA operations per message on the gateway's cores); "gateway alone" is the share of the floor the gateway's own CPU per message
/// allows once the load generator and the database server run on other machines (two RSA
/// operations over the gateway's CPU per message).
pub(crate) fn summary(run: &Run<'_>) -> String {
    let Run {
        messages,
        connections,
        cores,
        floor_ms,
        floor_after_ms,
        pinning,
        rows,
    } = *run;
    let placement = pinning.map_or_else(
        || format!("{cores} cores shared by the gateway, the load generator and the database server"),
        |p| {
            format!(
                "the gateway pinned to CPU {} ({cores} core{}), the load generator and the database server on CPU {}",
                p.gateway,
                if cores == 1 { "" } else { "s" },
                p.others
            )
        },
    );
    let floor_per_second = cores as f64 / (2.0 * floor_ms / 1000.0);
    let mut out = format!(
        "Gateway receive, signed + encrypted 1 KB, signed sync MDN, {messages} messages per case \
         over {connections} connections, {placement}\n\n\
         RSA floor (same run): {floor_ms:.3} ms per RSA-2048 private operation with the gateway's \
         {cores} core(s) signing (aws-lc-rs, the gateway's backend; {floor_after_ms:.3} ms after the cases) \
         → {floor_per_second:.0} messages/s at 2 operations per message; each row is read against \
         the floor measured right before and right after its case (the faster of the two, its \
         own column)\n\n\
         Databases: SQLite inside the gateway's process (WAL, `synchronous = FULL`); PostgreSQL \
         on this machine over loopback TCP, without TLS unless `AS2_TEST_POSTGRES_URL` sets \
         `sslmode`\n\n\
         Reference rows: receivers that do less than the gateway, measured the same way (their \
         CPU in the gateway's column): hyper with the two RSA operations only (the ceiling of \
         any receiver here), and hyper with `as2-core`'s receive and signed MDN and no platform \
         (no admission, database, file or thread hand-off)\n\n\
         | backend | wire | payloads | messages/s | floor ms/op | of the floor | p50 ms | p99 ms \
         | CPU ms/message: gateway | load generator | database server | machine \
         | gateway CPU / 2 RSA ops | gateway alone, of the floor | load (1 min) |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for f in rows {
        let two_ops = 2.0 * f.floor_ms;
        let floor_per_second = cores as f64 / (two_ops / 1000.0);
        let machine = f.cpu.gateway + f.cpu.generator + f.cpu.database;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.3} | {:.0} % | {:.1} | {:.1} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2}× | {:.0} % | {:.1} |",
            f.backend,
            f.wire.label(),
            f.payloads.label(),
            f.per_second,
            f.floor_ms,
            100.0 * f.per_second / floor_per_second,
            f.p50_ms,
            f.p99_ms,
            f.cpu.gateway,
            f.cpu.generator,
            f.cpu.database,
            machine,
            f.cpu.gateway / two_ops,
            100.0 * two_ops / f.cpu.gateway,
            f.load,
        );
    }
    out
}
