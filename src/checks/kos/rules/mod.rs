//! The rules of a DICOM KOS imaging manifest ([`crate::model::kos::Manifest`]): the XDS-I.b
//! manifest rules (IHE RAD TF-2 §4.68.4.1.2 on the Key Object Selection Document of DICOM PS3.3
//! §A.35.4, TID 2010) and the stricter MADO set (MADO Rev 1.1 §6.X.2). [`validate`] judges a
//! manifest against [`Rules`] and returns a [`Violation`] per breach, citing its rule and
//! requirement; the rule table is [`RULES`], each rule with its level under each profile
//! ([`ManifestRule`]). The rules of both profiles are in `manifest.rs`; those of MADO alone in
//! `mado.rs`.

mod mado;
mod manifest;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use crate::checks::rule::{Rule, Violation};
use crate::checks::Level;
use crate::model::kos::Manifest;
use mado::*;
use manifest::*;

/// Which profile's manifest rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Profile {
    /// XDS-I.b manifest (RAD-68), title (113030, DCM, "Manifest").
    XdsIb,
    /// MADO manifest with description: the XDS-I.b-independent KOS rules plus MADO §6.X.2.
    Mado,
}

/// What [`validate`] checks: the profile, plus facts about the deployment that some rules
/// compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Profile whose rules apply.
    pub profile: Profile,
    /// The Imaging Document Source's repositoryUniqueId: when known, every Retrieve Location UID
    /// must equal it (KOS-08).
    pub repository_unique_id: Option<String>,
    /// The consumer retrieves by C-MOVE (RAD-16), so a Retrieve AE Title is expected (KOS-09).
    pub expect_retrieve_ae_title: bool,
}

impl Rules {
    /// The XDS-I.b manifest rules.
    pub fn xds_i_b() -> Rules {
        Rules {
            profile: Profile::XdsIb,
            repository_unique_id: None,
            expect_retrieve_ae_title: false,
        }
    }

    /// The MADO manifest rules.
    pub fn mado() -> Rules {
        Rules {
            profile: Profile::Mado,
            ..Rules::xds_i_b()
        }
    }

    /// Require every Retrieve Location UID to equal this repositoryUniqueId.
    pub fn with_repository_unique_id(mut self, uid: impl Into<String>) -> Rules {
        self.repository_unique_id = Some(uid.into());
        self
    }

    /// Expect a Retrieve AE Title on every series (C-MOVE retrieval).
    pub fn expecting_retrieve_ae_title(mut self) -> Rules {
        self.expect_retrieve_ae_title = true;
        self
    }
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::xds_i_b()
    }
}

/// A manifest rule, as data: a [`Rule`] whose level depends on the profile judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ManifestRule {
    /// Stable id, `KOS-nn`.
    pub id: &'static str,
    /// Document and section the rule enforces.
    pub requirement: &'static str,
    /// The requirement, in one line.
    pub title: &'static str,
    /// Level under [`Profile::XdsIb`]; `None` when the rule does not apply there.
    pub xds_i_b: Option<Level>,
    /// Level under [`Profile::Mado`]; `None` when the rule does not apply there.
    pub mado: Option<Level>,
}

impl ManifestRule {
    /// The rule under `profile`, `None` when it does not apply there.
    pub fn under(&self, profile: Profile) -> Option<Rule> {
        Some(Rule {
            id: self.id,
            requirement: self.requirement,
            level: self.level(profile)?,
            title: self.title,
        })
    }

    /// Level under `profile`, `None` when the rule does not apply.
    pub fn level(&self, profile: Profile) -> Option<Level> {
        match profile {
            Profile::XdsIb => self.xds_i_b,
            Profile::Mado => self.mado,
        }
    }
}

const E: Option<Level> = Some(Level::Shall);

const W: Option<Level> = Some(Level::Should);

/// Every manifest rule [`validate`] evaluates.
pub const RULES: &[ManifestRule] = &[
    ManifestRule {
        id: "KOS-01",
        requirement: "DICOM PS3.10 §7.1; DICOM PS3.3 §A.35.4; IHE RAD TF-2 §4.68.4.1.2.1 (RAD68-005)",
        title: "Media Storage SOP Class/Instance UID equal SOP Class/Instance UID, and the SOP Class is Key Object Selection Document Storage",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-02",
        requirement: "DICOM PS3.3 §C.17.6.1, §C.17.6.2",
        title: "Modality is KO; Series Number, Instance Number, Content Date and Content Time are present",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-03",
        requirement: "DICOM PS3.3 §C.17.3; DICOM PS3.16 TID 2010",
        title: "The root is a CONTAINER with one Concept Name item and Continuity Of Content SEPARATE; a Content Template, if given, is DCMR 2010",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-04",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1",
        title: "The document title is (113030, DCM, \"Manifest\")",
        xds_i_b: E,
        mado: None,
    },
    ManifestRule {
        id: "KOS-05",
        requirement: "DICOM PS3.3 §C.17.6.2 (Table C.17-3); IHE RAD TF-2 §4.68.4.1.2.1.1 (RAD68-008/009)",
        title: "Current Requested Procedure Evidence Sequence has items, each with Study Instance UID and series with Series Instance UID and SOP class and instance",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-06",
        requirement: "DICOM PS3.16 TID 2010; DICOM PS3.3 §C.17.6.2.1",
        title: "Every instance in the evidence sequence is referenced by an IMAGE/COMPOSITE/WAVEFORM item, and every referenced instance is in the evidence sequence",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-07",
        requirement: "DICOM PS3.3 §C.17.6.2",
        title: "Identical Documents Sequence is present when the evidence spans more than one study",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-08",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1",
        title: "Every referenced series has a Retrieve Location UID, equal to the Imaging Document Source's repositoryUniqueId when known",
        xds_i_b: E,
        mado: None,
    },
    ManifestRule {
        id: "KOS-09",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1 (RAD-16 retrieval)",
        title: "Every referenced series has a Retrieve AE Title when retrieval is by C-MOVE",
        xds_i_b: W,
        mado: None,
    },
    ManifestRule {
        id: "KOS-10",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.14; DICOM PS3.3 Table C.17-3a",
        title: "A Retrieve URL is an absolute http(s) URL; under MADO a WADO-RS base URI",
        xds_i_b: W,
        mado: E,
    },
    ManifestRule {
        id: "KOS-11",
        requirement: "DICOM PS3.3 §A.35.4.3.1.2; DICOM PS3.16 TID 2010 (CP-2595)",
        title: "No by-reference relationships; no Purpose of Reference on the root-level references",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-12",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9; DICOM CP-2595 (TID 2010 row 11)",
        title: "Title is \"Manifest with Description\", TID 1600 Image Library is included, and all references are in the manifest's study",
        xds_i_b: None,
        mado: E,
    },
    ManifestRule {
        id: "KOS-13",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.5–6.X.2.14",
        title: "MADO R+ attributes are present",
        xds_i_b: None,
        mado: E,
    },
    ManifestRule {
        id: "KOS-14",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.6",
        title: "Issuer of Accession Number Sequence is present if and only if Accession Number is not empty",
        xds_i_b: None,
        mado: E,
    },
    ManifestRule {
        id: "KOS-15",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9 (Tables 6.X.2.9-1, 6.X.2.9-2)",
        title: "The Image Library has modality and target region codes, the series count of the evidence, and one group per series with its instance count",
        xds_i_b: None,
        mado: E,
    },
    ManifestRule {
        id: "KOS-17",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.6.4 (CID IHE-MADO1)",
        title: "Library-level Target Region codes come from CID IHE-MADO1",
        xds_i_b: None,
        mado: W,
    },
    ManifestRule {
        id: "KOS-18",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.2",
        title: "The manifest's Study Instance UID is the study of every referenced instance",
        xds_i_b: W,
        mado: E,
    },
    ManifestRule {
        id: "KOS-21",
        requirement: "DICOM PS3.3 §C.7.1.1; IHE RAD TF-2 §4.68.4.1.2.3 (sourcePatientId)",
        title: "Patient ID is present and not empty",
        xds_i_b: E,
        mado: E,
    },
    ManifestRule {
        id: "KOS-22",
        requirement: "DICOM PS3.5 §9.1",
        title: "Every UID is at most 64 characters of digits and dots, with no empty component and no leading zero",
        xds_i_b: E,
        mado: E,
    },
    // KOS-16 and KOS-19 come last so that the indices of the rules above stay put (the XDS-I.b
    // check registry in `checks::kos` indexes this table).
    ManifestRule {
        id: "KOS-16",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9 (Table 6.X.2.9-3)",
        title: "Image Library entries of multi-frame SOP classes give the Number of Frames; Number of Frames and Instance Number values are integers",
        xds_i_b: None,
        mado: W,
    },
    ManifestRule {
        id: "KOS-19",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.13",
        title: "A Display URI uses private creator IHE_MADO_PRIVATE in group 000D with VR UR and an absolute URL (judged on the DICOM file itself, where the private element is read)",
        xds_i_b: None,
        mado: W,
    },
];

/// The registry entry of rule `id`.
pub fn rule(id: &str) -> Option<&'static ManifestRule> {
    RULES.iter().find(|r| r.id == id)
}

struct Findings<'a> {
    profile: Profile,
    out: &'a mut Vec<Violation>,
}

impl Findings<'_> {
    fn applies(&self, id: &str) -> bool {
        rule(id).and_then(|r| r.level(self.profile)).is_some()
    }

    fn push(&mut self, id: &'static str, message: String) {
        if let Some(r) = rule(id) {
            if let Some(level) = r.level(self.profile) {
                self.out.push(Violation {
                    rule: r.id,
                    requirement: r.requirement,
                    level,
                    message,
                    location: String::new(),
                });
            }
        }
    }
}

/// Check a manifest against the rules of `rules.profile`. The result is empty for a conforming
/// manifest; callers decide on Error vs Warning.
pub fn validate(m: &Manifest, rules: &Rules) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut f = Findings {
        profile: rules.profile,
        out: &mut out,
    };
    kos_01(m, &mut f);
    kos_02(m, &mut f);
    kos_03(m, &mut f);
    if f.applies("KOS-04") {
        kos_04(m, &mut f);
    }
    kos_05(m, &mut f);
    kos_06(m, &mut f);
    kos_07(m, &mut f);
    if f.applies("KOS-08") {
        kos_08(m, rules, &mut f);
    }
    if f.applies("KOS-09") && rules.expect_retrieve_ae_title {
        kos_09(m, &mut f);
    }
    kos_10(m, &mut f);
    kos_11(m, &mut f);
    if rules.profile == Profile::Mado {
        kos_12(m, &mut f);
        kos_13(m, &mut f);
        kos_14(m, &mut f);
        kos_15(m, &mut f);
        kos_16(m, &mut f);
        kos_17(m, &mut f);
    }
    kos_18(m, &mut f);
    kos_21(m, &mut f);
    kos_22(m, &mut f);
    out
}

fn shown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(absent)")
}
