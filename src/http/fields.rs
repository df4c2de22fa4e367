//! Field-by-field reading of a JSON object body, collecting every problem before answering.
//!
//! Serde stops at the first bad field; a client fixing a form wants all of them at once, so bodies
//! are read as a JSON object and each field is taken and checked here.

use serde_json::{Map, Value};

use crate::base::clock::{self, Micros};
use crate::base::error::{AppError, FieldError};

/// All of `errors` as one 422, or `Ok` when there are none.
pub fn fail_if_any(errors: Vec<FieldError>) -> Result<(), AppError> {
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// A field of a JSON merge patch (RFC 7396): absent leaves it, `null` clears it, a value sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// Applies the patch to an optional field.
    pub fn apply_optional(self, field: &mut Option<T>) {
        match self {
            Patch::Absent => {}
            Patch::Null => *field = None,
            Patch::Value(value) => *field = Some(value),
        }
    }

    /// Applies the patch to a required field; `Null` was refused when the patch was read.
    pub fn apply(self, field: &mut T) {
        if let Patch::Value(value) = self {
            *field = value;
        }
    }
}

/// Fields every record has that only the server sets.
const READ_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

/// A JSON object body being read field by field.
pub struct Fields {
    object: Map<String, Value>,
    errors: Vec<FieldError>,
}

type Parse<'a, T> = &'a dyn Fn(&Value) -> Result<T, String>;

impl Fields {
    /// Starts reading `body`, which must be a JSON object.
    pub fn new(body: Value) -> Result<Fields, AppError> {
        match body {
            Value::Object(object) => Ok(Fields { object, errors: Vec::new() }),
            other => Err(AppError::field("body", format!("must be a JSON object, not {}", json_kind(&other)))),
        }
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::body(field, message));
    }

    fn take<T>(&mut self, name: &str, parse: Parse<'_, T>) -> Result<Patch<T>, ()> {
        match self.object.remove(name) {
            None => Ok(Patch::Absent),
            Some(Value::Null) => Ok(Patch::Null),
            Some(value) => parse(&value).map(Patch::Value).map_err(|message| self.error(name, message)),
        }
    }

    /// A field a create must carry. `None` means it was invalid (and the error is recorded).
    pub fn required<T>(&mut self, name: &str, parse: Parse<'_, T>) -> Option<T> {
        match self.take(name, parse) {
            Ok(Patch::Value(value)) => Some(value),
            Ok(Patch::Absent) => {
                self.error(name, "is required");
                None
            }
            Ok(Patch::Null) => {
                self.error(name, "must not be null");
                None
            }
            Err(()) => None,
        }
    }

    /// A field a create may leave out or set to `null`.
    pub fn optional<T>(&mut self, name: &str, parse: Parse<'_, T>) -> Option<T> {
        match self.take(name, parse) {
            Ok(Patch::Value(value)) => Some(value),
            Ok(Patch::Absent | Patch::Null) | Err(()) => None,
        }
    }

    /// A non-nullable field with a default when absent.
    pub fn defaulted<T>(&mut self, name: &str, default: T, parse: Parse<'_, T>) -> Option<T> {
        match self.take(name, parse) {
            Ok(Patch::Value(value)) => Some(value),
            Ok(Patch::Absent) => Some(default),
            Ok(Patch::Null) => {
                self.error(name, "must not be null");
                None
            }
            Err(()) => None,
        }
    }

    /// A patch of a field that cannot be cleared.
    pub fn patch_required<T>(&mut self, name: &str, parse: Parse<'_, T>) -> Patch<T> {
        match self.take(name, parse) {
            Ok(Patch::Null) => {
                self.error(name, "must not be null");
                Patch::Absent
            }
            Ok(patch) => patch,
            Err(()) => Patch::Absent,
        }
    }

    /// A patch of an optional field: `null` clears it.
    pub fn patch_optional<T>(&mut self, name: &str, parse: Parse<'_, T>) -> Patch<T> {
        self.take(name, parse).unwrap_or(Patch::Absent)
    }

    /// Takes a field as sent, for callers that check it themselves (an array whose items are
    /// named by their own JSON Pointers).
    pub fn take_raw(&mut self, name: &str) -> Option<Value> {
        self.object.remove(name)
    }

    /// Records an error found by the caller.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Records a rule that involves more than one field (checked on the resulting record).
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.error(field, message);
        }
    }

    /// Ends reading: every field not taken is unknown or read-only. Fails with all errors found.
    pub fn finish(self) -> Result<(), AppError> {
        fail_if_any(self.into_errors())
    }

    /// Ends reading and returns every error found, for callers that check more rules before
    /// answering (a merge patch is checked again on the patched record).
    pub fn into_errors(mut self) -> Vec<FieldError> {
        let mut leftover: Vec<String> = self.object.keys().cloned().collect();
        leftover.sort();
        for name in leftover {
            let message = if READ_ONLY.contains(&name.as_str()) {
                "is set by the server and cannot be given"
            } else {
                "is not a known field"
            };
            self.error(&name, message);
        }
        self.errors
    }

    /// Whether an error has been recorded for `field`.
    pub fn has_errors_for(&self, field: &str) -> bool {
        self.errors.iter().any(|error| error.field == field)
    }
}

pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn as_str(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| format!("must be a string, not {}", json_kind(value)))
}

/// Checks a length in characters (Unicode scalar values), as the contract counts them.
pub fn check_length(text: &str, min: usize, max: usize) -> Result<(), String> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(if min == 0 {
            format!("must be at most {max} characters long")
        } else {
            format!("must be {min} to {max} characters long")
        });
    }
    Ok(())
}

/// Whether `c` may appear in single-line text (names, titles, offices, addresses, `q`): no
/// control character, and no bidirectional override or isolate, which make text display in
/// another order than it is stored (Trojan Source, CVE-2021-42574) and can disguise a name.
pub fn is_single_line_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` may appear in multi-line text (descriptions, summaries): tab, line feed and
/// carriage return are layout; every other control character is not text.
pub fn is_multi_line_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || !matches!(c, '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}')
}

pub const SINGLE_LINE_MESSAGE: &str = "must not contain control characters or bidirectional overrides (U+0000-U+001F, U+007F-U+009F, U+202A-U+202E, U+2066-U+2069)";
pub const MULTI_LINE_MESSAGE: &str =
    "must not contain control characters other than tab, line feed and carriage return (U+0000-U+001F, U+007F-U+009F)";

/// `is_single_line_char` as the JSON Schema `pattern` (ECMA-262) the request schemas declare;
/// utoipa takes only literals, so the schemas repeat it and a test holds them to this.
pub const SINGLE_LINE_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$";
/// `is_multi_line_char` as a JSON Schema `pattern`, repeated likewise.
pub const MULTI_LINE_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// Checks the characters of query text (`q`, `specialty`) as single-line text.
pub fn check_single_line(text: &str) -> Result<(), String> {
    if text.chars().all(is_single_line_char) { Ok(()) } else { Err(SINGLE_LINE_MESSAGE.to_owned()) }
}

/// A single-line string of `min..=max` characters, stored as sent.
pub fn single_line(min: usize, max: usize) -> impl Fn(&Value) -> Result<String, String> {
    move |value| {
        let text = as_str(value)?;
        check_length(text, min, max)?;
        check_single_line(text)?;
        Ok(text.to_owned())
    }
}

/// A multi-line string of `min..=max` characters, stored as sent.
pub fn multi_line(min: usize, max: usize) -> impl Fn(&Value) -> Result<String, String> {
    move |value| {
        let text = as_str(value)?;
        check_length(text, min, max)?;
        if !text.chars().all(is_multi_line_char) {
            return Err(MULTI_LINE_MESSAGE.to_owned());
        }
        Ok(text.to_owned())
    }
}

pub const SLUG_MAX: usize = 80;

pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= SLUG_MAX
        && text
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// A slug: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 80 characters.
pub fn slug(value: &Value) -> Result<String, String> {
    let text = as_str(value)?;
    if is_slug(text) {
        Ok(text.to_owned())
    } else {
        Err("must be lower-case letters and digits in groups joined by single hyphens (^[a-z0-9]+(-[a-z0-9]+)*$), at most 80 characters".to_owned())
    }
}

/// An email address: one `@`, a plausible local part and a dotted domain, at most 254 characters.
pub fn email(value: &Value) -> Result<String, String> {
    let text = as_str(value)?;
    const MESSAGE: &str = "must be a valid email address such as gme@example.org";
    if text.len() > 254 {
        return Err(MESSAGE.to_owned());
    }
    let Some((local, domain)) = text.split_once('@') else { return Err(MESSAGE.to_owned()) };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok { Ok(text.to_owned()) } else { Err(MESSAGE.to_owned()) }
}

pub const URL_MAX: usize = 2048;

/// The characters an RFC 3986 URI is written with; any other must be percent-encoded.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// An absolute `http` or `https` URL with a host and no user name or password, at most 2,048
/// characters, stored as sent. Parsed as browsers parse it (WHATWG URL), so that the host checked
/// is the one a browser goes to; and where parsers disagree, refused rather than interpreted:
/// - only the characters of an RFC 3986 URI (which the spec's `format: uri` promises): a browser
///   reads `https://a.org\@b.test/` as host `a.org`, an RFC 3986 parser sees no valid URI or host
///   `b.test`; a browser drops tabs and newlines inside a URL and trims spaces around it; an
///   internationalised host is one thing in Unicode and another in punycode;
/// - exactly `//` after the scheme: a browser reads `http:a.org` and `http:///a.org` as host
///   `a.org`, RFC 3986 as no host;
/// - no `@` before the host, even with an empty user name (`https://@a.org`).
pub fn url(value: &Value) -> Result<String, String> {
    let text = as_str(value)?;
    const MESSAGE: &str = "must be an absolute http or https URL such as https://www.rush.edu/";
    if text.chars().count() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters long"));
    }
    let well_escaped = text
        .split('%')
        .skip(1)
        .all(|after| after.get(..2).is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit())));
    if !text.chars().all(is_uri_char) || !well_escaped {
        return Err("must be written in the characters of an RFC 3986 URI: percent-encode spaces, backslashes, control characters and non-ASCII text (punycode for host names)".to_owned());
    }
    let Some((scheme, rest)) = text.split_once("://") else { return Err(MESSAGE.to_owned()) };
    let is_http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    if !is_http || rest.starts_with('/') {
        return Err(MESSAGE.to_owned());
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    // RFC 3986 has `[` `]` only around an IPv6 host, and one `#` at most.
    if after.contains(['[', ']']) || after.matches('#').count() > 1 {
        return Err(MESSAGE.to_owned());
    }
    let parsed = url::Url::parse(text).map_err(|_| MESSAGE.to_owned())?;
    if authority.contains('@') || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain a user name or password".to_owned());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(MESSAGE.to_owned());
    }
    Ok(text.to_owned())
}

/// A JSON number without a fractional part. `3.0` counts, as JSON Schema's `integer` says.
fn as_integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let float = value.as_f64()?;
        // ±2^63 as f64: i64's range.
        let in_range = float.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&float);
        in_range.then_some(float as i64)
    })
}

/// An integer in `min..=max`.
pub fn integer(min: i64, max: i64) -> impl Fn(&Value) -> Result<i64, String> {
    move |value| match as_integer(value) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be an integer from {min} to {max}")),
    }
}

/// An integer in `min..=max` that fits the 32-bit columns.
pub fn small_integer(min: i32, max: i32) -> impl Fn(&Value) -> Result<i32, String> {
    move |value| match as_integer(value).and_then(|n| i32::try_from(n).ok()) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be an integer from {min} to {max}")),
    }
}

/// A JSON number, integer or decimal, as the API keeps it: an integer (or a decimal with no
/// fraction, such as `1e3` or `2.0`) within ±2^53 becomes that integer; any other number is the
/// double nearest to it, which reads back as the same digits for up to 15 significant digits.
pub fn number(value: &Value) -> Result<serde_json::Number, String> {
    /// 2^53: beyond it a double no longer holds every integer.
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;
    let Value::Number(number) = value else { return Err(format!("must be a number, not {}", json_kind(value))) };
    if number.is_i64() || number.is_u64() {
        return Ok(number.clone());
    }
    match number.as_f64() {
        Some(float) if float.fract() == 0.0 && float.abs() <= EXACT_INTEGERS => {
            Ok(serde_json::Number::from(float as i64))
        }
        Some(float) => serde_json::Number::from_f64(float).ok_or_else(|| "must be a finite number".to_owned()),
        None => Err("must be a finite number".to_owned()),
    }
}

/// The id of another record: a positive integer.
pub fn record_id(value: &Value) -> Result<i64, String> {
    integer(1, i64::MAX)(value).map_err(|_| "must be the id of a record (a positive integer)".to_owned())
}

pub fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| format!("must be true or false, not {}", json_kind(value)))
}

pub fn date(value: &Value) -> Result<String, String> {
    clock::parse_date(as_str(value)?).map_err(str::to_owned)
}

pub fn instant(value: &Value) -> Result<Micros, String> {
    clock::parse_instant(as_str(value)?).map_err(str::to_owned)
}

/// One of the values of a wire enumeration.
pub fn one_of<E: crate::base::wire::WireEnum>(value: &Value) -> Result<E, String> {
    let text = as_str(value)?;
    E::parse(text).ok_or_else(|| E::expected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_keep_integers_whole_and_decimals_to_fifteen_significant_digits() {
        for (sent, kept) in [
            ("825", "825"),
            ("-16", "-16"),
            ("1e3", "1000"),
            ("2.0", "2"),
            ("0.1", "0.1"),
            ("-0.5", "-0.5"),
            ("123456789012345", "123456789012345"),
            ("1.23456789012345", "1.23456789012345"),
            ("-98765.4321098765", "-98765.4321098765"),
            ("18446744073709551615", "18446744073709551615"),
        ] {
            let value: Value = serde_json::from_str(sent).unwrap_or_else(|e| panic!("{sent}: {e}"));
            assert_eq!(number(&value).map(|n| n.to_string()), Ok(kept.to_owned()), "{sent}");
        }
        assert!(number(&json!("825")).is_err());
        assert!(number(&json!(null)).is_err());
    }

    #[test]
    fn urls_are_absolute_http_with_a_host_and_parsed_as_browsers_parse_them() {
        for good in [
            "https://www.rush.edu/",
            "http://localhost:8080/x?y=1#z",
            "https://example.org",
            "HTTPS://Example.ORG/Path",
            "http://[::1]:8080/",
            "http://127.0.0.1/",
            "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC",
            "https://a.org/p;x=1/(a)!$&'*+,=~?q=/?:@#f/?:@",
            "https://example.org/a%20b?x=@y#@z",
            &format!("https://example.org/{}", "a".repeat(URL_MAX - 20)),
        ] {
            assert_eq!(url(&json!(good)), Ok(good.to_owned()), "{good}");
        }
        for bad in [
            "ftp://x.org",
            "https://",
            "www.rush.edu",
            "/relative",
            "//example.org/",
            "https://x.org:99999/",
            "https://a b.org",
            "https://a.org\\@b.test/",
            "https:\\\\a.org",
            " https://a.org",
            "https://a.org/\t",
            "https://a.org/\u{0}",
            "https://a.org/\u{85}",
            "https://a.org/\u{202E}",
            "https://a.org/\u{3000}",
            "https://user:secret@a.org/",
            "https://user@a.org/",
            "https://@a.org/",
            "https://:@a.org/",
            "http:a.org",
            "http:/a.org",
            "http:///a.org",
            "https://[::1/",
            "https://a<b.org/",
            "https://exa%00mple.org/",
            "https://bücher.example/",
            "https://a.org/straße",
            "https://a.org/100%",
            "https://a.org/%zz",
            "https://a.org/a|b",
            "https://a.org/<script>",
            "https://a.org/[x]",
            "https://a.org/#a#b",
            "javascript://a.org/%0Aalert(1)",
            &format!("https://example.org/{}", "a".repeat(URL_MAX)),
        ] {
            assert!(url(&json!(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email(&json!("gme@rush.edu")).is_ok());
        for bad in ["gme", "@rush.edu", "gme@rush", "gme@@rush.edu", "g me@rush.edu", "gme@-rush.edu"] {
            assert!(email(&json!(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let single = single_line(1, 3);
        let multi = multi_line(1, 3);
        for text in [&single as Parse<'_, String>, &multi] {
            assert!(text(&json!("ééé")).is_ok());
            assert!(text(&json!("éééé")).is_err());
            assert!(text(&json!("")).is_err());
        }
    }

    #[test]
    fn single_line_text_refuses_controls_and_bidi_overrides_multi_line_allows_layout() {
        for c in [
            '\u{0}', '\t', '\n', '\r', '\u{1B}', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}', '\u{202A}', '\u{202E}',
            '\u{2066}', '\u{2069}',
        ] {
            let text = format!("a{c}b");
            assert_eq!(single_line(0, 10)(&json!(text)), Err(SINGLE_LINE_MESSAGE.to_owned()), "{c:?}");
        }
        for c in ['\t', '\n', '\r', '\u{202E}', '\u{2028}', '\u{A0}', 'é', '\u{1F600}'] {
            assert!(multi_line(0, 10)(&json!(format!("a{c}b"))).is_ok(), "{c:?}");
        }
        for c in ['\u{0}', '\u{B}', '\u{C}', '\u{1B}', '\u{7F}', '\u{85}'] {
            assert_eq!(multi_line(0, 10)(&json!(format!("a{c}b"))), Err(MULTI_LINE_MESSAGE.to_owned()), "{c:?}");
        }
        for c in ['\u{A0}', '\u{200F}', '\u{2028}', '\u{202F}', '\u{2065}', '\u{206A}', 'é'] {
            assert!(single_line(0, 10)(&json!(format!("a{c}b"))).is_ok(), "{c:?}");
        }
    }
}
