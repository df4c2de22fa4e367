//! Slugs derived from names, and the `-2`, `-3`, … suffix that keeps derived slugs unique.

use serde_json::Value;

use crate::base::error::AppError;
use crate::db::Conn;
use crate::http::fields::SLUG_MAX;

/// Lower-case ASCII letters and digits; every run of anything else becomes one `-`; at most 80
/// characters. `fallback` stands in when the name has no ASCII letter or digit at all.
pub fn derive(name: &str, fallback: &str) -> String {
    let mut slug = String::with_capacity(name.len().min(SLUG_MAX));
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = truncate(&slug, SLUG_MAX);
    if slug.is_empty() { fallback.to_owned() } else { slug }
}

fn truncate(slug: &str, max: usize) -> String {
    slug[..slug.len().min(max)].trim_end_matches('-').to_owned()
}

/// The first of `base`, `base-2`, `base-3`, … that is not in `taken`, shortening `base` where the
/// suffix would pass 80 characters. `taken` holds the existing slugs that start with `base`.
pub fn first_free(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|slug| slug == base) {
        return base.to_owned();
    }
    // At most `taken.len() + 1` candidates can be needed: each taken slug rules out one.
    (2..=taken.len() + 2)
        .map(|n| {
            let suffix = format!("-{n}");
            format!("{}{suffix}", truncate(base, SLUG_MAX - suffix.len()))
        })
        .find(|candidate| !taken.iter().any(|slug| slug == candidate))
        .unwrap_or_else(|| base.to_owned())
}

/// The slug a record gets: `explicit` if no other record has it (409 `slug_taken` otherwise), or
/// one derived from `name` and made unique. The store supplies the two lookups, run inside the
/// write transaction: whether a slug is taken, and the taken slugs that start with a prefix.
pub fn settle<C>(
    conn: &mut C,
    resource: &str,
    explicit: Option<&str>,
    name: &str,
    is_taken: impl FnOnce(&mut C, &str) -> Result<bool, AppError>,
    taken_with_prefix: impl FnOnce(&mut C, &str) -> Result<Vec<String>, AppError>,
) -> Result<String, AppError> {
    if let Some(slug) = explicit {
        return if is_taken(conn, slug)? { Err(AppError::slug_taken(resource, slug)) } else { Ok(slug.to_owned()) };
    }
    let base = derive(name, resource);
    // A suffix may shorten the base, so look up everything that starts with the part of it that
    // every candidate keeps (room for a suffix of up to 9 characters).
    let kept = truncate(&base, SLUG_MAX - 10);
    Ok(first_free(&base, &taken_with_prefix(conn, &kept)?))
}

/// The dataset names the records a record references by slug (ids are the server's to assign):
/// replaces the member `by_slug` of `record` with `by_id`, the id `id_by_slug` finds for it.
pub fn slug_to_id(
    conn: &mut Conn,
    record: &mut Value,
    (by_slug, by_id): (&str, &str),
    id_by_slug: fn(&mut Conn, &str) -> Result<Option<i64>, AppError>,
) -> Result<(), AppError> {
    let object = record.as_object_mut().ok_or_else(|| AppError::internal("a bundled record is not an object"))?;
    let id = match object.remove(by_slug).as_ref().and_then(Value::as_str) {
        Some(slug) => {
            Some(id_by_slug(conn, slug)?.ok_or_else(|| AppError::internal(format!("no {by_slug} '{slug}'")))?)
        }
        None => None,
    };
    object.insert(by_id.to_owned(), id.into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs() {
        assert_eq!(derive("Internal Medicine Residency", "program"), "internal-medicine-residency");
        assert_eq!(derive("  Ob/Gyn — Rush Copley!! ", "program"), "ob-gyn-rush-copley");
        assert_eq!(derive("Pédiatrie 2027", "program"), "p-diatrie-2027");
        assert_eq!(derive("🎉", "program"), "program");
        let long = derive(&"ab ".repeat(60), "program");
        assert!(long.len() <= 80 && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn taken_slugs_get_the_next_free_suffix() {
        let taken = vec!["a".to_owned(), "a-2".to_owned(), "a-b".to_owned()];
        assert_eq!(first_free("a", &taken), "a-3");
        assert_eq!(first_free("b", &taken), "b");
        let base = "x".repeat(80);
        assert_eq!(first_free(&base, std::slice::from_ref(&base)), format!("{}-2", "x".repeat(78)));
        let taken = vec![base.clone(), format!("{}-2", "x".repeat(78))];
        assert_eq!(first_free(&base, &taken), format!("{}-3", "x".repeat(78)));
    }
}
