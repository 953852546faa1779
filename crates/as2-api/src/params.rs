//! Query and path parameters: pagination, filters and prefixed ids, each bad one a precise
//! answer (a malformed id in a path is 404, a bad query parameter is 422 naming it).

use std::collections::HashMap;
use std::str::FromStr;

use as2_domain::ValidationErrors;
use as2_domain::pagination::{PageInfo, PageRequest};
use chrono::{DateTime, Utc};

use crate::envelope::PageMeta;
use crate::error::ApiError;

/// Raw query parameters.
pub type QueryMap = HashMap<String, String>;

/// Parses a path id; anything malformed is the same 404 as an unknown id.
pub fn path_id<T: FromStr>(raw: &str, resource: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(resource))
}

/// Reads `page` and `per_page`, adding failures to `errors`.
pub fn page(query: &QueryMap, errors: &mut ValidationErrors) -> PageRequest {
    let page = integer(query, "page", errors);
    let per_page = integer(query, "per_page", errors);
    match PageRequest::new(page, per_page) {
        Ok(page) => page,
        Err(e) => {
            errors.merge(e);
            PageRequest::default()
        }
    }
}

/// An optional integer parameter.
pub fn integer(query: &QueryMap, name: &str, errors: &mut ValidationErrors) -> Option<i64> {
    let value = query.get(name)?;
    match value.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(
                name,
                format!("The {} must be an integer", name.replace('_', " ")),
            );
            None
        }
    }
}

/// An optional enum or id parameter parsed with `FromStr`.
pub fn parsed<T: FromStr>(
    query: &QueryMap,
    name: &str,
    sentence: &str,
    errors: &mut ValidationErrors,
) -> Option<T> {
    let value = query.get(name)?;
    match value.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.add(name, sentence.to_owned());
            None
        }
    }
}

/// An optional RFC 3339 time parameter.
pub fn time(query: &QueryMap, name: &str, errors: &mut ValidationErrors) -> Option<DateTime<Utc>> {
    let value = query.get(name)?;
    let parsed = crate::time::parse(value.trim());
    if parsed.is_none() {
        errors.add(
            name,
            format!(
                "The {} must be an ISO 8601 date-time such as 2024-01-15T10:30:00Z",
                name.replace('_', " ")
            ),
        );
    }
    parsed
}

/// Rejects parameters the endpoint does not know.
pub fn only(query: &QueryMap, known: &[&str], errors: &mut ValidationErrors) {
    for name in query.keys() {
        if !known.contains(&name.as_str()) {
            errors.add(
                name,
                format!(
                    "Unknown query parameter `{}`",
                    name.chars().take(64).collect::<String>()
                ),
            );
        }
    }
}

/// The envelope's pagination fields.
pub fn meta(page: PageRequest, total: i64, shown: usize) -> PageMeta {
    let info = PageInfo::new(page, total, i64::try_from(shown).unwrap_or(0));
    let to_u = |n: i64| u64::try_from(n).unwrap_or(0);
    PageMeta {
        current_page: to_u(info.current_page),
        last_page: to_u(info.last_page),
        per_page: to_u(info.per_page),
        total: to_u(info.total),
        from: info.from.map(to_u),
        to: info.to.map(to_u),
    }
}
