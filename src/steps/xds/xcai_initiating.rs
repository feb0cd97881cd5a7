//! XCA-I with the SUT as Initiating Imaging Gateway: the harness is the Imaging Document Consumer
//! in front of it (RAD-69 with HomeCommunityId in every DocumentRequest to `[xca_i]
//! initiating_imaging_gateway_url`) and the Responding Imaging Gateways of communities A and B
//! behind it (the simulator's `/xca-i/community-a/responding-imaging-gateway` and
//! `…/community-b/…`), which record the RAD-75 the gateway sent them and answer from the
//! simulator's Imaging Document Source. The scenarios are `@serial`, so no other scenario's
//! RAD-75 mixes with theirs.

use super::xca_i::{series_of, triples};
use super::xca_initiating::read_leg;
use super::*;
use crate::actors::xca_i::cross_gateway_imaging_request;
use crate::checks::xcai_initiating::XcaiIgExpect;
use crate::config::xca::{COMMUNITIES, COMMUNITY_A, COMMUNITY_B, UNKNOWN_HOME_COMMUNITY_ID};
use crate::reference::xcai::initiating_imaging_gateway::RIG_SEGMENT;

/// The SUT's Initiating Imaging Gateway (a client for it) and the simulator; NotApplicable
/// without `[xca_i] initiating_imaging_gateway_url` or without the simulator.
fn gateway(world: &mut HarnessWorld) -> Result<(XdsClient, crate::world::Simulator), StepError> {
    let Some(xcai) = world
        .ctx
        .config
        .xca_i
        .clone()
        .filter(|x| x.iig_url.is_some())
    else {
        return Err(not_applicable(
            world,
            "no XCA-I Initiating Imaging Gateway",
            "the SUT profile declares no Initiating Imaging Gateway ([xca_i] \
             initiating_imaging_gateway_url)",
        ));
    };
    let Some(sim) = world.ctx.simulator.clone() else {
        return Err(not_applicable(
            world,
            "no simulator",
            "the harness's simulated Responding Imaging Gateways are not running",
        ));
    };
    let cfg = xcai.initiating_as_xds(world.ctx.config.xds.as_ref());
    match XdsClient::new(&cfg, &world.ctx.config.limits) {
        Ok(c) => Ok((c, sim)),
        Err(err) => Err(harness_error(
            world,
            "no client for the Initiating Imaging Gateway",
            err.to_string(),
        )),
    }
}

/// The RAD-75 endpoint of community `i`'s simulated Responding Imaging Gateway.
fn community_url(sim: &crate::world::Simulator, i: usize) -> String {
    let xca = sim.xca_base.trim_end_matches('/');
    let base = xca
        .strip_suffix(crate::reference::xca::XCA_PATH)
        .unwrap_or(xca);
    let seg = COMMUNITIES.get(i).map_or("community-a", |c| c.1);
    format!(
        "{base}{}/{seg}/{RIG_SEGMENT}",
        crate::reference::xcai::XCAI_PATH
    )
}

#[given("the SUT is an Initiating Imaging Gateway in front of the harness's imaging communities A and B")]
async fn is_gateway(world: &mut HarnessWorld) -> StepResult {
    gateway(world).map(|_| ())
}

/// The RAD-75 requests received since `mark` that name one of `needles`.
fn legs_since(
    sim: &crate::world::Simulator,
    mark: usize,
    needles: &[String],
) -> Vec<crate::evidence::Exchange> {
    let below = format!("{}/community-", crate::reference::xcai::XCAI_PATH);
    (mark..sim.inbox.len())
        .filter_map(|i| sim.inbox.get(i))
        .filter(|ex| ex.transaction == Transaction::Rad75)
        .filter(|ex| ex.request.url.contains(&below))
        .filter(|ex| {
            needles
                .iter()
                .any(|n| memchr::memmem::find(&ex.request.body.kept, n.as_bytes()).is_some())
        })
        .collect()
}

/// An image the consumer asks for: its community, and (study, series, SOP instance) UIDs.
type Image = (String, (String, String, String));

/// A recorded RAD-75 leg, read. The simulated gateway's answer is kept as an excerpt (its images
/// make it large): when the whole MTOM package is not there, its root part, which comes first and
/// holds the RetrieveDocumentSetResponse, is read alone (the images are not judged from it).
fn read_rad75_leg(
    sim: &crate::world::Simulator,
    ex: &crate::evidence::Exchange,
) -> crate::checks::xca_initiating::Leg {
    let mut leg = read_leg(sim, ex);
    if leg.answer.is_some() {
        return leg;
    }
    let Some(resp) = ex.response.as_ref().filter(|r| r.status == 200) else {
        return leg;
    };
    let root = resp
        .header("content-type")
        .and_then(|ct| crate::transport::media_type::MediaType::parse(ct).ok())
        .and_then(|m| m.param("boundary").map(str::to_string))
        .and_then(|b| root_part(&resp.body.kept, &b));
    leg.answer = root
        .and_then(|xml| crate::transport::soap::parse_envelope(xml).ok())
        .and_then(|env| env.body)
        .and_then(|b| e::parse_message(&b).ok());
    leg
}

/// The body of the first part of a multipart package, given its boundary.
fn root_part<'a>(body: &'a [u8], boundary: &str) -> Option<&'a [u8]> {
    let delim = format!("--{boundary}");
    let start = memchr::memmem::find(body, delim.as_bytes())? + delim.len();
    let rest = body.get(start..)?;
    let head_end = memchr::memmem::find(rest, b"\r\n\r\n")? + 4;
    let part = rest.get(head_end..)?;
    let end = memchr::memmem::find(part, format!("\r\n{delim}").as_bytes())?;
    part.get(..end)
}

/// RAD-69 of `(home, study, series, sop)` images through the gateway, recorded with the RAD-75
/// requests it caused.
async fn consumer_retrieve(world: &mut HarnessWorld, images: Vec<Image>) -> StepResult {
    let (c, sim) = gateway(world)?;
    let repo = c.cfg.imaging_source_unique_id.clone();
    let ts = vec![ELE.to_string()];
    let all: Vec<(String, String, String)> = images.iter().map(|(_, t)| t.clone()).collect();
    let mut r = cross_gateway_imaging_request(&all, &repo, None, &ts);
    for d in r
        .studies
        .iter_mut()
        .flat_map(|s| s.series.iter_mut())
        .flat_map(|s| s.documents.iter_mut())
    {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        d.home_community_id = images
            .iter()
            .find(|(_, (_, _, sop))| *sop == uid)
            .map(|(h, _)| h.clone());
    }
    // A request naming a community the gateway does not reach may be a Failure: XCAI-13 judges it.
    let all_known = images
        .iter()
        .all(|(h, _)| COMMUNITIES.iter().any(|c| c.0 == h));
    let mark = sim.inbox.len();
    let ex = match c
        .retrieve_imaging(
            &r,
            "Retrieve Imaging Document Set through the Initiating Imaging Gateway",
        )
        .await
    {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no RAD-69 endpoint of the Initiating Imaging Gateway",
                &err.to_string(),
            ))
        }
    };
    let needles: Vec<String> = all.iter().map(|(_, _, sop)| sop.clone()).collect();
    let legs_ex = legs_since(&sim, mark, &needles);
    let legs = legs_ex.iter().map(|l| read_rad75_leg(&sim, l)).collect();
    let recorded: Vec<usize> = legs_ex
        .into_iter()
        .map(|l| world.evidence.record(l))
        .collect();
    let x = XdsExpect {
        transfer_syntaxes: ts,
        ..XdsExpect::default()
    };
    record_xds(world, ex, x)?;
    world.xds.xca_legs = recorded;
    world.xds.expect.xcai_ig = XcaiIgExpect {
        legs,
        communities: COMMUNITIES
            .iter()
            .enumerate()
            .map(|(i, c)| (c.0.to_string(), community_url(&sim, i)))
            .collect(),
    };
    // An unreadable answer or a SOAP Fault leaves nothing to judge: the gateway's breach, after
    // the checks of what it sent the communities (which may be why they refused).
    if let Some(idx) = world.xds.last.filter(|_| all_known) {
        if answer_problem(world, idx).is_some() {
            judge_xds(world, &["XCAI-09", "XCAI-10"])?;
            return Err(stop_on_answer(
                world,
                idx,
                "XDSI-01",
                "the consolidated answer of the communities",
                String::new(),
            ));
        }
    }
    Ok(())
}

/// The images of series `series` of study `alias`, each named in community `home`.
fn images_in(
    world: &mut HarnessWorld,
    series: i64,
    alias: &str,
    home: &str,
) -> Result<Vec<Image>, StepError> {
    let v = series_of(world, series, alias)?;
    Ok(triples(&v)
        .into_iter()
        .map(|t| (home.to_string(), t))
        .collect())
}

#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} from community A through the imaging gateway"
)]
async fn retrieve_a(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let images = images_in(world, series, &alias, COMMUNITY_A)?;
    consumer_retrieve(world, images).await
}

#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} from community A and series {int} of study {string} from community B through the imaging gateway"
)]
async fn retrieve_a_and_b(
    world: &mut HarnessWorld,
    sa: i64,
    a: String,
    sb: i64,
    b: String,
) -> StepResult {
    let mut images = images_in(world, sa, &a, COMMUNITY_A)?;
    images.extend(images_in(world, sb, &b, COMMUNITY_B)?);
    consumer_retrieve(world, images).await
}

#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} from community A and an image community B does not hold through the imaging gateway"
)]
async fn retrieve_with_missing(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let mut images = images_in(world, series, &alias, COMMUNITY_A)?;
    if let Some((_, (study, se, _))) = images.first().cloned() {
        images.push((
            COMMUNITY_B.to_string(),
            (study, se, UNKNOWN_DOCUMENT.to_string()),
        ));
    }
    consumer_retrieve(world, images).await
}

#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} from an unknown community through the imaging gateway"
)]
async fn retrieve_unknown(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let images = images_in(world, series, &alias, UNKNOWN_HOME_COMMUNITY_ID)?;
    consumer_retrieve(world, images).await
}

#[then("the imaging gateway sent one RAD-75 to each community named, with its images only")]
async fn one_per_community(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-09"])
}

#[then("each RAD-75 keeps the consumer's identifiers and transfer syntaxes")]
async fn kept(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-10"])
}

#[then("the imaging answer is a partial success with the images and community B's error")]
async fn partial(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-12"])
}

#[then("the images of the unknown community are refused with an error")]
async fn unknown_refused(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-13"])
}

#[then("the unknown community is reported as XDSUnknownCommunity")]
async fn unknown_code(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-15"])
}

/// The XDS SOAP rules (SOAP 1.2, wsa:Action equal to the RAD-75 action, wsa:MessageID, MTOM/XOP)
/// on every RAD-75 the gateway sent to the communities.
#[then("the imaging gateway's requests to the communities are conformant XDS messages")]
async fn legs_conformant(world: &mut HarnessWorld) -> StepResult {
    // No request at all is judged by XCAI-09, which the scenarios judge too.
    let legs = world.xds.xca_legs.clone();
    let ids = structural_ids();
    for idx in legs {
        judge(world, idx, &Expect::default(), &[], &ids)?;
    }
    Ok(())
}
