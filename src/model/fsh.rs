//! A compiler for the FHIR Shorthand (FSH) that IG example instances are written in, to FHIR JSON.
//!
//! FSH (HL7 FHIR Shorthand 3.0, <https://hl7.org/fhir/uv/shorthand/>) is the source language of
//! the MHD, MADO and HL7 Europe imaging guides; their example instances are the published
//! positive examples. This module compiles the subset those instances use, without the FHIR
//! package registry (which SUSHI, the reference compiler, needs), so that `validate` judges a
//! `.fsh` file with the same checks as the JSON it stands for:
//! - comments (`//` at the start of a token, `/* … */`), strings (`"…"` with `\"`, `\\`, `\n`,
//!   `\t` escapes; `"""…"""` multi-line strings, whose blank first and last lines and common
//!   indentation are removed, FSH §3.4.3);
//! - `Alias:`, `Instance:` with `InstanceOf:`, `Usage:`, `Title:`, `Description:`; `RuleSet:`
//!   and `insert`, with parameters (`{name}` substituted in the rule text, FSH §3.7.1);
//!   `Profile:` / `Parent:` / `Id:` only to learn the base type of an instance of that profile;
//! - assignment rules `* path = value`, indented rules (paths relative to the rule above with
//!   less indentation, FSH §3.6.1), soft indexes `[+]` and `[=]`, numeric indexes, named slices
//!   (`entry[SubmissionSet]`: each slice name is its own array element, the same one each time it
//!   is named again; `entry[X][+]` a further element of slice X);
//! - values: strings, numbers, booleans, dates and dateTimes, codes (`#code`, `system#code
//!   "display"`, `$alias#code`), quantities (`5 'mg'`), `Reference(X)` (an instance of the file
//!   becomes `Type/id`, or `#id` when it is contained in the instance), `Canonical(X)`, and
//!   instance names assigned to a resource element (the instance is inlined).
//!
//! What the compiler cannot know without the guide's profiles (fixed values, extension URLs of
//! extension slices, slice discriminators, code systems named by the guide) it does not guess:
//! it compiles what the source states and records each such gap as an [`Unresolved`] item, so
//! that a validator can leave the rules that would judge exactly those elements unjudged. A few
//! names are known from the guides the corpus comes from ([`KNOWN_PROFILES`],
//! [`KNOWN_EXTENSIONS`], [`KNOWN_ALIASES`]), each table cited. `contains`, caret (`^`) and other
//! profiling rules inside an instance are ignored with a note.
//!
//! Hostile input ends in an [`FshError`] or an [`Unresolved`] note, never a panic: strings must
//! be terminated, paths are at most [`MAX_PATH_DEPTH`] deep, indexes at most [`MAX_INDEX`],
//! RuleSet inserts nest at most [`MAX_INSERT_DEPTH`] deep, instances that inline each other in a
//! cycle are refused, and a compiled instance holds at most [`MAX_NODES`] JSON values.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::fhir::xml_order;

/// Deepest path a rule may name (segments, after indentation is applied).
pub const MAX_PATH_DEPTH: usize = 32;
/// Largest array index a rule may name.
pub const MAX_INDEX: usize = 1000;
/// Deepest nesting of RuleSet inserts.
pub const MAX_INSERT_DEPTH: usize = 8;
/// Most JSON values (objects, arrays, scalars) one compiled instance may hold, inlined
/// instances included.
pub const MAX_NODES: usize = 200_000;
/// Largest FSH source accepted, in bytes.
pub const MAX_SOURCE: usize = 4 * 1024 * 1024;

/// Profiles of the guides the corpus comes from: (name, id or name used in `InstanceOf`,
/// canonical URL, base resource type). Sources: IHE ITI MHD 4.2 (profiles.ihe.net/ITI/MHD,
/// `input/fsh/*.fsh` of IHE/ITI.MHD), IHE RAD MADO (IHE/RAD.MADO `input/fsh`), HL7 Europe Imaging
/// Study and Report (hl7-eu/imaging, `igs/imaging-r4/input/fsh/profiles`), HL7 Europe Imaging
/// Manifest (hl7-eu/imaging-manifest `input/fsh`), HL7 Europe Base (`$EuPatient`,
/// `$EuOrganization`).
pub const KNOWN_PROFILES: &[(&str, &str, &str)] = &[
    (
        "IHE.MHD.Minimal.ProvideBundle",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle",
        "Bundle",
    ),
    (
        "IHE.MHD.Comprehensive.ProvideBundle",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle",
        "Bundle",
    ),
    (
        "IHE.MHD.UnContained.Comprehensive.ProvideBundle",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.UnContained.Comprehensive.ProvideBundle",
        "Bundle",
    ),
    (
        "IHE.MHD.ProvideDocumentBundleResponse",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.ProvideDocumentBundleResponse",
        "Bundle",
    ),
    (
        "IHE.MHD.FindDocumentListsResponseMessage",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.FindDocumentListsResponseMessage",
        "Bundle",
    ),
    (
        "IHE.MHD.FindDocumentReferencesResponseMessage",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.FindDocumentReferencesResponseMessage",
        "Bundle",
    ),
    (
        "IHE.MHD.FindDocumentReferencesComprehensiveResponseMessage",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.FindDocumentReferencesComprehensiveResponseMessage",
        "Bundle",
    ),
    (
        "IHE.MHD.Minimal.DocumentReference",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.DocumentReference",
        "DocumentReference",
    ),
    (
        "IHE.MHD.Comprehensive.DocumentReference",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.DocumentReference",
        "DocumentReference",
    ),
    (
        "IHE.MHD.UnContained.Comprehensive.DocumentReference",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.UnContained.Comprehensive.DocumentReference",
        "DocumentReference",
    ),
    (
        "IHE.MHD.Minimal.SubmissionSet",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet",
        "List",
    ),
    (
        "IHE.MHD.Comprehensive.SubmissionSet",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.SubmissionSet",
        "List",
    ),
    (
        "IHE.MHD.UnContained.Comprehensive.SubmissionSet",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.UnContained.Comprehensive.SubmissionSet",
        "List",
    ),
    (
        "IHE.MHD.Minimal.Folder",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.Folder",
        "List",
    ),
    (
        "IHE.MHD.Comprehensive.Folder",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.Folder",
        "List",
    ),
    (
        "MadoDicomKosDocumentReference",
        "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoDicomKosDocumentReference",
        "DocumentReference",
    ),
    (
        "MadoWadoEndpoint",
        "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoWadoEndpoint",
        "Endpoint",
    ),
    (
        "MadoFhirBundle",
        "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoFhirBundle",
        "Bundle",
    ),
    (
        "BundleReportEuImaging",
        "http://hl7.eu/fhir/imaging/StructureDefinition/BundleReportEuImaging",
        "Bundle",
    ),
    (
        "BundleReportMinimalMetadataEuImaging",
        "http://hl7.eu/fhir/imaging/StructureDefinition/BundleReportMinimalMetadataEuImaging",
        "Bundle",
    ),
    (
        "CompositionEuImaging",
        "http://hl7.eu/fhir/imaging/StructureDefinition/CompositionEuImaging",
        "Composition",
    ),
    (
        "DiagnosticReportEuImaging",
        "http://hl7.eu/fhir/imaging/StructureDefinition/DiagnosticReportEuImaging",
        "DiagnosticReport",
    ),
    (
        "DiagnosticReportEuImagingMinimalMetadata",
        "http://hl7.eu/fhir/imaging/StructureDefinition/DiagnosticReportEuImagingMinimalMetadata",
        "DiagnosticReport",
    ),
    (
        "DocumentReferenceImagingReport",
        "http://hl7.eu/fhir/imaging/StructureDefinition/DocumentReferenceImagingReport",
        "DocumentReference",
    ),
    (
        "DocumentReferenceKeyImageEuImaging",
        "http://hl7.eu/fhir/imaging/StructureDefinition/DocumentReferenceKeyImageEuImaging",
        "DocumentReference",
    ),
    (
        "ObservationRadiationDoseEuImaging",
        "http://hl7.eu/fhir/imaging/StructureDefinition/ObservationRadiationDoseEuImaging",
        "Observation",
    ),
    (
        "PractitionerEu",
        "http://hl7.eu/fhir/base/StructureDefinition/practitioner-eu",
        "Practitioner",
    ),
    (
        "$EuPatient",
        "http://hl7.eu/fhir/base/StructureDefinition/patient-eu",
        "Patient",
    ),
    (
        "$EuOrganization",
        "http://hl7.eu/fhir/base/StructureDefinition/organization-eu",
        "Organization",
    ),
    (
        "ImImagingStudy",
        "http://hl7.eu/fhir/imaging-manifest/StructureDefinition/im-imagingstudy",
        "ImagingStudy",
    ),
    (
        "ImImagingStudyManifest",
        "http://hl7.eu/fhir/imaging-manifest/StructureDefinition/im-imagingstudy-manifest",
        "Bundle",
    ),
    (
        "ImPatient",
        "http://hl7.eu/fhir/imaging-manifest/StructureDefinition/im-patient",
        "Patient",
    ),
    (
        "PatchParameters",
        "http://hl7.org/fhir/StructureDefinition/Parameters",
        "Parameters",
    ),
];

/// Extension slices whose URL the guides' profiles fix, by (part of the profile's name, slice
/// name, url): IHE ITI MHD 4.2 `input/fsh/SubmissionSet.fsh`, `DocumentReference.fsh`,
/// `Folder.fsh` (`ihe-sourceId`, `ihe-designationType`, `ihe-intendedRecipient`, `ihe-authorOrg`);
/// IHE RAD MADO `input/fsh/profiles` (R5 DocumentReference.modality and .bodySite extensions,
/// Retrieve Location UID); the HL7 Europe Imaging Report profiles (`hl7-eu/imaging`
/// `igs/imaging-r4/input/fsh/profiles`; `*EuImaging`, `DocumentReferenceImagingReport`) as the
/// project's translations of their examples (`fixtures/report/`) write them, with `concept` the
/// relative url of the bodySite extension's sub-extension. A slice not listed stays an extension
/// without url ([`Unresolved`]).
pub const KNOWN_EXTENSIONS: &[(&str, &str, &str)] = &[
    (
        "IHE.MHD.",
        "sourceId",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
    ),
    (
        "IHE.MHD.",
        "designationType",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
    ),
    (
        "IHE.MHD.",
        "intendedRecipient",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-intendedRecipient",
    ),
    (
        "IHE.MHD.",
        "AuthorOrg",
        "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-authorOrg",
    ),
    (
        "Mado",
        "modality",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality",
    ),
    (
        "Mado",
        "bodysite",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite",
    ),
    (
        "Mado",
        "retrieve-location-uid",
        "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoRetrieveLocationUIDExtension",
    ),
    (
        "EuImaging",
        "modality",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality",
    ),
    (
        "EuImaging",
        "bodysite",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite",
    ),
    ("EuImaging", "concept", "concept"),
    (
        "EuImaging",
        "profile",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.content.profile",
    ),
    (
        "EuImaging",
        "note",
        "http://hl7.org/fhir/StructureDefinition/note",
    ),
    (
        "EuImaging",
        "annotation-type",
        "http://hl7.org/fhir/StructureDefinition/annotationType",
    ),
    (
        "EuImaging",
        "thumbnail",
        "http://hl7.org/fhir/StructureDefinition/documentreference-thumbnail",
    ),
    (
        "EuImaging",
        "basedOn",
        "http://hl7.org/fhir/StructureDefinition/event-basedOn",
    ),
    (
        "EuImaging",
        "composition",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.composition",
    ),
    (
        "EuImaging",
        "version",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-Composition.version",
    ),
    (
        "EuImaging",
        "diagnosticreport-reference",
        "http://hl7.eu/fhir/extensions/StructureDefinition/composition-diagnosticReportReference",
    ),
    (
        "EuImaging",
        "patientHistory",
        "http://hl7.eu/fhir/imaging/StructureDefinition/patient-history",
    ),
    (
        "EuImaging",
        "recommendation",
        "http://hl7.eu/fhir/imaging/StructureDefinition/recommendation",
    ),
    (
        "ImagingReport",
        "modality",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality",
    ),
    (
        "ImagingReport",
        "bodysite",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite",
    ),
    ("ImagingReport", "concept", "concept"),
    (
        "ImagingReport",
        "profile",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.content.profile",
    ),
    (
        "ImagingReport",
        "note",
        "http://hl7.org/fhir/StructureDefinition/note",
    ),
    (
        "ImagingReport",
        "annotation-type",
        "http://hl7.org/fhir/StructureDefinition/annotationType",
    ),
    (
        "ImagingReport",
        "thumbnail",
        "http://hl7.org/fhir/StructureDefinition/documentreference-thumbnail",
    ),
    (
        "ImagingReport",
        "basedOn",
        "http://hl7.org/fhir/StructureDefinition/event-basedOn",
    ),
    (
        "ImagingReport",
        "composition",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.composition",
    ),
    (
        "ImagingReport",
        "version",
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-Composition.version",
    ),
    (
        "ImagingReport",
        "diagnosticreport-reference",
        "http://hl7.eu/fhir/extensions/StructureDefinition/composition-diagnosticReportReference",
    ),
    (
        "ImagingReport",
        "patientHistory",
        "http://hl7.eu/fhir/imaging/StructureDefinition/patient-history",
    ),
    (
        "ImagingReport",
        "recommendation",
        "http://hl7.eu/fhir/imaging/StructureDefinition/recommendation",
    ),
];

/// Aliases and code system names the guides define outside the example files (IHE ITI MHD
/// `input/fsh/aliases.fsh` and `MHDlistTypes`; IHE RAD MADO and HL7 Europe `aliases.fsh`): only
/// the standard terminologies and the MHD list types, whose URLs the checks compare.
pub const KNOWN_ALIASES: &[(&str, &str)] = &[
    ("$loinc", "http://loinc.org"),
    ("$sct", "http://snomed.info/sct"),
    (
        "$dicomOntology",
        "http://dicom.nema.org/resources/ontology/DCM",
    ),
    ("$DCM", "http://dicom.nema.org/resources/ontology/DCM"),
    ("$v2-0203", "http://terminology.hl7.org/CodeSystem/v2-0203"),
    ("$ucum", "http://unitsofmeasure.org"),
    (
        "MHDlistTypes",
        "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
    ),
];

/// How an instance is used (FSH §3.5.2, `Usage:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// `#example` (the default): a standalone example, judged on its own.
    Example,
    /// `#definition`: a conformance resource, judged on its own.
    Definition,
    /// `#inline`: only a part of the instances that name it.
    Inline,
}

/// Something the source states that the compiler could not turn into FHIR without the guide's
/// definitions, or a rule it ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// What kind of gap it is.
    pub kind: Gap,
    /// The rule's path as written, resolved against indentation (`extension[modality]`).
    pub path: String,
    /// What is missing, in words.
    pub note: String,
}

/// The kinds of [`Unresolved`] items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Gap {
    /// An extension slice whose URL the profile sets: the extension has no `url`.
    ExtensionUrl,
    /// A code system or alias the file does not define: the coding has no `system`.
    CodeSystem,
    /// A named slice of a non-extension element: its discriminator values are the profile's.
    Slice,
    /// An instance, RuleSet or profile the file does not define.
    Undefined,
    /// A rule ignored in an instance (`contains`, caret, cardinality, `only`, `obeys`, `from`).
    Ignored,
}

/// One compiled instance.
#[derive(Debug, Clone)]
pub struct FshInstance {
    /// `Instance:` name.
    pub name: String,
    /// `InstanceOf:` as written.
    pub instance_of: String,
    /// The canonical URL of the profile, when known.
    pub profile: Option<String>,
    /// `Usage:`.
    pub usage: Usage,
    /// `Title:`.
    pub title: String,
    /// The FHIR JSON resource.
    pub resource: Value,
    /// What was not resolved, in this instance and the instances it inlines.
    pub unresolved: Vec<Unresolved>,
}

/// A compiled FSH file.
#[derive(Debug, Clone, Default)]
pub struct FshFile {
    /// Every instance, in source order.
    pub instances: Vec<FshInstance>,
}

impl FshFile {
    /// The instances judged on their own (not `#inline`).
    pub fn judged(&self) -> impl Iterator<Item = &FshInstance> {
        self.instances.iter().filter(|i| i.usage != Usage::Inline)
    }
}

/// Why an FSH source cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FshError {
    /// Not UTF-8.
    #[error("the FSH source is not UTF-8")]
    NotUtf8,
    /// Larger than [`MAX_SOURCE`].
    #[error("the FSH source is larger than {MAX_SOURCE} bytes")]
    TooLarge,
    /// A syntax error at a line.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file defines no instance.
    #[error("the FSH source defines no Instance")]
    NoInstance,
}

fn syntax(line: usize, message: impl Into<String>) -> FshError {
    FshError::Syntax {
        line,
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A run of non-blank characters.
    Word(String),
    /// A string literal (escapes resolved).
    Str(String),
    /// A `'unit'` literal.
    Unit(String),
    /// `*` opening a rule, with its column.
    Star(usize),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    /// Byte offset of the token's start.
    start: usize,
    /// First token on its line.
    line_start: bool,
    /// No blank between this token and the one before.
    glued: bool,
}

fn lex(src: &str, first_line: usize) -> Result<Vec<Token>, FshError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = first_line;
    let mut line_start = true;
    let mut col = 0usize;
    let mut glued = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
            line_start = true;
            col = 0;
            glued = false;
            continue;
        }
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
            col += 1;
            glued = false;
            continue;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b[i..].starts_with(b"/*") {
            let open = line;
            i += 2;
            loop {
                if i >= b.len() {
                    return Err(syntax(open, "unterminated /* comment"));
                }
                if b[i..].starts_with(b"*/") {
                    i += 2;
                    break;
                }
                if b[i] == b'\n' {
                    line += 1;
                }
                i += 1;
            }
            glued = false;
            continue;
        }
        let start = i;
        let at_line_start = line_start;
        line_start = false;
        let tok = if b[i..].starts_with(b"\"\"\"") {
            let open = line;
            let body_start = i + 3;
            let Some(end) = src[body_start..].find("\"\"\"") else {
                return Err(syntax(open, "unterminated \"\"\" string"));
            };
            let raw = &src[body_start..body_start + end];
            line += raw.matches('\n').count();
            i = body_start + end + 3;
            Tok::Str(multiline(&unescape(raw)))
        } else if c == b'"' {
            let open = line;
            let mut s = String::new();
            i += 1;
            let mut closed = false;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    b'\\' if i + 1 < b.len() => {
                        let next = src[i + 1..].chars().next().unwrap_or('\\');
                        s.push_str(&unescape(&format!("\\{next}")));
                        i += 1 + next.len_utf8();
                    }
                    b'\n' => {
                        line += 1;
                        s.push('\n');
                        i += 1;
                    }
                    _ => {
                        let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                        s.push(ch);
                        i += ch.len_utf8().max(1);
                    }
                }
            }
            if !closed {
                return Err(syntax(open, "unterminated string"));
            }
            Tok::Str(s)
        } else if c == b'\'' {
            let Some(end) = src[i + 1..].find(['\'', '\n']) else {
                return Err(syntax(line, "unterminated 'unit'"));
            };
            if b[i + 1 + end] != b'\'' {
                return Err(syntax(line, "unterminated 'unit'"));
            }
            let u = src[i + 1..i + 1 + end].to_string();
            i += end + 2;
            Tok::Unit(u)
        } else if c == b'*' && at_line_start && b.get(i + 1).is_none_or(|n| n.is_ascii_whitespace())
        {
            i += 1;
            Tok::Star(col)
        } else {
            // A word ends at a blank, or at `"` (a quoted code after `#`).
            while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'"' {
                i += 1;
            }
            if i == start {
                // A lone quote cannot reach here; guard against a zero-length word anyway.
                i += 1;
            }
            Tok::Word(src[start..i].to_string())
        };
        col += src[start..i].chars().count();
        out.push(Token {
            tok,
            line,
            start,
            line_start: at_line_start,
            glued,
        });
        glued = true;
    }
    Ok(out)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// A `"""` string: blank first and last lines dropped, common indentation removed.
fn multiline(s: &str) -> String {
    let mut lines: Vec<&str> = s.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    if lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    if lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Entities.

const KEYWORDS: &[&str] = &[
    "Alias:",
    "Profile:",
    "Extension:",
    "Logical:",
    "Resource:",
    "Instance:",
    "Invariant:",
    "ValueSet:",
    "CodeSystem:",
    "RuleSet:",
    "Mapping:",
    "Parent:",
    "Id:",
    "Title:",
    "Description:",
    "InstanceOf:",
    "Usage:",
    "Expression:",
    "Severity:",
    "XPath:",
    "Source:",
    "Target:",
    "Characteristics:",
    "Context:",
];

fn keyword(t: &Token) -> Option<&str> {
    match &t.tok {
        Tok::Word(w) if t.line_start && KEYWORDS.contains(&w.as_str()) => Some(w),
        _ => None,
    }
}

#[derive(Debug, Clone)]
struct Rule {
    indent: usize,
    line: usize,
    toks: Vec<Token>,
}

#[derive(Debug, Clone, Default)]
struct InstanceDef {
    name: String,
    line: usize,
    instance_of: String,
    usage: Option<String>,
    title: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct RuleSetDef {
    params: Vec<String>,
    /// The body's source text and its first line.
    body: String,
    line: usize,
}

#[derive(Debug, Default)]
struct Defs {
    aliases: HashMap<String, String>,
    /// Profile name or id → (parent, canonical URL if an `Id:` gives none: None).
    profiles: HashMap<String, String>,
    rulesets: HashMap<String, RuleSetDef>,
    instances: Vec<InstanceDef>,
}

fn word(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

fn text(t: Option<&Token>) -> Option<String> {
    match t.map(|t| &t.tok) {
        Some(Tok::Word(w)) => Some(w.clone()),
        Some(Tok::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Split a name with parameters, `Name(a, b)`, written over one or more words.
fn name_and_params(words: &[String]) -> (String, Vec<String>) {
    let joined = words.join(" ");
    match joined.split_once('(') {
        Some((name, rest)) => {
            let inner = rest.rsplit_once(')').map_or(rest, |(a, _)| a);
            let params = if inner.trim().is_empty() {
                Vec::new()
            } else {
                inner.split(',').map(|p| p.trim().to_string()).collect()
            };
            (name.trim().to_string(), params)
        }
        None => (joined.trim().to_string(), Vec::new()),
    }
}

fn parse_defs(src: &str) -> Result<Defs, FshError> {
    let toks = lex(src, 1)?;
    let mut defs = Defs::default();
    let mut i = 0;
    // The entity being read: Instance, Profile (its name), RuleSet, or another.
    enum Cur {
        None,
        Instance(InstanceDef),
        Profile(String),
        Other,
    }
    let mut cur = Cur::None;
    let finish = |cur: Cur, defs: &mut Defs| {
        if let Cur::Instance(d) = cur {
            defs.instances.push(d);
        }
    };
    while i < toks.len() {
        let t = &toks[i];
        if let Some(kw) = keyword(t) {
            let value_words = || -> Vec<String> {
                toks[i + 1..]
                    .iter()
                    .take_while(|x| x.line == t.line && !matches!(x.tok, Tok::Star(_)))
                    .filter_map(|x| text(Some(x)))
                    .collect()
            };
            match kw {
                "Alias:" => {
                    let w = value_words();
                    if w.len() >= 3 && w[1] == "=" {
                        defs.aliases.insert(w[0].clone(), w[2].clone());
                    } else {
                        return Err(syntax(t.line, "Alias: needs `name = url`"));
                    }
                }
                "Instance:" => {
                    finish(std::mem::replace(&mut cur, Cur::None), &mut defs);
                    let Some(name) = word(toks.get(i + 1)) else {
                        return Err(syntax(t.line, "Instance: without a name"));
                    };
                    cur = Cur::Instance(InstanceDef {
                        name: name.to_string(),
                        line: t.line,
                        ..InstanceDef::default()
                    });
                }
                "Profile:" | "Extension:" | "Logical:" | "Resource:" => {
                    finish(std::mem::replace(&mut cur, Cur::None), &mut defs);
                    cur = match word(toks.get(i + 1)) {
                        Some(n) if kw == "Profile:" => Cur::Profile(n.to_string()),
                        _ => Cur::Other,
                    };
                }
                "RuleSet:" => {
                    finish(std::mem::replace(&mut cur, Cur::None), &mut defs);
                    let header = value_words();
                    let (name, params) = name_and_params(&header);
                    // The body runs from the next line to the next entity keyword.
                    let mut j = i + 1;
                    while j < toks.len() && toks[j].line == t.line {
                        j += 1;
                    }
                    let body_start = toks.get(j).map_or(src.len(), |x| x.start);
                    let body_line = toks.get(j).map_or(t.line, |x| x.line);
                    let mut k = j;
                    while k < toks.len() && keyword(&toks[k]).is_none() {
                        k += 1;
                    }
                    let body_end = toks.get(k).map_or(src.len(), |x| x.start);
                    // Start the body at the beginning of its first line, to keep indentation.
                    let line_begin = src[..body_start].rfind('\n').map_or(0, |p| p + 1);
                    defs.rulesets.insert(
                        name,
                        RuleSetDef {
                            params,
                            body: src[line_begin..body_end].to_string(),
                            line: body_line,
                        },
                    );
                    cur = Cur::Other;
                    i = k;
                    continue;
                }
                "Invariant:" | "ValueSet:" | "CodeSystem:" | "Mapping:" => {
                    finish(std::mem::replace(&mut cur, Cur::None), &mut defs);
                    cur = Cur::Other;
                }
                "Parent:" => {
                    if let (Cur::Profile(p), Some(parent)) = (&cur, word(toks.get(i + 1))) {
                        defs.profiles.insert(p.clone(), parent.to_string());
                    }
                }
                "Id:" => {
                    if let Cur::Profile(p) = &cur {
                        if let (Some(id), Some(parent)) =
                            (word(toks.get(i + 1)), defs.profiles.get(p).cloned())
                        {
                            defs.profiles.insert(id.to_string(), parent);
                        }
                    }
                }
                "InstanceOf:" => {
                    if let Cur::Instance(d) = &mut cur {
                        d.instance_of = word(toks.get(i + 1)).unwrap_or_default().to_string();
                    }
                }
                "Usage:" => {
                    if let Cur::Instance(d) = &mut cur {
                        d.usage = word(toks.get(i + 1)).map(str::to_string);
                    }
                }
                "Title:" => {
                    if let Cur::Instance(d) = &mut cur {
                        d.title = text(toks.get(i + 1)).unwrap_or_default();
                    }
                }
                _ => {}
            }
            // Skip the keyword's value (the rest of its line, or one string).
            i += 1;
            while i < toks.len()
                && keyword(&toks[i]).is_none()
                && !matches!(toks[i].tok, Tok::Star(_))
                && !(toks[i].line_start
                    && toks[i].line != t.line
                    && !matches!(toks[i].tok, Tok::Str(_)))
            {
                i += 1;
            }
            continue;
        }
        if let Tok::Star(indent) = t.tok {
            let mut j = i + 1;
            while j < toks.len()
                && keyword(&toks[j]).is_none()
                && !matches!(toks[j].tok, Tok::Star(_))
            {
                j += 1;
            }
            if let Cur::Instance(d) = &mut cur {
                d.rules.push(Rule {
                    indent,
                    line: t.line,
                    toks: toks[i + 1..j].to_vec(),
                });
            }
            i = j;
            continue;
        }
        match (&cur, &t.tok) {
            (Cur::Instance(_) | Cur::None, Tok::Word(w)) => {
                return Err(syntax(
                    t.line,
                    format!("unexpected {}", crate::evidence::quote(w)),
                ))
            }
            _ => i += 1,
        }
    }
    finish(cur, &mut defs);
    Ok(defs)
}

// ---------------------------------------------------------------------------------------------
// Paths.

#[derive(Debug, Clone, PartialEq)]
enum Bracket {
    Index(usize),
    Plus,
    Same,
    Slice(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Seg {
    name: String,
    brackets: Vec<Bracket>,
}

fn parse_path(p: &str, line: usize) -> Result<Vec<Seg>, FshError> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut brackets = Vec::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let mut inner = String::new();
                let mut depth = 1;
                for d in chars.by_ref() {
                    match d {
                        '[' => depth += 1,
                        ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(d);
                }
                if depth != 0 {
                    return Err(syntax(line, format!("unclosed [ in path {p}")));
                }
                brackets.push(match inner.as_str() {
                    "+" => Bracket::Plus,
                    "=" => Bracket::Same,
                    "x" => {
                        // `value[x]`: the choice element itself; kept in the name.
                        cur.push_str("[x]");
                        continue;
                    }
                    n if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                        let idx: usize = n.parse().unwrap_or(usize::MAX);
                        if idx > MAX_INDEX {
                            return Err(syntax(
                                line,
                                format!("index [{n}] is larger than {MAX_INDEX}"),
                            ));
                        }
                        Bracket::Index(idx)
                    }
                    s => Bracket::Slice(s.to_string()),
                });
            }
            '.' => {
                if cur.is_empty() {
                    return Err(syntax(line, format!("empty segment in path {p}")));
                }
                segs.push(Seg {
                    name: std::mem::take(&mut cur),
                    brackets: std::mem::take(&mut brackets),
                });
            }
            _ => cur.push(c),
        }
        if segs.len() > MAX_PATH_DEPTH {
            return Err(syntax(line, format!("path deeper than {MAX_PATH_DEPTH}")));
        }
    }
    if cur.is_empty() {
        return Err(syntax(line, format!("empty segment in path {p}")));
    }
    segs.push(Seg {
        name: cur,
        brackets,
    });
    Ok(segs)
}

/// A resolved path segment: member name and, for an array member, the element index.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    name: String,
    index: Option<usize>,
}

fn show_steps(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s.index {
            Some(i) => format!("{}[{i}]", s.name),
            None => s.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

// ---------------------------------------------------------------------------------------------
// Values.

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Num(String),
    Bool(bool),
    /// Unquoted date, dateTime, time, or other bare token used as a primitive.
    Bare(String),
    Code {
        system: Option<String>,
        code: String,
        display: Option<String>,
    },
    Quantity {
        value: String,
        unit: String,
        display: Option<String>,
    },
    Reference {
        target: String,
        display: Option<String>,
    },
    Canonical(String),
    /// A name: an instance of the file, inlined.
    Name(String),
}

fn is_number(w: &str) -> bool {
    let w = w.strip_prefix(['-', '+']).unwrap_or(w);
    !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E')
        && w.chars().next().is_some_and(|c| c.is_ascii_digit())
        && w.parse::<f64>().is_ok()
        && !w.contains('-')
}

fn is_dateish(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() >= 4
        && b[..4].iter().all(u8::is_ascii_digit)
        && (b.len() == 4 || b[4] == b'-')
        && w.chars()
            .all(|c| c.is_ascii_digit() || "-:T+.Z".contains(c))
}

/// Parse the value tokens of an assignment.
fn parse_value(toks: &[Token], line: usize) -> Result<Val, FshError> {
    let Some(first) = toks.first() else {
        return Err(syntax(line, "assignment without a value"));
    };
    let display = |k: usize| match toks.get(k).map(|t| &t.tok) {
        Some(Tok::Str(s)) => Some(s.clone()),
        _ => None,
    };
    match &first.tok {
        Tok::Str(s) => Ok(Val::Str(s.clone())),
        Tok::Unit(u) => Err(syntax(line, format!("a unit '{u}' without a number"))),
        Tok::Star(_) => Err(syntax(line, "assignment without a value")),
        Tok::Word(w) => {
            // Reference(X), Reference (X), Canonical(X).
            for (kw, is_ref) in [("Reference", true), ("Canonical", false)] {
                if let Some(rest) = w.strip_prefix(kw) {
                    let mut joined = rest.to_string();
                    let mut k = 1;
                    while !joined.contains(')') && k < toks.len() {
                        if let Tok::Word(x) = &toks[k].tok {
                            joined.push_str(x);
                        }
                        k += 1;
                    }
                    if joined.starts_with('(') {
                        let inner = joined
                            .trim_start_matches('(')
                            .split(')')
                            .next()
                            .unwrap_or("")
                            .trim();
                        let target = inner.split('|').next().unwrap_or("").trim().to_string();
                        if target.is_empty() {
                            return Err(syntax(line, format!("{kw}() names nothing")));
                        }
                        return Ok(if is_ref {
                            Val::Reference {
                                target,
                                display: display(k),
                            }
                        } else {
                            Val::Canonical(target)
                        });
                    }
                }
            }
            if w == "true" || w == "false" {
                return Ok(Val::Bool(w == "true"));
            }
            // A code: `#code`, `#"code"`, `system#code`, `$alias#code`.
            if let Some((system, code)) = w.split_once('#') {
                let (code, next) = if code.is_empty() {
                    match toks.get(1) {
                        Some(Token {
                            tok: Tok::Str(s),
                            glued: true,
                            ..
                        }) => (s.clone(), 2),
                        _ => return Err(syntax(line, format!("code {w} without a code"))),
                    }
                } else {
                    (code.to_string(), 1)
                };
                return Ok(Val::Code {
                    system: (!system.is_empty()).then(|| system.to_string()),
                    code,
                    display: display(next),
                });
            }
            if is_number(w) {
                if let Some(Tok::Unit(u)) = toks.get(1).map(|t| &t.tok) {
                    return Ok(Val::Quantity {
                        value: w.clone(),
                        unit: u.clone(),
                        display: display(2),
                    });
                }
                return Ok(Val::Num(w.clone()));
            }
            if is_dateish(w) {
                return Ok(Val::Bare(w.clone()));
            }
            Ok(Val::Name(w.clone()))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compilation.

/// Compile an FSH source to its instances.
pub fn compile(bytes: &[u8]) -> Result<FshFile, FshError> {
    if bytes.len() > MAX_SOURCE {
        return Err(FshError::TooLarge);
    }
    let src = std::str::from_utf8(bytes).map_err(|_| FshError::NotUtf8)?;
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let defs = parse_defs(src)?;
    if defs.instances.is_empty() {
        return Err(FshError::NoInstance);
    }
    let mut c = Compiler {
        defs: &defs,
        done: HashMap::new(),
        stack: Vec::new(),
    };
    let mut out = FshFile::default();
    for d in &defs.instances {
        let inst = c.instance(&d.name)?;
        out.instances.push(inst);
    }
    Ok(out)
}

struct Compiler<'d> {
    defs: &'d Defs,
    done: HashMap<String, FshInstance>,
    stack: Vec<String>,
}

/// Per-instance state: soft-index counters and slice elements per array path.
#[derive(Default)]
struct Arrays {
    /// Array path → (elements allocated, last index named).
    counters: HashMap<String, (usize, usize)>,
    /// (array path, slice key) → index.
    slices: HashMap<(String, String), usize>,
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        Value::Object(o) => 1 + o.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// A marker for a reference to an instance of the file, resolved when the instance is finished.
const REF_MARK: &str = "\u{0}fsh-ref:";

impl<'d> Compiler<'d> {
    fn def(&self, name: &str) -> Option<&'d InstanceDef> {
        self.defs.instances.iter().find(|d| d.name == name)
    }

    /// Base resource type and canonical of an `InstanceOf`.
    fn base_of(&self, of: &str) -> (Option<String>, Option<String>) {
        let mut name = of.to_string();
        for _ in 0..16 {
            if is_resource_type(&name) {
                let profile = (name != of).then(|| {
                    KNOWN_PROFILES
                        .iter()
                        .find(|(n, ..)| *n == of)
                        .map(|(_, u, _)| u.to_string())
                });
                return (Some(name), profile.flatten());
            }
            if let Some((_, url, base)) = KNOWN_PROFILES
                .iter()
                .find(|(n, u, _)| *n == name || *u == name)
            {
                return (Some(base.to_string()), Some(url.to_string()));
            }
            match self.defs.profiles.get(&name) {
                Some(p) => name = p.clone(),
                None => return (None, None),
            }
        }
        (None, None)
    }

    fn instance(&mut self, name: &str) -> Result<FshInstance, FshError> {
        if let Some(done) = self.done.get(name) {
            return Ok(done.clone());
        }
        let Some(d) = self.def(name) else {
            return Err(syntax(0, format!("no Instance {name}")));
        };
        if self.stack.iter().any(|s| s == name) {
            return Err(syntax(
                d.line,
                format!(
                    "instances inline each other in a cycle: {} → {name}",
                    self.stack.join(" → ")
                ),
            ));
        }
        if self.stack.len() >= MAX_PATH_DEPTH {
            return Err(syntax(d.line, "instances nested too deep"));
        }
        self.stack.push(name.to_string());
        let r = self.build(d);
        self.stack.pop();
        let inst = r?;
        self.done.insert(name.to_string(), inst.clone());
        Ok(inst)
    }

    fn build(&mut self, d: &'d InstanceDef) -> Result<FshInstance, FshError> {
        let usage = match d.usage.as_deref() {
            None | Some("#example") => Usage::Example,
            Some("#definition") => Usage::Definition,
            Some("#inline") => Usage::Inline,
            Some(other) => {
                return Err(syntax(
                    d.line,
                    format!(
                        "Usage {} is not #example, #definition or #inline",
                        crate::evidence::quote(other)
                    ),
                ))
            }
        };
        if d.instance_of.is_empty() {
            return Err(syntax(
                d.line,
                format!("Instance {} has no InstanceOf", d.name),
            ));
        }
        let (base, profile) = self.base_of(&d.instance_of);
        let mut unresolved = Vec::new();
        let Some(base) = base else {
            return Err(syntax(
                d.line,
                format!(
                    "InstanceOf {} is neither a FHIR resource type, a profile of the guides the harness knows, nor a Profile of this file",
                    d.instance_of
                ),
            ));
        };
        if base != d.instance_of && !KNOWN_PROFILES.iter().any(|(n, ..)| *n == d.instance_of) {
            unresolved.push(Unresolved {
                kind: Gap::Undefined,
                path: String::new(),
                note: format!(
                    "profile {} is defined in this file; its fixed values are not applied",
                    d.instance_of
                ),
            });
        }
        let mut root = Map::new();
        root.insert("resourceType".into(), Value::String(base.clone()));
        root.insert("id".into(), Value::String(d.name.clone()));
        if let Some(p) = &profile {
            root.insert("meta".into(), serde_json::json!({ "profile": [p] }));
        }
        let mut root = Value::Object(root);
        let mut st = RuleState {
            base: base.clone(),
            family: d.instance_of.clone(),
            arrays: Arrays::default(),
            contexts: Vec::new(),
            unresolved: &mut unresolved,
            nodes: 0,
            ext_slices: HashMap::new(),
        };
        let rules = d.rules.clone();
        self.apply_rules(&mut st, &mut root, &rules, 0, &[])?;
        finish_refs(&mut root, self);
        unresolved.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
        unresolved.dedup();
        Ok(FshInstance {
            name: d.name.clone(),
            instance_of: d.instance_of.clone(),
            profile,
            usage,
            title: d.title.clone(),
            resource: root,
            unresolved,
        })
    }

    fn apply_rules(
        &mut self,
        st: &mut RuleState<'_>,
        root: &mut Value,
        rules: &[Rule],
        depth: usize,
        prefix: &[Step],
    ) -> Result<(), FshError> {
        // Contexts: (indent, resolved path) of the rules above, for indented rules.
        let base_len = st.contexts.len();
        for r in rules {
            while st.contexts.last().is_some_and(|(ind, _)| *ind >= r.indent)
                && st.contexts.len() > base_len
            {
                st.contexts.pop();
            }
            let parent: Vec<Step> = match st.contexts.last() {
                Some((_, p)) if st.contexts.len() > base_len => p.clone(),
                _ => prefix.to_vec(),
            };
            let resolved = self.rule(st, root, r, depth, &parent)?;
            if let Some(path) = resolved {
                st.contexts.push((r.indent, path));
            }
        }
        st.contexts.truncate(base_len);
        Ok(())
    }

    /// Apply one rule; returns its resolved path (the context of rules indented under it).
    fn rule(
        &mut self,
        st: &mut RuleState<'_>,
        root: &mut Value,
        r: &Rule,
        depth: usize,
        parent: &[Step],
    ) -> Result<Option<Vec<Step>>, FshError> {
        let Some(first) = r.toks.first() else {
            return Err(syntax(r.line, "empty rule"));
        };
        let first_word = match &first.tok {
            Tok::Word(w) => w.clone(),
            _ => return Err(syntax(r.line, "a rule starts with a path")),
        };
        if first_word == "insert" {
            let words: Vec<String> = r.toks[1..].iter().filter_map(|t| text(Some(t))).collect();
            let (name, args) = name_and_params(&words);
            let Some(rs) = self.defs.rulesets.get(&name) else {
                st.unresolved.push(Unresolved {
                    kind: Gap::Undefined,
                    path: if parent.is_empty() {
                        "(instance)".into()
                    } else {
                        show_steps(parent)
                    },
                    note: format!(
                        "RuleSet {name} is not defined in this file; its rules are not applied"
                    ),
                });
                return Ok(None);
            };
            if depth >= MAX_INSERT_DEPTH {
                return Err(syntax(
                    r.line,
                    format!("RuleSet inserts nested deeper than {MAX_INSERT_DEPTH} (at {name})"),
                ));
            }
            let mut body = rs.body.clone();
            for (p, a) in rs.params.iter().zip(&args) {
                body = body.replace(&format!("{{{p}}}"), a);
            }
            if body.len() > MAX_SOURCE {
                return Err(FshError::TooLarge);
            }
            let toks = lex(&body, rs.line)?;
            let mut rules = Vec::new();
            let mut i = 0;
            while i < toks.len() {
                if let Tok::Star(indent) = toks[i].tok {
                    let mut j = i + 1;
                    while j < toks.len() && !matches!(toks[j].tok, Tok::Star(_)) {
                        j += 1;
                    }
                    rules.push(Rule {
                        indent: indent + r.indent + 2,
                        line: toks[i].line,
                        toks: toks[i + 1..j].to_vec(),
                    });
                    i = j;
                } else {
                    i += 1;
                }
            }
            self.apply_rules(st, root, &rules, depth + 1, parent)?;
            return Ok(None);
        }
        let rest = &r.toks[1..];
        let ignored = |what: &str, st: &mut RuleState<'_>| {
            st.unresolved.push(Unresolved {
                kind: Gap::Ignored,
                path: first_word.clone(),
                note: format!("{what} rule ignored in an instance"),
            });
        };
        if first_word.starts_with('^') {
            ignored("caret", st);
            return Ok(None);
        }
        match rest.first().map(|t| &t.tok) {
            Some(Tok::Word(w)) if w == "=" => {}
            Some(Tok::Word(w)) if w.starts_with('^') => {
                ignored("caret", st);
                return Ok(None);
            }
            Some(Tok::Word(w))
                if [
                    "contains", "only", "obeys", "from", "MS", "SU", "?!", "N", "TU", "D",
                ]
                .contains(&w.as_str())
                    || w.contains("..") =>
            {
                ignored(w, st);
                return Ok(None);
            }
            None => {
                // A path rule: the context of the rules indented under it.
                let steps = self.resolve(st, parent, &first_word, r.line)?;
                return Ok(Some(steps));
            }
            Some(_) => {
                return Err(syntax(
                    r.line,
                    format!("cannot read the rule on {first_word}"),
                ))
            }
        }
        let mut vals = &rest[1..];
        // `(exactly)` after the value.
        if let Some(Tok::Word(w)) = vals.last().map(|t| &t.tok) {
            if w == "(exactly)" {
                vals = &vals[..vals.len() - 1];
            }
        }
        let val = parse_value(vals, r.line)?;
        let steps = self.resolve(st, parent, &first_word, r.line)?;
        self.assign(st, root, &steps, val, r.line)?;
        Ok(Some(steps))
    }

    /// Resolve a rule path (soft indexes, slices) against its parent path.
    fn resolve(
        &mut self,
        st: &mut RuleState<'_>,
        parent: &[Step],
        path: &str,
        line: usize,
    ) -> Result<Vec<Step>, FshError> {
        let segs = parse_path(path, line)?;
        let mut steps = parent.to_vec();
        let mut ty = type_at(&st.base, &steps);
        for seg in segs {
            if steps.len() >= MAX_PATH_DEPTH {
                return Err(syntax(line, format!("path deeper than {MAX_PATH_DEPTH}")));
            }
            let info = ty.as_deref().and_then(|t| xml_order::lookup(t, &seg.name));
            let many = match info {
                Some((_, _, m)) => m,
                None => heuristic_array(&seg.name, &seg.brackets),
            };
            let key = format!("{}.{}", show_steps(&steps), seg.name);
            let index = if seg.brackets.is_empty() {
                if many {
                    // An unindexed array element is its first element (FSH §3.6.3: [0]).
                    let c = st.arrays.counters.entry(key.clone()).or_insert((0, 0));
                    c.0 = c.0.max(1);
                    Some(0)
                } else {
                    None
                }
            } else {
                let mut idx: Option<usize> = None;
                let mut slice: Option<String> = None;
                for b in &seg.brackets {
                    match b {
                        Bracket::Slice(s) => {
                            slice = Some(match slice {
                                Some(prev) => format!("{prev}/{s}"),
                                None => s.clone(),
                            });
                            if seg.name == "extension" || seg.name == "modifierExtension" {
                                // The URL of an extension slice is set in `assign`/`ensure`.
                            } else {
                                st.unresolved.push(Unresolved {
                                    kind: Gap::Slice,
                                    path: format!("{}[{s}]", seg.name),
                                    note: format!(
                                        "slice {s} of {}: its discriminator values are set by the profile",
                                        seg.name
                                    ),
                                });
                            }
                        }
                        Bracket::Index(n) => {
                            idx = Some(self.index_at(st, &key, slice.as_deref(), Some(*n)))
                        }
                        Bracket::Plus => {
                            idx = Some(self.index_at(st, &key, slice.as_deref(), None))
                        }
                        Bracket::Same => {
                            idx = Some(match &slice {
                                Some(s) => {
                                    let sub = format!("{key}[{s}]");
                                    st.arrays.counters.get(&sub).map_or(0, |c| c.1)
                                }
                                None => st.arrays.counters.get(&key).map_or(0, |c| c.1),
                            });
                            // `[=]` of a slice names the slice element last named.
                            if let Some(s) = &slice {
                                let n = idx.unwrap_or(0);
                                idx = Some(self.slice_element(st, &key, s, n));
                            }
                        }
                    }
                }
                match (idx, slice) {
                    (Some(i), None) => Some(i),
                    (Some(i), Some(_)) => Some(i),
                    (None, Some(s)) => {
                        // `x[S]` is `x[S][0]`: a later `x[S][+]` names the next element of S.
                        let c = st
                            .arrays
                            .counters
                            .entry(format!("{key}[{s}]"))
                            .or_insert((0, 0));
                        c.0 = c.0.max(1);
                        c.1 = 0;
                        Some(self.slice_element(st, &key, &s, 0))
                    }
                    (None, None) => None,
                }
            };
            let index = match (many, index) {
                (true, i) => i.or(Some(0)),
                (false, Some(0)) | (false, None) => None,
                (false, Some(i)) => {
                    return Err(syntax(
                        line,
                        format!(
                            "{} is a single element; index {i} names no element",
                            seg.name
                        ),
                    ))
                }
            };
            ty = info
                .map(|(_, t, _)| t.to_string())
                .or_else(|| child_type_guess(&seg.name));
            let is_ext = seg.name == "extension" || seg.name == "modifierExtension";
            let seg_brackets = seg.brackets;
            steps.push(Step {
                name: seg.name,
                index,
            });
            // Remember the slice an extension element stands for, for its URL in `put`.
            if let (true, Some(Bracket::Slice(s))) = (
                is_ext,
                seg_brackets.iter().find(|b| matches!(b, Bracket::Slice(_))),
            ) {
                st.ext_slices.insert(show_steps(&steps), s.clone());
            }
        }
        Ok(steps)
    }

    /// The element index of `[n]` or `[+]` (n = None) on an array path, within a slice if any.
    fn index_at(
        &self,
        st: &mut RuleState<'_>,
        key: &str,
        slice: Option<&str>,
        n: Option<usize>,
    ) -> usize {
        match slice {
            None => {
                let c = st.arrays.counters.entry(key.to_string()).or_insert((0, 0));
                let i = match n {
                    Some(i) => i,
                    None => c.0,
                };
                c.0 = c.0.max(i + 1);
                c.1 = i;
                i
            }
            Some(s) => {
                let sub = format!("{key}[{s}]");
                let c = st.arrays.counters.entry(sub).or_insert((0, 0));
                let k = match n {
                    Some(i) => i,
                    None => c.0,
                };
                c.0 = c.0.max(k + 1);
                c.1 = k;
                self.slice_element(st, key, s, k)
            }
        }
    }

    /// The element of the k-th occurrence of slice `s` on array `key`, allocated at first use.
    fn slice_element(&self, st: &mut RuleState<'_>, key: &str, s: &str, k: usize) -> usize {
        let id = (key.to_string(), format!("{s}#{k}"));
        if let Some(i) = st.arrays.slices.get(&id).copied() {
            if let Some(c) = st.arrays.counters.get_mut(key) {
                c.1 = i;
            }
            return i;
        }
        let c = st.arrays.counters.entry(key.to_string()).or_insert((0, 0));
        let i = c.0;
        c.0 += 1;
        c.1 = i;
        st.arrays.slices.insert(id, i);
        i
    }

    fn assign(
        &mut self,
        st: &mut RuleState<'_>,
        root: &mut Value,
        steps: &[Step],
        val: Val,
        line: usize,
    ) -> Result<(), FshError> {
        let ty = type_at(&st.base, steps);
        let last = steps.last().map(|s| s.name.clone()).unwrap_or_default();
        let json = match val {
            Val::Str(s) => Value::String(s),
            Val::Bool(b) => Value::Bool(b),
            Val::Bare(s) => Value::String(s),
            Val::Num(n) => match ty.as_deref() {
                Some(t)
                    if xml_order::is_primitive(t)
                        && !matches!(t, "integer" | "decimal" | "positiveInt" | "unsignedInt") =>
                {
                    Value::String(n)
                }
                _ => number(&n),
            },
            Val::Code {
                system,
                code,
                display,
            } => {
                let system = match system {
                    None => None,
                    Some(s) => match self.system(&s) {
                        Some(u) => Some(u),
                        None => {
                            st.unresolved.push(Unresolved {
                                kind: Gap::CodeSystem,
                                path: show_steps(steps),
                                note: format!("code system {s} is not defined in this file; the coding has no system"),
                            });
                            None
                        }
                    },
                };
                let mut coding = Map::new();
                if let Some(s) = system {
                    coding.insert("system".into(), Value::String(s));
                }
                coding.insert("code".into(), Value::String(code.clone()));
                if let Some(d) = display {
                    coding.insert("display".into(), Value::String(d));
                }
                let kind = ty.clone().unwrap_or_else(|| {
                    if last == "coding" || last.ends_with("Coding") {
                        "Coding".into()
                    } else if coding.len() == 1 {
                        "code".into()
                    } else {
                        "CodeableConcept".into()
                    }
                });
                match kind.as_str() {
                    "Coding" => Value::Object(coding),
                    "CodeableConcept" => {
                        // Merged into coding[0] (SUSHI assigns a code to the first coding).
                        let mut at = steps.to_vec();
                        at.push(Step {
                            name: "coding".into(),
                            index: Some(0),
                        });
                        return self.put(st, root, &at, Value::Object(coding), line);
                    }
                    "Quantity" => {
                        let mut q = Map::new();
                        if let Some(s) = coding.get("system") {
                            q.insert("system".into(), s.clone());
                        }
                        q.insert("code".into(), Value::String(code));
                        return self.merge(st, root, steps, q, line);
                    }
                    _ => Value::String(code),
                }
            }
            Val::Quantity {
                value,
                unit,
                display,
            } => {
                let mut q = Map::new();
                q.insert("value".into(), number(&value));
                q.insert(
                    "unit".into(),
                    Value::String(display.unwrap_or_else(|| unit.clone())),
                );
                q.insert(
                    "system".into(),
                    Value::String("http://unitsofmeasure.org".into()),
                );
                q.insert("code".into(), Value::String(unit));
                Value::Object(q)
            }
            Val::Reference { target, display } => {
                let reference = if self.def(&target).is_some() {
                    format!("{REF_MARK}{target}")
                } else {
                    if !target.contains('/') && !target.contains(':') && !target.starts_with('#') {
                        st.unresolved.push(Unresolved {
                            kind: Gap::Undefined,
                            path: show_steps(steps),
                            note: format!("Reference({target}): no instance {target} in this file; kept as written"),
                        });
                    }
                    target
                };
                let mut m = Map::new();
                m.insert("reference".into(), Value::String(reference));
                if let Some(d) = display {
                    m.insert("display".into(), Value::String(d));
                }
                return self.merge(st, root, steps, m, line);
            }
            Val::Canonical(target) => {
                let url =
                    if let Some((_, u, _)) = KNOWN_PROFILES.iter().find(|(n, ..)| *n == target) {
                        u.to_string()
                    } else {
                        st.unresolved.push(Unresolved {
                            kind: Gap::Undefined,
                            path: show_steps(steps),
                            note: format!(
                                "Canonical({target}): its URL is the guide's; kept as written"
                            ),
                        });
                        target
                    };
                Value::String(url)
            }
            Val::Name(n) => {
                if self.def(&n).is_some() {
                    let inst = self.instance(&n)?;
                    st.unresolved
                        .extend(inst.unresolved.iter().map(|u| Unresolved {
                            path: format!("{}→{}", show_steps(steps), u.path),
                            ..u.clone()
                        }));
                    inst.resource
                } else if ty.as_deref() == Some("Resource")
                    || last == "resource"
                    || last == "contained"
                {
                    st.unresolved.push(Unresolved {
                        kind: Gap::Undefined,
                        path: show_steps(steps),
                        note: format!(
                            "instance {n} is not defined in this file; the element is left out"
                        ),
                    });
                    return Ok(());
                } else {
                    Value::String(n)
                }
            }
        };
        self.put(st, root, steps, json, line)
    }

    fn system(&self, s: &str) -> Option<String> {
        if let Some(u) = self.defs.aliases.get(s) {
            return Some(u.clone());
        }
        if s.contains(':') {
            return Some(s.to_string());
        }
        KNOWN_ALIASES
            .iter()
            .find(|(a, _)| *a == s)
            .map(|(_, u)| u.to_string())
    }

    fn merge(
        &mut self,
        st: &mut RuleState<'_>,
        root: &mut Value,
        steps: &[Step],
        m: Map<String, Value>,
        line: usize,
    ) -> Result<(), FshError> {
        for (k, v) in m {
            let mut at = steps.to_vec();
            at.push(Step {
                name: k,
                index: None,
            });
            self.put(st, root, &at, v, line)?;
        }
        Ok(())
    }

    /// Set the value at a resolved path, creating the objects and arrays on the way.
    fn put(
        &mut self,
        st: &mut RuleState<'_>,
        root: &mut Value,
        steps: &[Step],
        val: Value,
        line: usize,
    ) -> Result<(), FshError> {
        st.nodes += count_nodes(&val);
        if st.nodes > MAX_NODES {
            return Err(syntax(
                line,
                format!("the instance holds more than {MAX_NODES} values"),
            ));
        }
        let mut cur = root;
        let mut ty = Some(st.base.clone());
        for (k, s) in steps.iter().enumerate() {
            let is_last = k + 1 == steps.len();
            // A child of a primitive goes to its `_name` sibling (FHIR R4 §2.6.3).
            let info = ty.as_deref().and_then(|t| xml_order::lookup(t, &s.name));
            let child_ty = info
                .map(|(_, t, _)| t.to_string())
                .or_else(|| child_type_guess(&s.name));
            let Value::Object(obj) = cur else {
                return Err(syntax(
                    line,
                    format!(
                        "{} is not an element with children",
                        show_steps(&steps[..k])
                    ),
                ));
            };
            let name = if !is_last
                && (child_ty.as_deref().is_some_and(xml_order::is_primitive)
                    || obj
                        .get(&s.name)
                        .is_some_and(|v| v.is_string() || v.is_number() || v.is_boolean()))
            {
                format!("_{}", s.name)
            } else {
                s.name.clone()
            };
            let slot: &mut Value = match s.index {
                None => obj.entry(name).or_insert(if is_last {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                }),
                Some(i) => {
                    let arr = obj.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                    if !arr.is_array() {
                        let old = std::mem::take(arr);
                        *arr = Value::Array(vec![old]);
                    }
                    let Value::Array(a) = arr else {
                        return Err(syntax(line, "internal: not an array"));
                    };
                    while a.len() <= i {
                        a.push(Value::Null);
                    }
                    &mut a[i]
                }
            };
            if is_last {
                *slot = val;
                break;
            }
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            // An extension element named by a slice gets the slice's URL when known.
            if s.name == "extension" || s.name == "modifierExtension" {
                if let Some(slice) = st.ext_slice(&steps[..=k]) {
                    if let Value::Object(o) = slot {
                        if !o.contains_key("url") {
                            // `extension[$alias]` or `extension[http://…]` names the url itself.
                            let named = self
                                .defs
                                .aliases
                                .get(&slice)
                                .cloned()
                                .or_else(|| slice.contains("://").then(|| slice.clone()));
                            match named.as_deref().or(known_extension(&st.family, &slice)) {
                                Some(u) => {
                                    o.insert("url".into(), Value::String(u.into()));
                                }
                                None => st.unresolved.push(Unresolved {
                                    kind: Gap::ExtensionUrl,
                                    path: format!(
                                        "{}[{slice}]",
                                        show_steps(&steps[..k]).trim_end_matches('.')
                                    ),
                                    note: format!(
                                        "extension slice {slice}: its url is set by the profile"
                                    ),
                                }),
                            }
                        }
                    }
                }
            }
            cur = slot;
            ty = child_ty;
        }
        Ok(())
    }
}

struct RuleState<'u> {
    base: String,
    /// `InstanceOf` as written: which guide's extension slices apply.
    family: String,
    arrays: Arrays,
    contexts: Vec<(usize, Vec<Step>)>,
    unresolved: &'u mut Vec<Unresolved>,
    nodes: usize,
    /// Resolved path of an extension element → the slice name it was named by.
    ext_slices: HashMap<String, String>,
}

impl RuleState<'_> {
    fn ext_slice(&self, steps: &[Step]) -> Option<String> {
        self.ext_slices.get(&show_steps(steps)).cloned()
    }
}

fn known_extension(family: &str, slice: &str) -> Option<&'static str> {
    KNOWN_EXTENSIONS
        .iter()
        .find(|(f, s, _)| family.contains(f) && *s == slice)
        .map(|(_, _, u)| *u)
}

fn number(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::Number(i.into());
    }
    n.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or_else(|| Value::String(n.to_string()), Value::Number)
}

/// Is `name` a resource type of FHIR R4 ([`R4_RESOURCE_TYPES`])?
pub fn is_resource_type(name: &str) -> bool {
    R4_RESOURCE_TYPES.contains(&name)
}

/// The resource types of FHIR R4 (4.0.1, <http://hl7.org/fhir/R4/resourcelist.html>), with
/// the R5 ones the HL7 Europe manifest guide uses (`ImagingSelection`).
pub const R4_RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingSelection",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// The type of the element at a path, from the R4 table, when known.
fn type_at(base: &str, steps: &[Step]) -> Option<String> {
    let mut ty = base.to_string();
    for s in steps {
        ty = match xml_order::lookup(&ty, &s.name) {
            Some((_, t, _)) => t.to_string(),
            None => child_type_guess(&s.name)?,
        };
    }
    Some(ty)
}

/// The type of an element the R4 table does not place, by its name (common datatypes only).
fn child_type_guess(name: &str) -> Option<String> {
    Some(
        match name {
            "extension" | "modifierExtension" => "Extension",
            "coding" => "Coding",
            "identifier" => "Identifier",
            "period" => "Period",
            "meta" => "Meta",
            n if n.starts_with("value") && n.len() > 5 => {
                return xml_order::lookup("Extension", n).map(|(_, t, _)| t.to_string());
            }
            _ => return None,
        }
        .to_string(),
    )
}

fn heuristic_array(name: &str, brackets: &[Bracket]) -> bool {
    matches!(
        name,
        "extension" | "modifierExtension" | "coding" | "entry" | "contained"
    ) || !brackets.is_empty()
}

/// Resolve the references to instances of the file: `#id` when the instance is contained in
/// `root`, else `Type/id` (FSH §3.6.5.6).
fn finish_refs(root: &mut Value, c: &Compiler<'_>) {
    let contained: Vec<(String, String)> = root
        .get("contained")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    Some((
                        r.get("resourceType")?.as_str()?.to_string(),
                        r.get("id")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    fn walk(v: &mut Value, f: &dyn Fn(&str) -> String, depth: usize) {
        if depth > 256 {
            return;
        }
        match v {
            Value::String(s) if s.starts_with(REF_MARK) => *s = f(&s[REF_MARK.len()..]),
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, f, depth + 1)),
            Value::Object(o) => o.values_mut().for_each(|x| walk(x, f, depth + 1)),
            _ => {}
        }
    }
    let resolve = |name: &str| -> String {
        let Some(d) = c.def(name) else {
            return name.to_string();
        };
        let (ty, id) = match c.done.get(name) {
            Some(i) => (
                i.resource["resourceType"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                i.resource["id"].as_str().unwrap_or(name).to_string(),
            ),
            None => (
                c.base_of(&d.instance_of).0.unwrap_or_default(),
                instance_id(d).unwrap_or_else(|| name.to_string()),
            ),
        };
        if contained.iter().any(|(t, i)| *t == ty && *i == id) {
            format!("#{id}")
        } else {
            format!("{ty}/{id}")
        }
    };
    walk(root, &resolve, 0);
}

/// The id an instance's rules set (`* id = "x"`), if any.
fn instance_id(d: &InstanceDef) -> Option<String> {
    d.rules.iter().find_map(|r| {
        let w = word(r.toks.first())?;
        if w != "id" || r.indent != 0 {
            return None;
        }
        match r.toks.get(2).map(|t| &t.tok) {
            Some(Tok::Str(s)) | Some(Tok::Word(s)) => Some(s.clone()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests;
