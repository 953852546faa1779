//! Pages of lists: `page` (1-based) and `per_page` (default 20, at most 100).

use crate::validation::ValidationErrors;

/// Items per page when none is asked.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// Most items per page.
pub const MAX_PER_PAGE: i64 = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: i64,
    /// Items per page.
    pub per_page: i64,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    /// Checks the query parameters, naming each bad one.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=1_000_000).contains(&page) {
            errors.add("page", "The page must be a positive integer");
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            errors.add(
                "per_page",
                format!("The per page must be between 1 and {MAX_PER_PAGE}"),
            );
        }
        errors.into_result(Self { page, per_page })
    }

    /// Rows to skip.
    pub fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// The pagination fields of a list response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    /// The page shown.
    pub current_page: i64,
    /// The last page (1 when empty).
    pub last_page: i64,
    /// Items per page.
    pub per_page: i64,
    /// Items in all pages.
    pub total: i64,
    /// 1-based number of the first item shown (`None` when the page is empty).
    pub from: Option<i64>,
    /// 1-based number of the last item shown.
    pub to: Option<i64>,
}

impl PageInfo {
    /// The fields for `request` over `total` items, `shown` of which are on this page.
    pub fn new(request: PageRequest, total: i64, shown: i64) -> Self {
        let last_page = ((total + request.per_page - 1) / request.per_page).max(1);
        let (from, to) = if shown > 0 {
            (Some(request.offset() + 1), Some(request.offset() + shown))
        } else {
            (None, None)
        };
        Self {
            current_page: request.page,
            last_page,
            per_page: request.per_page,
            total,
            from,
            to,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_the_fields() {
        let request = PageRequest::new(Some(2), Some(20)).unwrap();
        let info = PageInfo::new(request, 45, 20);
        assert_eq!(
            (info.last_page, info.from, info.to),
            (3, Some(21), Some(40))
        );
        let empty = PageInfo::new(PageRequest::default(), 0, 0);
        assert_eq!((empty.last_page, empty.from, empty.to), (1, None, None));
    }

    #[test]
    fn names_bad_parameters() {
        let errors = PageRequest::new(Some(0), Some(101)).unwrap_err();
        assert!(errors.has("page") && errors.has("per_page"));
    }
}
