//! Query parameters of ITI-18: typed reads of the slots and the matching rules.

use std::cmp::Ordering;

use crate::model::ebrim::{
    self, AdhocQueryRequest, QueryParam, RegistryError, RegistryObject, DE_CLASS_CODE,
    DE_CONFIDENTIALITY_CODE, DE_EVENT_CODE, DE_FORMAT_CODE, DE_HEALTHCARE_FACILITY_TYPE_CODE,
    DE_PRACTICE_SETTING_CODE, DE_TYPE_CODE, SLOT_REFERENCE_ID_LIST,
};

use super::{
    registry_error, XDS_REGISTRY_ERROR, XDS_STORED_QUERY_MISSING_PARAM,
    XDS_STORED_QUERY_PARAM_NUMBER,
};

/// A single-quoted string with inner quotes doubled, and nothing around it.
fn unquote(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// A query code item: `code^^^scheme` (ITI TF-2 3.18.4.1.2.3.6) or `code^^scheme`.
fn parse_code(item: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = item.split('^').collect();
    match parts[..] {
        [code, "", scheme] | [code, "", "", scheme] if !code.is_empty() && !scheme.is_empty() => {
            Some((code.to_owned(), scheme.to_owned()))
        }
        _ => None,
    }
}

/// The `(code, scheme)` pairs of one code parameter slot, matched with OR.
pub(super) type CodeGroup = Vec<(String, String)>;

/// Typed reads of an AdhocQuery's slots. Each read refuses a value that does not parse with
/// `XDSRegistryError` instead of guessing.
pub(super) struct Params<'q> {
    pub(super) q: &'q AdhocQueryRequest,
}

impl<'q> Params<'q> {
    fn slots(&self, name: &'q str) -> impl Iterator<Item = &'q QueryParam> {
        self.q.params.iter().filter(move |p| p.name == name)
    }

    fn values(&self, name: &'q str) -> Vec<&'q str> {
        self.slots(name)
            .flat_map(|p| p.values.iter().map(|v| v.trim()))
            .collect()
    }

    fn bad(name: &str, v: &str, what: &str) -> RegistryError {
        registry_error(
            XDS_REGISTRY_ERROR,
            format!("{name} value {} is not {what}", crate::evidence::quote(v)),
            name,
        )
    }

    /// A single-valued quoted string parameter.
    pub(super) fn single(&self, name: &'q str) -> Result<Option<String>, RegistryError> {
        match self.values(name)[..] {
            [] => Ok(None),
            [v] => unquote(v)
                .map(Some)
                .ok_or_else(|| Self::bad(name, v, "a quoted string")),
            _ => Err(registry_error(
                XDS_STORED_QUERY_PARAM_NUMBER,
                format!("{name} is single-valued"),
                name,
            )),
        }
    }

    pub(super) fn required_single(&self, name: &'q str) -> Result<String, RegistryError> {
        self.single(name)?.ok_or_else(|| {
            registry_error(
                XDS_STORED_QUERY_MISSING_PARAM,
                format!("required parameter {name} is missing"),
                name,
            )
        })
    }

    /// A list parameter: the union of the `('a','b')` lists of every value of every slot.
    pub(super) fn list(&self, name: &'q str) -> Result<Option<Vec<String>>, RegistryError> {
        let values = self.values(name);
        if values.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for v in values {
            out.extend(
                ebrim::parse_query_list(v).ok_or_else(|| Self::bad(name, v, "a ('…') list"))?,
            );
        }
        Ok(Some(out))
    }

    pub(super) fn required_list(&self, name: &'q str) -> Result<Vec<String>, RegistryError> {
        self.list(name)?.ok_or_else(|| {
            registry_error(
                XDS_STORED_QUERY_MISSING_PARAM,
                format!("required parameter {name} is missing"),
                name,
            )
        })
    }

    /// A list parameter that this query reads as single-valued: exactly one item.
    pub(super) fn one_of_list(&self, name: &'q str) -> Result<Option<String>, RegistryError> {
        match self.list(name)? {
            None => Ok(None),
            Some(items) => match <[String; 1]>::try_from(items) {
                Ok([item]) => Ok(Some(item)),
                Err(items) => Err(registry_error(
                    XDS_STORED_QUERY_PARAM_NUMBER,
                    format!(
                        "{name} takes one value in this query, found {}",
                        items.len()
                    ),
                    name,
                )),
            },
        }
    }

    /// A code parameter: one group per slot (AND across slots), each an OR list of
    /// `(code, scheme)`.
    pub(super) fn codes(&self, name: &'q str) -> Result<Option<Vec<CodeGroup>>, RegistryError> {
        let mut groups = Vec::new();
        for slot in self.slots(name) {
            let mut group = Vec::new();
            for v in &slot.values {
                let v = v.trim();
                let items =
                    ebrim::parse_query_list(v).ok_or_else(|| Self::bad(name, v, "a ('…') list"))?;
                for it in items {
                    group.push(
                        parse_code(&it).ok_or_else(|| Self::bad(name, &it, "code^^^scheme"))?,
                    );
                }
            }
            groups.push(group);
        }
        Ok((!groups.is_empty()).then_some(groups))
    }

    /// A DTM parameter, unquoted (a quoted one is read too: IPF's samples quote them).
    pub(super) fn time(&self, name: &'q str) -> Result<Option<String>, RegistryError> {
        match self.values(name)[..] {
            [] => Ok(None),
            [v] => {
                let t = unquote(v).unwrap_or_else(|| v.to_owned());
                if ebrim::is_dtm(&t) {
                    Ok(Some(t))
                } else {
                    Err(Self::bad(name, v, "a DTM timestamp"))
                }
            }
            _ => Err(registry_error(
                XDS_STORED_QUERY_PARAM_NUMBER,
                format!("{name} is single-valued"),
                name,
            )),
        }
    }
}

/// Which DocumentEntry filters a query takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EntryParams {
    /// FindDocuments / FindDocumentsByReferenceId: every filter, status required.
    Find,
    /// GetAll: status, formatCode, confidentialityCode, type.
    GetAll,
    /// GetSubmissionSetAndContents / GetFolderAndContents: formatCode, confidentialityCode,
    /// type.
    Contents,
}

/// Parsed DocumentEntry filters of a query.
#[derive(Debug, Default)]
pub(super) struct EntryFilter {
    statuses: Option<Vec<String>>,
    pub(super) codes: Vec<(&'static str, Vec<CodeGroup>)>,
    times: Vec<(&'static str, Option<String>, Option<String>)>,
    authors: Option<Vec<String>>,
    types: Option<Vec<String>>,
    pub(super) reference_ids: Option<Vec<String>>,
}

const FIND_CODES: &[(&str, &str)] = &[
    ("$XDSDocumentEntryClassCode", DE_CLASS_CODE),
    ("$XDSDocumentEntryTypeCode", DE_TYPE_CODE),
    (
        "$XDSDocumentEntryPracticeSettingCode",
        DE_PRACTICE_SETTING_CODE,
    ),
    (
        "$XDSDocumentEntryHealthcareFacilityTypeCode",
        DE_HEALTHCARE_FACILITY_TYPE_CODE,
    ),
    ("$XDSDocumentEntryEventCodeList", DE_EVENT_CODE),
    (
        "$XDSDocumentEntryConfidentialityCode",
        DE_CONFIDENTIALITY_CODE,
    ),
    ("$XDSDocumentEntryFormatCode", DE_FORMAT_CODE),
];

const CONTENT_CODES: &[(&str, &str)] = &[
    (
        "$XDSDocumentEntryConfidentialityCode",
        DE_CONFIDENTIALITY_CODE,
    ),
    ("$XDSDocumentEntryFormatCode", DE_FORMAT_CODE),
];

const FIND_TIMES: &[(&str, &str, &str)] = &[
    (
        "creationTime",
        "$XDSDocumentEntryCreationTimeFrom",
        "$XDSDocumentEntryCreationTimeTo",
    ),
    (
        "serviceStartTime",
        "$XDSDocumentEntryServiceStartTimeFrom",
        "$XDSDocumentEntryServiceStartTimeTo",
    ),
    (
        "serviceStopTime",
        "$XDSDocumentEntryServiceStopTimeFrom",
        "$XDSDocumentEntryServiceStopTimeTo",
    ),
];

impl EntryFilter {
    pub(super) fn parse(p: &Params<'_>, which: EntryParams) -> Result<EntryFilter, RegistryError> {
        let mut f = EntryFilter::default();
        if which != EntryParams::Contents {
            f.statuses = p.list("$XDSDocumentEntryStatus")?;
        }
        let codes = if which == EntryParams::Find {
            FIND_CODES
        } else {
            CONTENT_CODES
        };
        for (param, scheme) in codes {
            if let Some(groups) = p.codes(param)? {
                f.codes.push((scheme, groups));
            }
        }
        if which == EntryParams::Find {
            for (slot, from, to) in FIND_TIMES {
                let (from, to) = (p.time(from)?, p.time(to)?);
                if from.is_some() || to.is_some() {
                    f.times.push((slot, from, to));
                }
            }
            f.authors = p.list("$XDSDocumentEntryAuthorPerson")?;
        }
        f.types = p.list("$XDSDocumentEntryType")?;
        Ok(f)
    }

    pub(super) fn matches(&self, o: &RegistryObject) -> bool {
        status_matches(o.status.as_deref(), self.statuses.as_deref())
            && self
                .codes
                .iter()
                .all(|(scheme, groups)| groups.iter().all(|g| code_in(o, scheme, g)))
            && self.times.iter().all(|(slot, from, to)| {
                let value = o.slot_value(slot);
                // An absent serviceStartTime/serviceStopTime takes no part in the match (ITI TF-2
                // 3.18.4.1.2.3.3.1), nor the creation time of an On-Demand entry (3.18.4.1.2.3.7.1
                // note 6).
                let ignored = if *slot == "creationTime" {
                    o.object_type
                        .as_deref()
                        .is_some_and(|t| ebrim::same_uri(t, ebrim::DOC_ENTRY_ON_DEMAND))
                } else {
                    value.is_none()
                };
                ignored || time_matches(value, from, to)
            })
            && self
                .authors
                .as_ref()
                .is_none_or(|a| author_matches(o, ebrim::DE_AUTHOR, a))
            && self.types.as_ref().is_none_or(|t| {
                o.object_type
                    .as_deref()
                    .is_some_and(|ot| t.iter().any(|x| ebrim::same_uri(ot, x)))
            })
            && self.reference_ids.as_ref().is_none_or(|wanted| {
                o.slots
                    .iter()
                    .filter(|s| s.name == SLOT_REFERENCE_ID_LIST)
                    .flat_map(|s| s.values.iter())
                    .any(|v| wanted.iter().any(|w| w == v.trim()))
            })
    }
}

pub(super) fn status_matches(status: Option<&str>, wanted: Option<&[String]>) -> bool {
    wanted.is_none_or(|w| status.is_some_and(|s| w.iter().any(|x| x == s)))
}

/// True when one of `o`'s classifications under `scheme` carries one of the `(code, scheme)`s.
pub(super) fn code_in(o: &RegistryObject, scheme: &str, group: &[(String, String)]) -> bool {
    o.classified(scheme).any(|c| {
        let code = c.code();
        group
            .iter()
            .any(|(v, s)| code.code == *v && code.scheme.as_deref() == Some(s.as_str()))
    })
}

/// DTM comparison on the common prefix: `2005` equals `20051224`, precedes `2006`.
fn dtm_cmp(a: &str, b: &str) -> Ordering {
    let n = a.len().min(b.len());
    a.bytes().take(n).cmp(b.bytes().take(n))
}

/// `from` inclusive, `to` exclusive (ITI TF-2 3.18.4.1.2.3.7.1); no value, no match on a bound.
pub(super) fn time_matches(
    value: Option<String>,
    from: &Option<String>,
    to: &Option<String>,
) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(v) = value else { return false };
    from.as_deref()
        .is_none_or(|f| dtm_cmp(&v, f) != Ordering::Less)
        && to
            .as_deref()
            .is_none_or(|t| dtm_cmp(&v, t) == Ordering::Less)
}

/// SQL LIKE as ITI-18 uses it for author names: `%` any run, `_` one character.
pub(super) fn like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // reach[j]: the pattern prefix read so far matches v[..j].
    let mut reach = vec![false; v.len() + 1];
    reach[0] = true;
    for c in p {
        let mut next = vec![false; v.len() + 1];
        match c {
            '%' => {
                let mut any = false;
                for (j, r) in reach.iter().enumerate() {
                    any |= *r;
                    next[j] = any;
                }
            }
            _ => {
                for j in 0..v.len() {
                    if reach[j] && (c == '_' || v[j] == c) {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[v.len()]
}

pub(super) fn author_matches(o: &RegistryObject, scheme: &str, patterns: &[String]) -> bool {
    o.classified(scheme).any(|c| {
        c.slots
            .iter()
            .filter(|s| s.name == "authorPerson")
            .flat_map(|s| s.values.iter())
            .any(|person| patterns.iter().any(|p| like(p, person.trim())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtm_prefix_comparison() {
        assert_eq!(dtm_cmp("2005", "20051224"), Ordering::Equal);
        assert_eq!(dtm_cmp("20051224", "2006"), Ordering::Less);
        let s = |v: &str| Some(v.to_owned());
        assert!(time_matches(s("20051224"), &s("2005"), &None));
        assert!(!time_matches(s("20051224"), &None, &s("2005")));
        assert!(!time_matches(None, &s("2005"), &None));
        assert!(time_matches(None, &None, &None));
    }
}
