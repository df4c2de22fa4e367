//! Enumerations as they appear on the wire and in the database: lowercase `snake_case` strings.

/// An enumeration with a fixed set of `snake_case` string values.
pub trait WireEnum: Sized + Copy + PartialEq + 'static {
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.as_str() == text)
    }

    /// The message for a value that is none of these.
    fn expected() -> String {
        let values: Vec<&str> = Self::ALL.iter().map(|value| value.as_str()).collect();
        format!("must be one of: {}", values.join(", "))
    }
}

/// Declares a wire enumeration: the enum, its serde names and its `WireEnum` table in one place.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        // `rename_all` rather than a rename per variant: utoipa reads the former only. The test
        // below keeps the two spellings in step.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $crate::base::wire::WireEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];

            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }
    };
}

/// Reads an enumeration back from its database text; anything else is a corrupt row.
pub fn from_db<E: WireEnum>(column: &'static str, text: &str) -> Result<E, crate::base::error::AppError> {
    E::parse(text).ok_or_else(|| crate::base::error::AppError::internal(format!("unknown value in column {column}")))
}

#[cfg(test)]
mod tests {
    use super::WireEnum;
    use crate::domain::events::api::{EventSort, EventStatus, EventType};
    use crate::domain::initiatives::api::{Category, InitiativeSort, InitiativeStatus};
    use crate::domain::programs::api::{Campus, ProgramSort, ProgramType};

    fn serde_matches_table<E: WireEnum + serde::Serialize + std::fmt::Debug>() {
        for value in E::ALL {
            assert_eq!(serde_json::to_value(value).ok(), Some(serde_json::Value::from(value.as_str())));
            assert_eq!(E::parse(value.as_str()), Some(*value));
        }
    }

    #[test]
    fn wire_names_are_the_serde_names() {
        serde_matches_table::<ProgramType>();
        serde_matches_table::<Campus>();
        serde_matches_table::<ProgramSort>();
        serde_matches_table::<Category>();
        serde_matches_table::<InitiativeStatus>();
        serde_matches_table::<InitiativeSort>();
        serde_matches_table::<EventType>();
        serde_matches_table::<EventStatus>();
        serde_matches_table::<EventSort>();
    }
}
