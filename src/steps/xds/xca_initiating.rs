//! XCA with the SUT as Initiating Gateway (XDS Affinity Domain Option): the harness is the
//! Document Consumer in front of it (ITI-18 and ITI-43 to `[xca] initiating_gateway_*`) and the
//! Responding Gateways of communities A and B behind it (the simulator's
//! `/xca/community-a/…` and `/xca/community-b/…`), which record what the gateway sent them. The
//! test studies' manifests are split between the two communities
//! ([`crate::reference::xca::initiating_gateway::split`]): a patient's first study is in A, the
//! others in B. What community B does wrong is set by a Given step for the scenario's request
//! (the scenarios are `@serial`, so no other scenario's legs mix with theirs).

use super::*;
use crate::checks::xca_initiating::{sha1_hex, Leg, XcaIgExpect};
use crate::config::xca::{COMMUNITIES, COMMUNITY_B};
use crate::reference::xca::initiating_gateway::{split, Behaviour};
use crate::transport::soap;

/// The SUT's Initiating Gateway (a client for it) and the simulated communities; NotApplicable
/// without `[xca] initiating_gateway_*` or without the simulator.
fn gateway(world: &mut HarnessWorld) -> Result<(XdsClient, crate::world::Simulator), StepError> {
    let Some(xca) = world
        .ctx
        .config
        .xca
        .clone()
        .filter(|x| x.ig_query_url.is_some() || x.ig_retrieve_url.is_some())
    else {
        return Err(not_applicable(
            world,
            "no XCA Initiating Gateway",
            "the SUT profile declares no Initiating Gateway ([xca] initiating_gateway_query_url, \
             initiating_gateway_retrieve_url)",
        ));
    };
    let Some(sim) = world.ctx.simulator.clone() else {
        return Err(not_applicable(
            world,
            "no simulator",
            "the harness's simulated Responding Gateways are not running",
        ));
    };
    let cfg = xca.initiating_as_xds(world.ctx.config.xds.as_ref());
    match XdsClient::new(&cfg, &world.ctx.config.limits) {
        Ok(c) => Ok((c, sim)),
        Err(err) => Err(harness_error(
            world,
            "no client for the Initiating Gateway",
            err.to_string(),
        )),
    }
}

/// The base URL of community `i`'s simulated Responding Gateway.
fn community_base(sim: &crate::world::Simulator, i: usize) -> String {
    let seg = COMMUNITIES.get(i).map_or("community-a", |c| c.1);
    format!("{}/{seg}", sim.xca_base)
}

/// The community (homeCommunityId) that holds the manifest of `alias`.
fn community_of(world: &mut HarnessWorld, alias: &str) -> Result<&'static str, StepError> {
    let k = manifest_of(world, alias)?;
    let manifests: Vec<(String, String, String)> = world
        .ctx
        .fixtures
        .studies()
        .into_iter()
        .flat_map(|s| s.instances.into_iter())
        .filter(|i| i.kos)
        .map(|i| (i.patient_id.clone(), i.study_uid.clone(), i.sop_uid.clone()))
        .collect();
    let c = split(&manifests).get(&k.sop_uid).copied().unwrap_or(0);
    Ok(COMMUNITIES.get(c).map_or(COMMUNITIES[0].0, |x| x.0))
}

#[given("the SUT is an Initiating Gateway in front of the harness's communities A and B")]
async fn is_gateway(world: &mut HarnessWorld) -> StepResult {
    world.xds.xca_community_b = Behaviour::Conformant;
    gateway(world).map(|_| ())
}

#[given("community B's registry is out of service")]
async fn b_fails(world: &mut HarnessWorld) -> StepResult {
    world.xds.xca_community_b = Behaviour::RegistryError;
    Ok(())
}

#[given("community B does not know the patient")]
async fn b_unknown_patient(world: &mut HarnessWorld) -> StepResult {
    world.xds.xca_community_b = Behaviour::UnknownPatient;
    Ok(())
}

#[given("community B's gateway leaves home off its objects")]
async fn b_omits_home(world: &mut HarnessWorld) -> StepResult {
    world.xds.xca_community_b = Behaviour::OmitsHome;
    Ok(())
}

#[given("community B's gateway cannot be reached")]
async fn b_unavailable(world: &mut HarnessWorld) -> StepResult {
    world.xds.xca_community_b = Behaviour::Unavailable;
    Ok(())
}

/// What a leg is about: the recorded inbound request names one of `needles`.
fn legs_since(
    sim: &crate::world::Simulator,
    mark: usize,
    needles: &[String],
) -> Vec<crate::evidence::Exchange> {
    (mark..sim.inbox.len())
        .filter_map(|i| sim.inbox.get(i))
        .filter(|ex| matches!(ex.transaction, Transaction::Iti38 | Transaction::Iti39))
        .filter(|ex| ex.request.url.contains("/community-"))
        .filter(|ex| {
            needles
                .iter()
                .any(|n| memchr::memmem::find(&ex.request.body.kept, n.as_bytes()).is_some())
        })
        .collect()
}

/// A recorded leg, read: the gateway's request and the simulated gateway's own answer.
pub(super) fn read_leg(sim: &crate::world::Simulator, ex: &crate::evidence::Exchange) -> Leg {
    let community = COMMUNITIES
        .iter()
        .enumerate()
        .find(|(i, _)| ex.request.url.starts_with(&community_base(sim, *i)))
        .or_else(|| {
            COMMUNITIES
                .iter()
                .enumerate()
                .find(|(_, c)| ex.request.url.contains(&format!("/{}/", c.1)))
        })
        .map(|(_, c)| c.0.to_string())
        .unwrap_or_default();
    let request = SutMessage::of(ex).ok().and_then(|m| m.message().ok());
    let mut leg = Leg {
        community,
        url: ex.request.url.clone(),
        transaction: Some(ex.transaction),
        request,
        answer: None,
        documents: BTreeMap::new(),
    };
    let Some(resp) = ex.response.as_ref().filter(|r| r.status == 200) else {
        return leg;
    };
    let ct = resp.header("content-type").unwrap_or("");
    let body = &resp.body.kept;
    let (envelope, mtom) = if soap::is_multipart_related(ct) {
        match soap::parse_mtom(ct, body, &soap::MtomLimits::default()) {
            Ok(m) => (m.envelope(&soap::XmlLimits::default()).ok(), Some(m)),
            Err(_) => (None, None),
        }
    } else {
        (soap::parse_envelope(body).ok(), None)
    };
    leg.answer = envelope
        .and_then(|env| env.body)
        .and_then(|b| e::parse_message(&b).ok());
    if let (Some(Message::RetrieveDocumentSetResponse(r)), Some(m)) = (&leg.answer, &mtom) {
        for d in &r.documents {
            let bytes = match &d.document {
                Some(e::DocumentContent::Xop { href }) => {
                    m.resolve(href).and_then(|a| a.data.bytes().cloned())
                }
                Some(e::DocumentContent::Inline(b)) => Some(Bytes::from(b.clone())),
                _ => None,
            };
            if let (Some(uid), Some(b)) = (&d.document_unique_id, bytes) {
                leg.documents
                    .insert(uid.trim().to_string(), (sha1_hex(&b), b.len() as u64));
            }
        }
    }
    leg
}

/// Record the consumer's exchange and the legs it caused, with what they are judged against.
fn record_with_legs(
    world: &mut HarnessWorld,
    sim: &crate::world::Simulator,
    ex: crate::evidence::Exchange,
    mark: usize,
    needles: &[String],
    addressed: BTreeSet<String>,
    x: XdsExpect,
) -> StepResult {
    let legs_ex = legs_since(sim, mark, needles);
    let legs: Vec<Leg> = legs_ex.iter().map(|l| read_leg(sim, l)).collect();
    // The legs are in the evidence whatever the answer, to show what the gateway asked.
    let recorded: Vec<usize> = legs_ex
        .into_iter()
        .map(|l| world.evidence.record(l))
        .collect();
    record_xds(world, ex, x)?;
    world.xds.xca_legs = recorded;
    world.xds.expect.xca_ig = XcaIgExpect {
        legs,
        communities: COMMUNITIES
            .iter()
            .enumerate()
            .map(|(i, c)| (c.0.to_string(), community_base(sim, i)))
            .collect(),
        addressed,
    };
    // Community A always answers a conformant request: a SOAP Fault, an unreadable message or a
    // Failure leaves the scenario nothing to judge, and is the gateway's breach (XDS-SOAP-01 or
    // XDSI-01), after the checks of what it sent the communities.
    if let Some(idx) = world.xds.last {
        if answer_problem(world, idx).is_some() {
            // What the gateway sent the communities may be why they refused: judged first.
            judge_xds(world, &["ITI38-11", "ITI38-12", "ITI39-06", "ITI39-07"])?;
            return Err(stop_on_answer(
                world,
                idx,
                "XDSI-01",
                "the consolidated answer of the communities, one of which answers",
                String::new(),
            ));
        }
    }
    Ok(())
}

/// Community B's behaviour for the duration of one request.
struct BehaviourGuard(Option<Arc<crate::reference::xca::initiating_gateway::Simulation>>);

impl BehaviourGuard {
    fn set(sim: &crate::world::Simulator, b: Behaviour) -> BehaviourGuard {
        if let Some(s) = &sim.xca_simulation {
            s.set_community_b(b);
        }
        BehaviourGuard(sim.xca_simulation.clone())
    }
}

impl Drop for BehaviourGuard {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.set_community_b(Behaviour::Conformant);
        }
    }
}

async fn consumer_query(
    world: &mut HarnessWorld,
    q: AdhocQueryRequest,
    operation: &str,
    needles: Vec<String>,
    addressed: BTreeSet<String>,
) -> StepResult {
    let (c, sim) = gateway(world)?;
    let mark = sim.inbox.len();
    let guard = BehaviourGuard::set(&sim, world.xds.xca_community_b);
    let ex = match c.stored_query(&q, operation).await {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no ITI-18 endpoint of the Initiating Gateway",
                &err.to_string(),
            ))
        }
    };
    drop(guard);
    record_with_legs(
        world,
        &sim,
        ex,
        mark,
        &needles,
        addressed,
        XdsExpect::default(),
    )
}

async fn find(world: &mut HarnessWorld, alias: &str, return_type: &str) -> StepResult {
    let k = manifest_of(world, alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], return_type);
    let all = COMMUNITIES.iter().map(|c| c.0.to_string()).collect();
    let op = format!(
        "Registry Stored Query FindDocuments ({return_type}) through the Initiating Gateway"
    );
    consumer_query(world, q, &op, vec![k.patient_id.clone()], all).await
}

#[when(
    expr = "the consumer finds the manifests of the patient of study {string} through the gateway"
)]
async fn find_leaf(world: &mut HarnessWorld, alias: String) -> StepResult {
    find(world, &alias, "LeafClass").await
}

#[when(
    expr = "the consumer finds the manifests of the patient of study {string} through the gateway as object references"
)]
async fn find_refs(world: &mut HarnessWorld, alias: String) -> StepResult {
    find(world, &alias, "ObjectRef").await
}

#[when(
    expr = "the consumer gets the manifest of study {string} through the gateway, naming its community"
)]
async fn get_in_community(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let home = community_of(world, &alias)?;
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    q.home = Some(home.to_string());
    let op = "Registry Stored Query GetDocuments through the Initiating Gateway";
    consumer_query(
        world,
        q,
        op,
        vec![k.sop_uid.clone()],
        BTreeSet::from([home.to_string()]),
    )
    .await
}

/// ITI-43 through the gateway: each `(home, uid)` at the simulated communities' repository.
async fn consumer_retrieve(world: &mut HarnessWorld, docs: Vec<(String, String)>) -> StepResult {
    let (c, sim) = gateway(world)?;
    let repo = crate::config::xds::DEFAULT_REPOSITORY_ID;
    let r = RetrieveDocumentSetRequest {
        documents: docs
            .iter()
            .map(|(home, uid)| DocumentRequest {
                home_community_id: Some(home.clone()),
                ..crate::actors::xds::doc_request(repo, uid)
            })
            .collect(),
    };
    let mark = sim.inbox.len();
    let guard = BehaviourGuard::set(&sim, world.xds.xca_community_b);
    let (ex, digests) = match c
        .retrieve_documents_digested(&r, "Retrieve Document Set through the Initiating Gateway")
        .await
    {
        Ok(x) => x,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no ITI-43 endpoint of the Initiating Gateway",
                &err.to_string(),
            ))
        }
    };
    drop(guard);
    let needles: Vec<String> = docs.iter().map(|(_, u)| u.clone()).collect();
    let addressed = docs.iter().map(|(h, _)| h.clone()).collect();
    let x = XdsExpect {
        streamed: digests,
        ..XdsExpect::default()
    };
    record_with_legs(world, &sim, ex, mark, &needles, addressed, x)
}

#[when(
    expr = "the consumer retrieves the manifests of studies {string} and {string} through the gateway"
)]
async fn retrieve_two(world: &mut HarnessWorld, a: String, b: String) -> StepResult {
    let mut docs = Vec::new();
    for alias in [&a, &b] {
        let k = manifest_of(world, alias)?;
        let home = community_of(world, alias)?;
        docs.push((home.to_string(), k.sop_uid.clone()));
    }
    consumer_retrieve(world, docs).await
}

#[when(
    expr = "the consumer retrieves the manifest of study {string} and a document community B does not hold through the gateway"
)]
async fn retrieve_with_missing(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let home = community_of(world, &alias)?;
    let docs = vec![
        (home.to_string(), k.sop_uid.clone()),
        (COMMUNITY_B.to_string(), UNKNOWN_DOCUMENT.to_string()),
    ];
    consumer_retrieve(world, docs).await
}

#[then("every parameter of the query reached each community")]
async fn parameters(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI38-11"])
}

#[then("the query reached only the community named, with its homeCommunityId")]
async fn only_named(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI38-12"])
}

#[then("the answer holds every entry of the communities, each with its homeCommunityId")]
async fn union(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-01"])
}

#[then("the answer is a partial success with community B's error")]
async fn partial(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-02"])
}

#[then("community B's XDSUnknownPatientId is not passed on")]
async fn unknown_patient(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-03"])
}

#[then("the objects without home are reported as XDSMissingHomeCommunityId")]
async fn missing_home(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-04"])
}

#[then("the unreachable community is reported as XDSUnavailableCommunity")]
async fn unavailable(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-05"])
}

#[then("every Cross Gateway Retrieve names the addressed community")]
async fn retrieve_home(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI39-06"])
}

#[then("each document went to the gateway of its community only")]
async fn routed(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["ITI39-07"])
}

#[then("the documents come back as their communities returned them")]
async fn unchanged(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-07"])
}

#[then("the retrieve answer is a partial success with the document and community B's error")]
async fn retrieve_partial(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-06"])
}

/// The XDS SOAP rules (SOAP 1.2, wsa:Action with mustUnderstand equal to the Cross Gateway
/// action, wsa:MessageID, MTOM/XOP for ITI-39: ITI TF-2 Appendix V, Tables 3.38.5-2 and 3.39.5-2)
/// on every request the gateway sent to the communities.
#[then("the gateway's requests to the communities are conformant XDS messages")]
async fn legs_conformant(world: &mut HarnessWorld) -> StepResult {
    // No request at all is judged by ITI38-11 / ITI39-07, which the scenarios judge too.
    let legs = world.xds.xca_legs.clone();
    let ids = structural_ids();
    for idx in legs {
        judge(world, idx, &Expect::default(), &[], &ids)?;
    }
    Ok(())
}
