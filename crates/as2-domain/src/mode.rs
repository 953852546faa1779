//! Test and live mode: data of one mode is never visible to keys of the other.

use std::fmt;
use std::str::FromStr;

/// The mode a key, and every row it creates, belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Sandbox data: processed by the real pipeline, never billed.
    Test,
    /// Production data: metered.
    Live,
}

impl Mode {
    /// The lowercase name used in keys, rows and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Live => "live",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "test" => Ok(Self::Test),
            "live" => Ok(Self::Live),
            other => Err(UnknownValue::new("mode", other)),
        }
    }
}

/// A stored or given enum value that is not one of the known names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct UnknownValue {
    /// What kind of value (for example `mode`).
    pub what: &'static str,
    /// The value, truncated.
    pub value: String,
}

impl UnknownValue {
    /// A new error for `value` of kind `what`.
    pub fn new(what: &'static str, value: &str) -> Self {
        Self {
            what,
            value: value.chars().take(64).collect(),
        }
    }
}

/// Implements `as_str`, `Display`, `FromStr` and `ALL` for a fieldless enum.
#[macro_export]
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire and database name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err($crate::UnknownValue::new($what, other)),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for mode in [Mode::Test, Mode::Live] {
            assert_eq!(mode.as_str().parse::<Mode>(), Ok(mode));
        }
        assert!("Live".parse::<Mode>().is_err());
    }
}
