//! The harness as XCA-I Initiating Imaging Gateway: RAD-75 Cross Gateway Retrieve Imaging Document
//! Set to a Responding Imaging Gateway. The body is the RAD-69 request (Gazelle RAD75-001 → RAD
//! TF-2 §4.69.4.1.2) with HomeCommunityId in every DocumentRequest; the action is
//! `urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSet`. The request goes as MTOM/XOP, as
//! RAD-69 requests do (the answer must be MTOM/XOP, RAD TF-2 §4.69.4.2).

use super::xds::{imaging_request, NoEndpoint, XdsClient};
use crate::evidence::Exchange;
use crate::model::ebrim::{RetrieveImagingDocumentSetRequest, ACTION_XC_RETRIEVE_IMAGING};
use crate::transaction::Transaction;
use crate::transport::http::Meta;

/// A RAD-75 request of the (study, series, SOP instance) triples `insts` in repository `repo` of
/// community `home` (None: no HomeCommunityId, to see the gateway refuse it), in transfer
/// syntaxes `ts`.
pub fn cross_gateway_imaging_request(
    insts: &[(String, String, String)],
    repo: &str,
    home: Option<&str>,
    ts: &[String],
) -> RetrieveImagingDocumentSetRequest {
    let mut r = imaging_request(insts, repo, ts);
    for d in r
        .studies
        .iter_mut()
        .flat_map(|s| s.series.iter_mut())
        .flat_map(|s| s.documents.iter_mut())
    {
        d.home_community_id = home.map(str::to_string);
    }
    r
}

impl XdsClient {
    /// RAD-75 Cross Gateway Retrieve Imaging Document Set to the Responding Imaging Gateway at
    /// `imaging_source_url` (a client built with [`crate::config::xca_i::XcaI::as_xds`]).
    pub async fn cross_gateway_retrieve_imaging(
        &self,
        r: &RetrieveImagingDocumentSetRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        let url = self.cfg.imaging_source_url.as_deref().ok_or(NoEndpoint(
            "Responding Imaging Gateway (xca_i.responding_imaging_gateway_url)",
        ))?;
        Ok(self
            .call(
                url,
                ACTION_XC_RETRIEVE_IMAGING,
                &r.to_xml(),
                true,
                &[],
                Meta {
                    transaction: Transaction::Rad75,
                    operation: operation.to_string(),
                    actor: "Initiating Imaging Gateway",
                },
            )
            .await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_request_names_the_community() {
        let t = |s: &str, se: &str, i: &str| (s.to_string(), se.to_string(), i.to_string());
        let r = cross_gateway_imaging_request(
            &[t("1.2", "1.2.1", "1.2.1.1"), t("1.3", "1.3.1", "1.3.1.1")],
            "1.9",
            Some("urn:oid:1.2.3"),
            &["1.2.840.10008.1.2.1".to_string()],
        );
        let docs: Vec<_> = r
            .studies
            .iter()
            .flat_map(|s| &s.series)
            .flat_map(|s| &s.documents)
            .collect();
        assert_eq!(docs.len(), 2);
        assert!(docs
            .iter()
            .all(|d| d.home_community_id.as_deref() == Some("urn:oid:1.2.3")));
        let xml = r.to_xml();
        assert!(xml.contains("HomeCommunityId>urn:oid:1.2.3<"), "{xml}");
    }
}
