//! The success envelopes: `{"message", "data"}` for one resource and the same plus the
//! pagination fields (`current_page`, `last_page`, `per_page`, `total`, `from`, `to`) for lists.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};

/// One resource, answered with the given status (200, 201 or 202).
#[derive(Debug)]
pub struct Envelope<T> {
    status: StatusCode,
    message: String,
    data: T,
}

impl<T: Serialize> Envelope<T> {
    /// 200.
    pub fn ok(message: impl Into<String>, data: T) -> Self {
        Self {
            status: StatusCode::OK,
            message: message.into(),
            data,
        }
    }

    /// 201.
    pub fn created(message: impl Into<String>, data: T) -> Self {
        Self {
            status: StatusCode::CREATED,
            message: message.into(),
            data,
        }
    }

    /// 202: accepted for asynchronous processing.
    pub fn accepted(message: impl Into<String>, data: T) -> Self {
        Self {
            status: StatusCode::ACCEPTED,
            message: message.into(),
            data,
        }
    }

    /// The status and JSON body, for handlers that store the response (idempotency).
    pub fn into_parts(self) -> (StatusCode, Value) {
        (
            self.status,
            json!({ "message": self.message, "data": self.data }),
        )
    }
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        let (status, body) = self.into_parts();
        (status, Json(body)).into_response()
    }
}

/// Where a page sits in the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageMeta {
    /// 1-based page number.
    pub current_page: u64,
    /// The last page number (1 for an empty list).
    pub last_page: u64,
    /// Items per page.
    pub per_page: u64,
    /// Items in the whole list.
    pub total: u64,
    /// 1-based number of the first item on this page (null when the page is empty).
    pub from: Option<u64>,
    /// 1-based number of the last item on this page (null when the page is empty).
    pub to: Option<u64>,
}

impl PageMeta {
    /// Computes the fields for `page` of `per_page` items out of `total`, with `on_page` items
    /// actually on this page.
    pub fn new(page: u64, per_page: u64, total: u64, on_page: u64) -> Self {
        let per_page = per_page.max(1);
        let last_page = total.div_ceil(per_page).max(1);
        let first = (page.saturating_sub(1)).saturating_mul(per_page) + 1;
        let (from, to) = if on_page == 0 {
            (None, None)
        } else {
            (Some(first), Some(first + on_page - 1))
        };
        Self {
            current_page: page,
            last_page,
            per_page,
            total,
            from,
            to,
        }
    }
}

/// A page of a list, answered with 200.
#[derive(Debug)]
pub struct ListEnvelope<T> {
    message: String,
    data: Vec<T>,
    meta: PageMeta,
}

impl<T: Serialize> ListEnvelope<T> {
    /// A page of items with its pagination fields.
    pub fn new(message: impl Into<String>, data: Vec<T>, meta: PageMeta) -> Self {
        Self {
            message: message.into(),
            data,
            meta,
        }
    }
}

impl<T: Serialize> IntoResponse for ListEnvelope<T> {
    fn into_response(self) -> Response {
        let PageMeta {
            current_page,
            last_page,
            per_page,
            total,
            from,
            to,
        } = self.meta;
        Json(json!({
            "message": self.message,
            "data": self.data,
            "current_page": current_page,
            "last_page": last_page,
            "per_page": per_page,
            "total": total,
            "from": from,
            "to": to,
        }))
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::PageMeta;

    #[test]
    fn page_meta_of_a_middle_page() {
        let m = PageMeta::new(2, 20, 45, 20);
        assert_eq!((m.last_page, m.from, m.to), (3, Some(21), Some(40)));
    }

    #[test]
    fn page_meta_of_the_last_partial_page() {
        let m = PageMeta::new(3, 20, 45, 5);
        assert_eq!((m.last_page, m.from, m.to), (3, Some(41), Some(45)));
    }

    #[test]
    fn page_meta_of_an_empty_list() {
        let m = PageMeta::new(1, 20, 0, 0);
        assert_eq!((m.last_page, m.from, m.to, m.total), (1, None, None, 0));
    }
}
