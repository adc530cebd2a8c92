//! Integration tests of preld.
