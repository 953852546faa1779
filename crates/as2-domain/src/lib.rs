//! The AS2 platform domain model: entities, their rules and validation. No IO.
