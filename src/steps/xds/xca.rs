//! XCA with the SUT as Responding Gateway and the harness as Initiating Gateway: ITI-38 Cross
//! Gateway Query and ITI-39 Cross Gateway Retrieve of the test studies' manifests, which the
//! gateway's community holds (test data preloaded there). The messages are the ITI-18 and ITI-43
//! ones with the Cross Gateway actions; the harness names the gateway's community (`[xca]`, the
//! first of `home_community_ids`) in every query without a patient id and in every DocumentRequest
//! (ITI TF-2 §3.38.4.1.2.1, §3.39.4.1.2).

use super::*;
use crate::checks::xca::XcaExpect;
use crate::config::xca::{Xca, UNKNOWN_HOME_COMMUNITY_ID};

/// The SUT's Responding Gateway, and a client for it; NotApplicable without `[xca]`.
fn gateway(world: &mut HarnessWorld) -> Result<(Xca, XdsClient), StepError> {
    let Some(xca) = world.ctx.config.xca.clone() else {
        return Err(not_applicable(
            world,
            "no XCA Responding Gateway",
            "the SUT profile declares no Responding Gateway ([xca] table)",
        ));
    };
    let cfg = xca.as_xds(world.ctx.config.xds.as_ref());
    match XdsClient::new(&cfg, &world.ctx.config.limits) {
        Ok(c) => Ok((xca, c)),
        Err(err) => Err(harness_error(
            world,
            "no client for the Responding Gateway",
            err.to_string(),
        )),
    }
}

/// Record a gateway exchange with what it is judged against.
fn record_xca(
    world: &mut HarnessWorld,
    xca: &Xca,
    ex: crate::evidence::Exchange,
    x: XdsExpect,
) -> StepResult {
    record_xds(world, ex, x)?;
    world.xds.expect.xca = XcaExpect {
        home_community_ids: xca.home_community_ids.clone(),
    };
    Ok(())
}

async fn cross_query(
    world: &mut HarnessWorld,
    q: AdhocQueryRequest,
    operation: &str,
    x: XdsExpect,
) -> StepResult {
    let (xca, c) = gateway(world)?;
    let ex = match c.cross_gateway_query(&q, operation).await {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no ITI-38 endpoint",
                &err.to_string(),
            ))
        }
    };
    record_xca(world, &xca, ex, x)
}

#[given("the SUT is a Responding Gateway whose community holds the manifests of the test studies")]
async fn is_gateway(world: &mut HarnessWorld) -> StepResult {
    gateway(world).map(|_| ())
}

async fn find(world: &mut HarnessWorld, alias: &str, return_type: &str) -> StepResult {
    let k = manifest_of(world, alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], return_type);
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, None)),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    let op = format!("Cross Gateway Query FindDocuments ({return_type})");
    cross_query(world, q, &op, x).await
}

#[when(expr = "the initiating gateway finds the manifests of the patient of study {string}")]
async fn find_leaf(world: &mut HarnessWorld, alias: String) -> StepResult {
    find(world, &alias, "LeafClass").await
}

#[when(
    expr = "the initiating gateway finds the manifests of the patient of study {string} as object references"
)]
async fn find_refs(world: &mut HarnessWorld, alias: String) -> StepResult {
    find(world, &alias, "ObjectRef").await
}

/// GetDocuments of the manifest by its uniqueId, naming `home` (None: no community).
async fn get_manifest(world: &mut HarnessWorld, alias: &str, home: Home) -> StepResult {
    let k = manifest_of(world, alias)?;
    let (xca, _) = gateway(world)?;
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    let (op, x) = match home {
        Home::Gateway => {
            q.home = Some(xca.home().to_string());
            (
                "Cross Gateway Query GetDocuments (the gateway's community)",
                XdsExpect {
                    matches: Some(BTreeSet::from([k.sop_uid.clone()])),
                    ..XdsExpect::default()
                },
            )
        }
        Home::Unknown => {
            q.home = Some(UNKNOWN_HOME_COMMUNITY_ID.to_string());
            (
                "Cross Gateway Query GetDocuments (an unknown community)",
                XdsExpect::default(),
            )
        }
        Home::Absent => (
            "Cross Gateway Query GetDocuments (no community named)",
            XdsExpect::default(),
        ),
    };
    cross_query(world, q, op, x).await
}

/// Which community a request names.
enum Home {
    Gateway,
    Unknown,
    Absent,
}

#[when(
    expr = "the initiating gateway gets the manifest of study {string} in the gateway's community"
)]
async fn get_in_community(world: &mut HarnessWorld, alias: String) -> StepResult {
    get_manifest(world, &alias, Home::Gateway).await
}

#[when(
    expr = "the initiating gateway gets the manifest of study {string} naming an unknown community"
)]
async fn get_unknown_community(world: &mut HarnessWorld, alias: String) -> StepResult {
    get_manifest(world, &alias, Home::Unknown).await
}

#[when(expr = "the initiating gateway gets the manifest of study {string} naming no community")]
async fn get_no_community(world: &mut HarnessWorld, alias: String) -> StepResult {
    get_manifest(world, &alias, Home::Absent).await
}

/// ITI-39 of the manifest of `alias`: at the repository and in the community its entry from the
/// last ITI-38 answer gives (else the profile's repository and the gateway's community), or naming
/// an unknown community.
async fn retrieve_manifest(world: &mut HarnessWorld, alias: &str, home: Home) -> StepResult {
    let k = manifest_of(world, alias)?;
    let (xca, c) = gateway(world)?;
    let entry = world
        .xds
        .entries
        .iter()
        .find(|d| d.unique_id.as_deref() == Some(k.sop_uid.as_str()))
        .cloned();
    let repo = entry
        .as_ref()
        .and_then(|d| d.repository_unique_id.clone())
        .unwrap_or_else(|| c.cfg.repository_unique_id.clone());
    let asked_home = match home {
        Home::Unknown => Some(UNKNOWN_HOME_COMMUNITY_ID.to_string()),
        Home::Absent => None,
        Home::Gateway => Some(
            entry
                .as_ref()
                .and_then(|d| d.home_community_id.clone())
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| xca.home().to_string()),
        ),
    };
    let mut documents = BTreeMap::new();
    if let (Some(d), Home::Gateway) = (&entry, &home) {
        documents.insert(
            k.sop_uid.clone(),
            RegisteredDoc {
                mime_type: d.mime_type.clone(),
                hash: d.hash.clone(),
                size: d.size.as_deref().and_then(|s| s.trim().parse().ok()),
            },
        );
    }
    let r = RetrieveDocumentSetRequest {
        documents: vec![DocumentRequest {
            home_community_id: asked_home,
            ..crate::actors::xds::doc_request(&repo, &k.sop_uid)
        }],
    };
    let op = match home {
        Home::Gateway => "Cross Gateway Retrieve (manifest)",
        Home::Unknown => "Cross Gateway Retrieve (an unknown community)",
        Home::Absent => "Cross Gateway Retrieve (no community named)",
    };
    let (ex, digests) = match c.cross_gateway_retrieve_digested(&r, op).await {
        Ok(x) => x,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no ITI-39 endpoint",
                &err.to_string(),
            ))
        }
    };
    let x = XdsExpect {
        documents,
        entry,
        streamed: digests,
        ..XdsExpect::default()
    };
    record_xca(world, &xca, ex, x)
}

#[when(
    expr = "the initiating gateway retrieves the manifest of study {string} from the gateway's community"
)]
async fn retrieve_in_community(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_manifest(world, &alias, Home::Gateway).await
}

#[when(
    expr = "the initiating gateway retrieves the manifest of study {string} naming an unknown community"
)]
async fn retrieve_unknown_community(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_manifest(world, &alias, Home::Unknown).await
}

#[then("every returned object names the gateway's community")]
async fn home_on_every_object(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI38-01"])
}

#[then("every error names the gateway's community")]
async fn errors_located(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI38-05", "ITI39-02"])
}

#[then("the unknown community is refused")]
async fn unknown_refused(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI38-03", "ITI39-04"])
}
