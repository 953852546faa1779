//! Tenant A linked to tenant B for the tests that send many messages: key pairs, stations,
//! each tenant's partner for the other (signed and encrypted, signed sync MDNs), with a short
//! retry interval so a message the receiver could not take is sent again within a second.

use anyhow::{Context as _, Result};
use serde_json::json;

use crate::Platform;

impl Platform {
    /// Links A to B as described above; the id of A's partner for B (what A sends to).
    ///
    /// # Errors
    /// An API call failed.
    pub async fn link_a_to_b(&self) -> Result<String> {
        let (a_pair, a_pem) = self.key_pair(&self.key_a, "tenant-a").await?;
        let (b_pair, b_pem) = self.key_pair(&self.key_b, "tenant-b").await?;
        let (a_station, b_station) = self.stations(&a_pair, &b_pair).await?;
        let a_at_b = self.upload_certificate(&self.key_b, "A", &a_pem).await?;
        let b_at_a = self.upload_certificate(&self.key_a, "B", &b_pem).await?;
        self.create(
            &self.key_b,
            "/v1/partners",
            json!({"name": "A", "as2_id": "TENANT-A", "url": self.as2_url, "station_id": b_station,
                   "certificate_id": a_at_b, "sign": true, "encrypt": true,
                   "mdn_mode": "sync", "mdn_signed": true}),
        )
        .await?;
        let partner = self
            .create(
                &self.key_a,
                "/v1/partners",
                json!({"name": "B", "as2_id": "TENANT-B", "url": self.as2_url,
                       "station_id": a_station, "certificate_id": b_at_a, "sign": true,
                       "encrypt": true, "mdn_mode": "sync", "mdn_signed": true,
                       "retry_interval": 1, "retry_attempts": 20}),
            )
            .await?;
        Ok(partner["id"].as_str().context("partner id")?.to_owned())
    }
}
