//! Events as iCalendar (RFC 5545, with RFC 7986's calendar properties) for calendar apps.

use crate::base::clock::{self, Micros};
use crate::base::wire::WireEnum;
use crate::domain::events::api::{Event, EventStatus};

pub const TEXT_CALENDAR: &str = "text/calendar; charset=utf-8";
const PRODID: &str = "-//RUSH University System for Health//rush-api//EN";
/// RFC 5545 §3.1: lines longer than 75 octets are folded.
const MAX_LINE_OCTETS: usize = 75;

/// An event with the revision that iCalendar's SEQUENCE reports.
pub struct CalendarEvent {
    pub event: Event,
    pub revision: i32,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A whole calendar: `name` is shown by calendar apps as the subscription's name.
pub fn render(name: &str, events: &[CalendarEvent]) -> String {
    let mut out = String::with_capacity(512 + events.len() * 768);
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("NAME:{}", escape(name)));
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    // RFC 7986 §5.7: how often subscribers should refresh.
    line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line(&mut out, "X-PUBLISHED-TTL:PT1H");
    for event in events {
        render_event(&mut out, event);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn render_event(out: &mut String, item: &CalendarEvent) {
    let event = &item.event;
    line(out, "BEGIN:VEVENT");
    // Stable for the life of the event: ids are never reused.
    line(out, &format!("UID:event-{}@rush-api", event.id));
    // DTSTAMP is the last change rather than the time of the request, so that an unchanged feed
    // is byte for byte the same (and keeps its ETag).
    line(out, &format!("DTSTAMP:{}", basic(item.updated_at)));
    line(out, &format!("CREATED:{}", basic(item.created_at)));
    line(out, &format!("LAST-MODIFIED:{}", basic(item.updated_at)));
    line(out, &format!("SEQUENCE:{}", item.revision));
    if let Some(starts_at) = instant(&event.starts_at) {
        line(out, &format!("DTSTART:{}", basic(starts_at)));
    }
    if let Some(ends_at) = event.ends_at.as_deref().and_then(instant) {
        line(out, &format!("DTEND:{}", basic(ends_at)));
    }
    line(out, &format!("SUMMARY:{}", escape(&event.title)));
    if let Some(description) = &event.description {
        line(out, &format!("DESCRIPTION:{}", escape(description)));
    }
    let place: Vec<&str> = [event.location_name.as_deref(), event.address.as_deref()].into_iter().flatten().collect();
    if !place.is_empty() {
        line(out, &format!("LOCATION:{}", escape(&place.join(", "))));
    }
    if let Some(url) = &event.registration_url {
        line(out, &format!("URL:{}", uri(url)));
    }
    if event.is_virtual
        && let Some(url) = &event.virtual_url
    {
        line(out, &format!("CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Join online:{}", uri(url)));
    }
    line(out, &format!("CATEGORIES:{}", event.event_type.as_str().to_ascii_uppercase()));
    // Cancelled events stay in the feed, so that subscribers see the cancellation.
    let status = match event.status {
        EventStatus::Scheduled | EventStatus::Completed => "CONFIRMED",
        EventStatus::Cancelled => "CANCELLED",
    };
    line(out, &format!("STATUS:{status}"));
    line(out, "END:VEVENT");
}

fn instant(text: &str) -> Option<Micros> {
    clock::parse_instant(text).ok()
}

/// `20270314T140000Z`: the UTC form of DATE-TIME (seconds precision).
fn basic(micros: Micros) -> String {
    let text = clock::format_micros(micros);
    // 2027-03-14T14:00:00.000000Z -> 20270314T140000Z
    let compact: String = text[..19].chars().filter(|c| *c != '-' && *c != ':').collect();
    format!("{compact}Z")
}

/// RFC 5545 §3.3.11 TEXT: backslash, semicolon, comma and newlines escaped; other control
/// characters, which TEXT cannot carry, dropped.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                escaped.push_str("\\n");
            }
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push('\t'),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// A URI value: it cannot be escaped, so characters a URI never holds unencoded are dropped.
fn uri(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() && !c.is_whitespace()).collect()
}

/// Appends `content` as one content line: folded at 75 octets (continuations begin with a
/// space), never inside a UTF-8 character, ended by CRLF.
fn line(out: &mut String, content: &str) {
    let mut budget = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in content.chars() {
        let size = c.len_utf8();
        if used + size > budget {
            // Some readers trim trailing white space from each physical line: never end one with it.
            let carried = if out.ends_with(' ') || out.ends_with('\t') { out.pop() } else { None };
            out.push_str("\r\n ");
            // The leading space counts toward the next line's 75 octets.
            budget = MAX_LINE_OCTETS - 1;
            used = 0;
            if let Some(space) = carried {
                out.push(space);
                used += 1;
            }
        }
        out.push(c);
        used += size;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "é🎉a".repeat(40)));
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets: {physical}", physical.len());
        }
        assert_eq!(out.replace("\r\n ", ""), format!("SUMMARY:{}\r\n", "é🎉a".repeat(40)));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a\\b;c,d\r\ne\nf\u{7}"), "a\\\\b\\;c\\,d\\ne\\nf");
    }
}
