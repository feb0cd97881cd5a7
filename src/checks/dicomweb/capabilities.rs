//! The capabilities of an origin server: the four message pairs and the WADL description
//! (PS3.18 §8.9, §10.8).

use super::*;

pub(super) fn dw14_four_message_pairs(s: &Subject<'_>) -> Verdict {
    let all: Vec<&Exchange> = std::iter::once(s.exchange)
        .chain(s.followups.iter())
        .collect();
    // Get Bulkdata dereferences a BulkDataURI of the metadata; the origin server "is permitted"
    // to replace a value with one (PS3.18 §10.4.3.3.2), not bound to, so metadata of the
    // instance without any (every value inline) leaves no bulk data to get.
    let nothing_to_get = all.iter().any(|e| {
        e.operation == "Retrieve Instance Metadata"
            && e.status() == Some(200)
            && json_body(e).is_ok_and(|v| dicom_json::bulk_data_uris(&v).is_empty())
    });
    let mut missing = Vec::new();
    for (operation, pair) in FOUR_PAIRS {
        let answered = all
            .iter()
            .any(|e| e.operation == operation && e.status() == Some(200));
        let asked = all.iter().any(|e| e.operation == operation);
        if !answered && !asked && operation == "Retrieve Bulkdata" && nothing_to_get {
            continue;
        }
        if !answered {
            let got = all
                .iter()
                .find(|e| e.operation == operation)
                .and_then(|e| e.status())
                .map(|c| c.to_string())
                .unwrap_or_else(|| "not asked".into());
            missing.push(format!("{pair}: {got}"));
        }
    }
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("200 for each of the four message pairs", missing.join(", "))
    }
}

pub(super) fn dw13_capabilities(s: &Subject<'_>) -> Verdict {
    let Some(resp) = &s.exchange.response else {
        return Verdict::na("no response");
    };
    if resp.status != 200 {
        return Verdict::fail("200 with a WADL document", resp.status.to_string());
    }
    if !resp.body.complete {
        return Verdict::na("the capabilities document is larger than the harness keeps");
    }
    match crate::transport::soap::parse_xml(
        &resp.body.kept,
        &crate::transport::soap::XmlLimits::default(),
    ) {
        Ok(root) if root.local == "application" && root.ns.as_deref() == Some(WADL_NS) => {
            Verdict::Pass
        }
        Ok(root) => Verdict::fail(
            format!("a WADL <application> element in {WADL_NS}"),
            format!(
                "<{}> in {}",
                root.local,
                root.ns.as_deref().unwrap_or("no namespace")
            ),
        ),
        Err(e) => Verdict::fail("a WADL document", format!("not well-formed XML: {e}")),
    }
}

/// The four RAD-107 message pairs, identified by the operation names the WADO-RS actor records.
pub(super) const FOUR_PAIRS: [(&str, &str); 4] = [
    ("Retrieve Instance", "Get Instances"),
    ("Retrieve Instance Metadata", "Get Metadata"),
    ("Retrieve Bulkdata", "Get Bulkdata"),
    ("Retrieve Rendered Instance", "Get Rendered Instances"),
];

/// The WADL namespace (W3C member submission, 2009).
pub(super) const WADL_NS: &str = "http://wadl.dev.java.net/2009/02";
