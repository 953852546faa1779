//! Webhook endpoints (secrets sealed at rest), platform events, and their deliveries with
//! every attempt recorded.

use as2_domain::id::{EventId, TenantId, WebhookDeliveryId, WebhookEndpointId};
use as2_domain::pagination::PageRequest;
use as2_domain::webhook::{EventType, WebhookEndpoint, WebhookSettings};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult, not_found};
use crate::outbox::WebhooksTx;
use crate::repo::{converted, parse_column};
use crate::schema::{events, webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::scope::Scope;
use crate::store::Store;
use crate::time::{from_db, now, to_db};
use crate::tx::with_tx;
use crate::with_conn;

pub(crate) const SECRET_PURPOSE: &str = "webhook.secret";

/// Webhooks.
#[derive(Debug)]
pub struct Webhooks<'a> {
    pub(crate) store: &'a Store,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
struct EndpointRow {
    id: i64,
    tenant_id: i64,
    mode: String,
    url: String,
    description: Option<String>,
    events: String,
    active: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = StoreError;
    fn try_from(row: EndpointRow) -> StoreResult<Self> {
        Ok(Self {
            id: WebhookEndpointId(row.id),
            tenant_id: TenantId(row.tenant_id),
            mode: parse_column("webhook_endpoints", &row.mode)?,
            settings: WebhookSettings {
                url: row.url,
                description: row.description,
                events: row
                    .events
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                active: row.active,
            },
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
        })
    }
}

/// One delivery of an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `whd_…`.
    pub id: WebhookDeliveryId,
    /// The endpoint.
    pub endpoint_id: WebhookEndpointId,
    /// The event.
    pub event_id: EventId,
    /// The event's type.
    pub event_type: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// HTTP status of the last attempt.
    pub response_status: Option<i32>,
    /// Error of the last attempt.
    pub error: Option<String>,
    /// When the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// The delivery this one repeats (a redelivery), if any.
    pub redelivery_of: Option<WebhookDeliveryId>,
}

/// An event as stored (what webhooks carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// `evt_…`.
    pub id: EventId,
    /// Owner and mode.
    pub scope: Scope,
    /// Type.
    pub event_type: String,
    /// JSON data.
    pub data: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

type DeliveryRow = (
    i64,
    i64,
    i64,
    String,
    String,
    i32,
    Option<i32>,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    chrono::NaiveDateTime,
    Option<i64>,
);

fn delivery(row: DeliveryRow) -> Delivery {
    let (
        id,
        endpoint_id,
        event_id,
        event_type,
        status,
        attempts,
        response_status,
        error,
        next,
        created,
        redelivery_of,
    ) = row;
    Delivery {
        id: WebhookDeliveryId(id),
        endpoint_id: WebhookEndpointId(endpoint_id),
        event_id: EventId(event_id),
        event_type,
        status,
        attempts,
        response_status,
        error,
        next_attempt_at: next.map(from_db),
        created_at: from_db(created),
        redelivery_of: redelivery_of.map(WebhookDeliveryId),
    }
}

impl Webhooks<'_> {
    /// Creates an endpoint with its signing secret (sealed; the caller shows it once).
    pub fn create(
        &self,
        scope: Scope,
        settings: &WebhookSettings,
        secret: &str,
    ) -> StoreResult<WebhookEndpoint> {
        let sealed = self.store.secrets().seal(SECRET_PURPOSE, secret.as_bytes());
        let at = to_db(now());
        let events = settings.events.join(",");
        let mut conn = self.store.db().conn()?;
        let row: EndpointRow =
            with_conn!(&mut conn, |c| diesel::insert_into(webhook_endpoints::table)
                .values((
                    webhook_endpoints::tenant_id.eq(scope.tenant()),
                    webhook_endpoints::mode.eq(scope.mode()),
                    webhook_endpoints::url.eq(&settings.url),
                    webhook_endpoints::description.eq(settings.description.as_deref()),
                    webhook_endpoints::events.eq(&events),
                    webhook_endpoints::secret.eq(&sealed),
                    webhook_endpoints::active.eq(settings.active),
                    webhook_endpoints::created_at.eq(at),
                    webhook_endpoints::updated_at.eq(at),
                ))
                .returning(EndpointRow::as_returning())
                .get_result(c))?;
        row.try_into()
    }

    /// An endpoint of `scope`.
    pub fn get(&self, scope: Scope, id: WebhookEndpointId) -> StoreResult<WebhookEndpoint> {
        let mut conn = self.store.db().conn()?;
        let row: EndpointRow = with_conn!(&mut conn, |c| scoped!(webhook_endpoints, scope, kept)
            .filter(webhook_endpoints::id.eq(id.0))
            .select(EndpointRow::as_select())
            .first(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// Endpoints of `scope`, newest first, and their total.
    pub fn list(
        &self,
        scope: Scope,
        page: PageRequest,
    ) -> StoreResult<(Vec<WebhookEndpoint>, i64)> {
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<EndpointRow>, i64) = with_conn!(&mut conn, |c| {
            page_of!(
                c,
                || scoped!(webhook_endpoints, scope, kept),
                (
                    webhook_endpoints::created_at.desc(),
                    webhook_endpoints::id.desc(),
                ),
                page,
                EndpointRow
            )
        })?;
        converted(rows, total)
    }

    /// Replaces an endpoint's settings.
    pub fn update(
        &self,
        scope: Scope,
        id: WebhookEndpointId,
        settings: &WebhookSettings,
    ) -> StoreResult<WebhookEndpoint> {
        let at = to_db(now());
        let events = settings.events.join(",");
        let mut conn = self.store.db().conn()?;
        let row: EndpointRow = with_conn!(&mut conn, |c| diesel::update(
            scoped!(webhook_endpoints, scope, kept).filter(webhook_endpoints::id.eq(id.0))
        )
        .set((
            webhook_endpoints::url.eq(&settings.url),
            webhook_endpoints::description.eq(settings.description.as_deref()),
            webhook_endpoints::events.eq(&events),
            webhook_endpoints::active.eq(settings.active),
            webhook_endpoints::updated_at.eq(at),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(c))
        .map_err(not_found)?;
        row.try_into()
    }

    /// Deletes (soft) an endpoint of `scope`.
    pub fn delete(&self, scope: Scope, id: WebhookEndpointId) -> StoreResult<()> {
        let at = to_db(now());
        let mut conn = self.store.db().conn()?;
        let n = with_conn!(&mut conn, |c| diesel::update(
            scoped!(webhook_endpoints, scope, kept).filter(webhook_endpoints::id.eq(id.0))
        )
        .set(webhook_endpoints::deleted_at.eq(at))
        .execute(c))?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The endpoint's signing secret, for the delivering worker only.
    pub fn secret(&self, scope: Scope, id: WebhookEndpointId) -> StoreResult<String> {
        let mut conn = self.store.db().conn()?;
        let sealed: String = with_conn!(&mut conn, |c| webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(id.0))
            .filter(webhook_endpoints::tenant_id.eq(scope.tenant()))
            .filter(webhook_endpoints::mode.eq(scope.mode()))
            .select(webhook_endpoints::secret)
            .first(c))
        .map_err(not_found)?;
        let bytes = self.store.secrets().open(SECRET_PURPOSE, &sealed)?;
        String::from_utf8(bytes).map_err(|e| StoreError::corrupt("webhook_endpoints", e))
    }

    /// Records an event and, in the same transaction, a delivery and its job for each
    /// subscribed active endpoint (or only `only` when given, for the test endpoint). A
    /// change that causes an event publishes it in its own transaction instead
    /// ([`crate::outbox`]); this is for events that stand alone.
    pub fn publish(
        &self,
        scope: Scope,
        event: EventType,
        data: &str,
        only: Option<WebhookEndpointId>,
    ) -> StoreResult<EventId> {
        self.store
            .transaction(|tx| tx.webhooks().publish(scope, event, data, only))
    }

    /// An event by id (any tenant: for the delivering worker, which got the id from a job).
    pub fn event(&self, id: EventId) -> StoreResult<StoredEvent> {
        let mut conn = self.store.db().conn()?;
        let (id, tenant, mode, event_type, data, created): (
            i64,
            i64,
            String,
            String,
            String,
            chrono::NaiveDateTime,
        ) = with_conn!(&mut conn, |c| events::table
            .find(id.0)
            .select((
                events::id,
                events::tenant_id,
                events::mode,
                events::event_type,
                events::data,
                events::created_at
            ))
            .first(c))
        .map_err(not_found)?;
        Ok(StoredEvent {
            id: EventId(id),
            scope: Scope::new(TenantId(tenant), parse_column("events", &mode)?),
            event_type,
            data,
            created_at: from_db(created),
        })
    }

    /// A delivery by id with its scope (for the delivering worker).
    pub fn delivery(&self, id: WebhookDeliveryId) -> StoreResult<(Scope, Delivery)> {
        let mut conn = self.store.db().conn()?;
        let (row, tenant, mode): (DeliveryRow, i64, String) =
            with_conn!(&mut conn, |c| webhook_deliveries::table
                .inner_join(events::table)
                .filter(webhook_deliveries::id.eq(id.0))
                .select((
                    (
                        webhook_deliveries::id,
                        webhook_deliveries::endpoint_id,
                        webhook_deliveries::event_id,
                        events::event_type,
                        webhook_deliveries::status,
                        webhook_deliveries::attempts,
                        webhook_deliveries::response_status,
                        webhook_deliveries::error,
                        webhook_deliveries::next_attempt_at,
                        webhook_deliveries::created_at,
                        webhook_deliveries::redelivery_of,
                    ),
                    webhook_deliveries::tenant_id,
                    webhook_deliveries::mode,
                ))
                .first(c))
            .map_err(not_found)?;
        Ok((
            Scope::new(TenantId(tenant), parse_column("webhook_deliveries", &mode)?),
            delivery(row),
        ))
    }

    /// Deliveries of an endpoint of `scope`, newest first, and their total.
    pub fn deliveries(
        &self,
        scope: Scope,
        endpoint: WebhookEndpointId,
        page: PageRequest,
    ) -> StoreResult<(Vec<Delivery>, i64)> {
        self.get(scope, endpoint)?;
        let mut conn = self.store.db().conn()?;
        let (rows, total): (Vec<DeliveryRow>, i64) = with_conn!(&mut conn, |c| {
            let base = || {
                webhook_deliveries::table
                    .filter(webhook_deliveries::endpoint_id.eq(endpoint.0))
                    .filter(webhook_deliveries::tenant_id.eq(scope.tenant()))
                    .filter(webhook_deliveries::mode.eq(scope.mode()))
            };
            let total = base().count().get_result(c)?;
            let rows = base()
                .inner_join(events::table)
                .order(webhook_deliveries::id.desc())
                .limit(page.per_page)
                .offset(page.offset())
                .select((
                    webhook_deliveries::id,
                    webhook_deliveries::endpoint_id,
                    webhook_deliveries::event_id,
                    events::event_type,
                    webhook_deliveries::status,
                    webhook_deliveries::attempts,
                    webhook_deliveries::response_status,
                    webhook_deliveries::error,
                    webhook_deliveries::next_attempt_at,
                    webhook_deliveries::created_at,
                    webhook_deliveries::redelivery_of,
                ))
                .load(c)?;
            Ok::<_, diesel::result::Error>((rows, total))
        })?;
        Ok((rows.into_iter().map(delivery).collect(), total))
    }
}

impl WebhooksTx<'_, '_> {
    /// Pauses the endpoint of `delivery`, which failed for good (its job is dead: every
    /// attempt failed, or its address is refused), and announces
    /// `webhook_endpoint.disabled` with `reason`; whether it was active until now (an
    /// endpoint already paused, or deleted, is left as it is and announced once).
    pub fn disable_after_failed_delivery(
        &mut self,
        delivery: WebhookDeliveryId,
        reason: &str,
    ) -> StoreResult<bool> {
        let at = to_db(now());
        let paused = with_tx!(&mut *self.tx, |c| {
            let (endpoint, tenant, mode): (i64, i64, String) = webhook_deliveries::table
                .find(delivery.0)
                .select((
                    webhook_deliveries::endpoint_id,
                    webhook_deliveries::tenant_id,
                    webhook_deliveries::mode,
                ))
                .first(c)?;
            let url: Option<String> = diesel::update(
                webhook_endpoints::table
                    .filter(webhook_endpoints::id.eq(endpoint))
                    .filter(webhook_endpoints::active.eq(true))
                    .filter(webhook_endpoints::deleted_at.is_null()),
            )
            .set((
                webhook_endpoints::active.eq(false),
                webhook_endpoints::updated_at.eq(at),
            ))
            .returning(webhook_endpoints::url)
            .get_result(c)
            .optional()?;
            Ok::<_, diesel::result::Error>(url.map(|url| (endpoint, tenant, mode, url)))
        })
        .map_err(not_found)?;
        let Some((endpoint, tenant, mode, url)) = paused else {
            return Ok(false);
        };
        let scope = Scope::new(TenantId(tenant), parse_column("webhook_deliveries", &mode)?);
        let data = serde_json::json!({
            "id": WebhookEndpointId(endpoint).to_string(),
            "url": url,
            "delivery_id": delivery.to_string(),
            "reason": reason.chars().take(1000).collect::<String>(),
        });
        self.publish(
            scope,
            EventType::WebhookEndpointDisabled,
            &data.to_string(),
            None,
        )?;
        Ok(true)
    }

    /// Records one attempt of a delivery and its new state.
    pub fn record_attempt(
        &mut self,
        id: WebhookDeliveryId,
        response_status: Option<i32>,
        error: Option<&str>,
        duration_ms: i64,
        next_attempt_at: Option<DateTime<Utc>>,
        succeeded: bool,
    ) -> StoreResult<()> {
        let at = to_db(now());
        let status = match (succeeded, next_attempt_at) {
            (true, _) => "succeeded",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let error: Option<String> = error.map(|e| e.chars().take(1000).collect());
        with_tx!(&mut *self.tx, |c| {
            let attempt: i32 = diesel::update(webhook_deliveries::table.find(id.0))
                .set((
                    webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                    webhook_deliveries::status.eq(status),
                    webhook_deliveries::response_status.eq(response_status),
                    webhook_deliveries::error.eq(error.as_deref()),
                    webhook_deliveries::next_attempt_at.eq(next_attempt_at.map(to_db)),
                    webhook_deliveries::updated_at.eq(at),
                ))
                .returning(webhook_deliveries::attempts)
                .get_result(c)?;
            diesel::insert_into(webhook_attempts::table)
                .values((
                    webhook_attempts::delivery_id.eq(id.0),
                    webhook_attempts::attempt.eq(attempt),
                    webhook_attempts::response_status.eq(response_status),
                    webhook_attempts::error.eq(error.as_deref()),
                    webhook_attempts::duration_ms.eq(duration_ms),
                    webhook_attempts::created_at.eq(at),
                ))
                .execute(c)
        })
        .map_err(not_found)?;
        Ok(())
    }
}
