//! Unit tests of the FHIR file validator.
