//! Strict query strings: every parameter known, given at most once, and in range; otherwise a 422
//! naming each offending parameter.

use actix_web::HttpRequest;

use crate::base::clock::{self, Micros};
use crate::base::error::{AppError, FieldError};
use crate::base::wire::WireEnum;
use crate::http::fields;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
pub const MAX_Q_LENGTH: usize = 200;

/// The decoded parameters of a query string, read one by one.
pub struct QueryParams {
    pairs: Vec<(String, String)>,
    taken: Vec<bool>,
    errors: Vec<FieldError>,
}

impl QueryParams {
    pub fn from_request(request: &HttpRequest) -> Result<QueryParams, AppError> {
        QueryParams::parse(request.query_string())
    }

    pub fn parse(query: &str) -> Result<QueryParams, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|_| {
            AppError::Validation(vec![FieldError::query("query", "is not a valid URL-encoded query string")])
        })?;
        let taken = vec![false; pairs.len()];
        Ok(QueryParams { pairs, taken, errors: Vec::new() })
    }

    /// The value of parameter `name`, parsed; `None` when absent or invalid (the error is recorded).
    pub fn get<T>(&mut self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let mut found = None;
        let mut repeated = false;
        for (index, (key, value)) in self.pairs.iter().enumerate() {
            if key == name {
                self.taken[index] = true;
                if found.is_some() {
                    repeated = true;
                } else {
                    found = Some(value.clone());
                }
            }
        }
        if repeated {
            self.errors.push(FieldError::query(name, "must be given at most once"));
            return None;
        }
        match parse(&found?) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError::query(name, message));
                None
            }
        }
    }

    /// `limit`, `offset` and `sort`, the parameters every list shares.
    /// Paging and sorting, with `default_sort` descending when `sort` is not given.
    pub fn list_params_newest_first<S: WireEnum>(&mut self, default_sort: S) -> ListParams<S> {
        let explicit = self.pairs.iter().any(|(name, _)| name == "sort");
        let mut list = self.list_params(default_sort);
        if !explicit && let Some(first) = list.sort.first_mut() {
            first.descending = true;
        }
        list
    }

    pub fn list_params<S: WireEnum>(&mut self, default_sort: S) -> ListParams<S> {
        let limit = self.get("limit", integer(1, MAX_LIMIT)).unwrap_or(DEFAULT_LIMIT);
        let offset = self.get("offset", integer(0, i64::MAX)).unwrap_or(0);
        let sort = self
            .get("sort", sort_keys::<S>)
            .unwrap_or_else(|| vec![SortKey { field: default_sort, descending: false }]);
        let updated_since = self.get("updated_since", instant);
        ListParams { limit, offset, sort, updated_since }
    }

    /// `q`: a case-insensitive search text, single-line, stored lower-cased for matching.
    pub fn search(&mut self) -> Option<String> {
        // The text rule also keeps FTS5 whole: it ends a query string at NUL, which was a 500
        // ("unterminated string") before `q` was checked.
        self.get("q", |text| text_of(text, MAX_Q_LENGTH).map(|text| text.to_lowercase()))
    }

    /// Ends reading: any parameter not taken is unknown. Fails with every error found.
    pub fn finish(mut self) -> Result<Vec<(String, String)>, AppError> {
        // A set, not a scan of the errors per parameter: the check stays linear in the query's size.
        let mut reported: std::collections::HashSet<String> = self.errors.iter().map(|e| e.field.clone()).collect();
        for (index, (key, _)) in self.pairs.iter().enumerate() {
            if !self.taken[index] && reported.insert(key.clone()) {
                self.errors.push(FieldError::query(key.clone(), "is not a known query parameter"));
            }
        }
        if self.errors.is_empty() { Ok(self.pairs) } else { Err(AppError::Validation(self.errors)) }
    }
}

/// One key of `sort`: a field, ascending unless prefixed with `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey<S> {
    pub field: S,
    pub descending: bool,
}

#[derive(Debug, Clone)]
pub struct ListParams<S> {
    pub limit: i64,
    pub offset: i64,
    pub sort: Vec<SortKey<S>>,
    /// Only records with `updated_at` at or after this instant: the change feed for mirrors.
    pub updated_since: Option<Micros>,
}

fn sort_keys<S: WireEnum>(text: &str) -> Result<Vec<SortKey<S>>, String> {
    let mut keys: Vec<SortKey<S>> = Vec::new();
    for part in text.split(',') {
        let (name, descending) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            None => (part, false),
        };
        let Some(field) = S::parse(name) else {
            let names: Vec<&str> = S::ALL.iter().map(|s| s.as_str()).collect();
            return Err(format!(
                "'{part}' is not a sort field; use a comma-separated list of {} (prefix '-' for descending)",
                names.join(", ")
            ));
        };
        // A field named again changes nothing: the first mention already ordered by it.
        if !keys.iter().any(|key| key.field == field) {
            keys.push(SortKey { field, descending });
        }
    }
    Ok(keys)
}

pub fn integer(min: i64, max: i64) -> impl Fn(&str) -> Result<i64, String> {
    move |text| match text.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) && !text.starts_with('+') => Ok(n),
        _ if max == i64::MAX => Err(format!("must be an integer of at least {min}")),
        _ => Err(format!("must be an integer from {min} to {max}")),
    }
}

pub fn boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

pub fn one_of<E: WireEnum>(text: &str) -> Result<E, String> {
    E::parse(text).ok_or_else(E::expected)
}

pub fn instant(text: &str) -> Result<Micros, String> {
    clock::parse_instant(text).map_err(str::to_owned)
}

/// A text filter of 1 to `max` characters, refused as single-line text is.
pub fn text(max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |value| text_of(value, max)
}

fn text_of(value: &str, max: usize) -> Result<String, String> {
    fields::check_length(value, 1, max)?;
    fields::check_single_line(value)?;
    Ok(value.to_owned())
}
