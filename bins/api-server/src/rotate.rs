//! `api-server rotate-master-key`: every secret at rest re-sealed under the current master
//! key (`AS2_MASTER_KEY`), opened with it or with one of `AS2_PREVIOUS_MASTER_KEYS`, in
//! batches while the platform runs. Ctrl-C or SIGTERM stops it between two batches; running
//! it again resumes (values already under the current key are skipped).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use as2_store::reseal::{BatchOutcome, SealedColumn, rotate};
use as2_store::{Database, PoolOptions, Store};

use crate::config::Config;

/// Runs the rotation; an error when a value could not be opened or the run was stopped.
pub async fn rotate_master_key(
    config: &Config,
    batch_size: usize,
    pause: Duration,
) -> anyhow::Result<()> {
    let db = Database::connect(
        &config.database_url,
        &PoolOptions::from_env().map_err(anyhow::Error::msg)?,
    )
    .with_context(|| format!("connecting to {}", as2_store::redact(&config.database_url)))?;
    if db.pending_migrations()? > 0 {
        anyhow::bail!("the database has pending migrations: run `api-server migrate` first");
    }
    let secrets = config.secrets()?;
    tracing::info!(
        current_key_id = secrets.current_key_id(),
        previous_key_ids = ?secrets.previous_key_ids(),
        "re-sealing every secret under the current master key"
    );
    let store = Store::new(db, secrets);
    let stop = Arc::new(AtomicBool::new(false));
    // registered before the first batch, so a signal from now on stops between batches
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    let stopper = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::warn!("stopping after this batch; run the command again to resume");
            stop.store(true, Ordering::SeqCst);
        })
    };
    let keep_going = {
        let stop = Arc::clone(&stop);
        move |column: SealedColumn, batch: &BatchOutcome| {
            if batch.examined > 0 {
                tracing::info!(
                    column = column.name(),
                    examined = batch.examined,
                    resealed = batch.resealed,
                    "batch re-sealed"
                );
                pause_unless_stopped(pause, &stop);
            }
            !stop.load(Ordering::SeqCst)
        }
    };
    let report = tokio::task::spawn_blocking(move || rotate(&store, batch_size, keep_going))
        .await
        .context("the rotation task")??;
    stopper.abort();
    for (column, resealed) in &report.resealed {
        println!("{}: {resealed} re-sealed", column.name());
    }
    for (column, id, why) in &report.unreadable {
        println!("{} row {id}: {why}", column.name());
    }
    if report.changed_meanwhile > 0 {
        println!(
            "{} values changed while they were re-sealed; run the command again to check them",
            report.changed_meanwhile
        );
    }
    if !report.finished {
        anyhow::bail!(
            "stopped before the end ({} re-sealed); run the command again to resume",
            report.total_resealed()
        );
    }
    if !report.unreadable.is_empty() {
        anyhow::bail!(
            "{} values could not be opened with the configured keys; keep the old key in \
             AS2_PREVIOUS_MASTER_KEYS until they are fixed",
            report.unreadable.len()
        );
    }
    println!(
        "done: {} values re-sealed under master key {}",
        report.total_resealed(),
        config.secrets()?.current_key_id()
    );
    Ok(())
}

/// Waits `pause`, or less when a signal asks to stop meanwhile.
fn pause_unless_stopped(pause: Duration, stop: &AtomicBool) {
    let step = Duration::from_millis(50);
    let mut left = pause;
    while !left.is_zero() && !stop.load(Ordering::SeqCst) {
        let nap = left.min(step);
        std::thread::sleep(nap);
        left -= nap;
    }
}
