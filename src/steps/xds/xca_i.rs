//! XCA-I with the SUT as Responding Imaging Gateway and the harness as Initiating Imaging Gateway:
//! RAD-75 Cross Gateway Retrieve Imaging Document Set of the test studies' images, which the
//! Imaging Document Sources of the gateway's community hold (test data preloaded there, or loaded
//! into the origin server behind them). The request is the RAD-69 one with HomeCommunityId in
//! every DocumentRequest (`[xca_i]`, the first of `home_community_ids`) and the RAD-75 action.

use super::*;
use crate::actors::xca_i::cross_gateway_imaging_request;
use crate::checks::xcai::XcaiExpect;
use crate::config::xca::UNKNOWN_HOME_COMMUNITY_ID;
use crate::config::xca_i::XcaI;

/// A UID that names no transfer syntax: no source can produce images in it.
const NO_SUCH_SYNTAX: &str = "2.25.329800735698586629295641978511506172918";

/// The SUT's Responding Imaging Gateway, and a client for it; NotApplicable without `[xca_i]`.
fn gateway(world: &mut HarnessWorld) -> Result<(XcaI, XdsClient), StepError> {
    let Some(xcai) = world.ctx.config.xca_i.clone().filter(|x| !x.url.is_empty()) else {
        return Err(not_applicable(
            world,
            "no XCA-I Responding Imaging Gateway",
            "the SUT profile declares no Responding Imaging Gateway ([xca_i] table)",
        ));
    };
    let cfg = xcai.as_xds(world.ctx.config.xds.as_ref());
    match XdsClient::new(&cfg, &world.ctx.config.limits) {
        Ok(c) => Ok((xcai, c)),
        Err(err) => Err(harness_error(
            world,
            "no client for the Responding Imaging Gateway",
            err.to_string(),
        )),
    }
}

/// Which community the DocumentRequests name.
#[derive(Clone, Copy)]
enum Home {
    Gateway,
    Unknown,
    Absent,
}

/// What a RAD-75 request asks, beyond its images.
struct Ask<'a> {
    home: Home,
    repository: Option<&'a str>,
    syntaxes: Vec<String>,
    /// The images asked for that the community holds (None: the harness cannot say).
    returnable: Option<BTreeSet<String>>,
    operation: &'a str,
}

/// Send a RAD-75 for the (study, series, SOP instance) triples and record it with what it is
/// judged against.
async fn rad75(
    world: &mut HarnessWorld,
    triples: &[(String, String, String)],
    ask: Ask<'_>,
) -> StepResult {
    let (xcai, c) = gateway(world)?;
    let repo = ask
        .repository
        .map(str::to_string)
        .unwrap_or_else(|| c.cfg.imaging_source_unique_id.clone());
    let home = match ask.home {
        Home::Gateway => Some(xcai.home().to_string()),
        Home::Unknown => Some(UNKNOWN_HOME_COMMUNITY_ID.to_string()),
        Home::Absent => None,
    };
    let r = cross_gateway_imaging_request(triples, &repo, home.as_deref(), &ask.syntaxes);
    let ex = match c.cross_gateway_retrieve_imaging(&r, ask.operation).await {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no RAD-75 endpoint",
                &err.to_string(),
            ))
        }
    };
    let unproducible = ask.syntaxes.iter().all(|t| t == NO_SUCH_SYNTAX);
    let x = XdsExpect {
        transfer_syntaxes: ask.syntaxes,
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: ask.returnable,
        ..XdsExpect::default()
    };
    record_xds(world, ex, x)?;
    world.xds.expect.xcai = XcaiExpect {
        home_community_ids: xcai.home_community_ids.clone(),
        unknown_repositories: if ask.repository == Some(UNKNOWN_REPOSITORY) {
            vec![UNKNOWN_REPOSITORY.to_string()]
        } else {
            Vec::new()
        },
        unproducible_syntaxes: unproducible,
    };
    Ok(())
}

/// The images of series `number` of study `alias`, as triples, with their stored syntaxes.
pub(super) fn series_of(
    world: &mut HarnessWorld,
    number: i64,
    alias: &str,
) -> Result<Vec<(String, String, String, String)>, StepError> {
    let fx = world.ctx.clone();
    let Some(s) = fx.fixtures.study(alias) else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let insts = s.series_by_number(number);
    if insts.is_empty() {
        return Err(harness_error(
            world,
            "unknown fixture series",
            format!("{alias} {number}"),
        ));
    }
    Ok(insts
        .iter()
        .map(|i| {
            (
                i.study_uid.clone(),
                i.series_uid.clone(),
                i.sop_uid.clone(),
                i.transfer_syntax.clone(),
            )
        })
        .collect())
}

pub(super) fn triples(v: &[(String, String, String, String)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c, _)| (a.clone(), b.clone(), c.clone()))
        .collect()
}

/// Which images a conformant source returns in these syntaxes: the stored syntax, or Explicit VR
/// Little Endian (every test image has an uncompressed form).
fn returnable(v: &[(String, String, String, String)], ts: &[String]) -> BTreeSet<String> {
    v.iter()
        .filter(|(_, _, _, stored)| ts.contains(stored) || ts.iter().any(|t| t == ELE))
        .map(|(_, _, sop, _)| sop.clone())
        .collect()
}

fn parse_ts_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

#[given(
    "the SUT is a Responding Imaging Gateway in front of the Imaging Document Sources of its community"
)]
async fn is_gateway(world: &mut HarnessWorld) -> StepResult {
    gateway(world).map(|_| ())
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of study {string} in transfer syntaxes {string}"
)]
async fn retrieve_series(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    let v = series_of(world, series, &alias)?;
    let ts = parse_ts_list(&ts);
    let ask = Ask {
        home: Home::Gateway,
        repository: None,
        returnable: Some(returnable(&v, &ts)),
        syntaxes: ts,
        operation: "Cross Gateway Retrieve Imaging Document Set (series)",
    };
    rad75(world, &triples(&v), ask).await
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of studies {string} and {string}"
)]
async fn retrieve_two_studies(
    world: &mut HarnessWorld,
    series: i64,
    first: String,
    second: String,
) -> StepResult {
    let mut v = series_of(world, series, &first)?;
    v.extend(series_of(world, series, &second)?);
    let ts = vec![ELE.to_string()];
    let ask = Ask {
        home: Home::Gateway,
        repository: None,
        returnable: Some(returnable(&v, &ts)),
        syntaxes: ts,
        operation: "Cross Gateway Retrieve Imaging Document Set (two studies)",
    };
    rad75(world, &triples(&v), ask).await
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of study {string} and an unknown image"
)]
async fn retrieve_partial(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let v = series_of(world, series, &alias)?;
    let ts = vec![ELE.to_string()];
    let found = returnable(&v, &ts);
    let mut t = triples(&v);
    if let Some((study, se, _)) = t.first().cloned() {
        t.push((study, se, UNKNOWN_DOCUMENT.to_string()));
    }
    let ask = Ask {
        home: Home::Gateway,
        repository: None,
        returnable: Some(found),
        syntaxes: ts,
        operation: "Cross Gateway Retrieve Imaging Document Set (one image unknown)",
    };
    rad75(world, &t, ask).await
}

#[when(expr = "the initiating imaging gateway retrieves an unknown image of study {string}")]
async fn retrieve_unknown_image(world: &mut HarnessWorld, alias: String) -> StepResult {
    let v = series_of(world, 1, &alias)?;
    let t: Vec<(String, String, String)> = triples(&v)
        .into_iter()
        .take(1)
        .map(|(study, se, _)| (study, se, UNKNOWN_DOCUMENT.to_string()))
        .collect();
    let ask = Ask {
        home: Home::Gateway,
        repository: None,
        returnable: Some(BTreeSet::new()),
        syntaxes: vec![ELE.to_string()],
        operation: "Cross Gateway Retrieve Imaging Document Set (unknown image)",
    };
    rad75(world, &t, ask).await
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of study {string} from an unknown imaging source"
)]
async fn retrieve_unknown_source(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
) -> StepResult {
    let v = series_of(world, series, &alias)?;
    let ask = Ask {
        home: Home::Gateway,
        repository: Some(UNKNOWN_REPOSITORY),
        returnable: Some(BTreeSet::new()),
        syntaxes: vec![ELE.to_string()],
        operation: "Cross Gateway Retrieve Imaging Document Set (unknown imaging source)",
    };
    rad75(world, &triples(&v), ask).await
}

async fn retrieve_naming(
    world: &mut HarnessWorld,
    series: i64,
    alias: &str,
    home: Home,
) -> StepResult {
    let v = series_of(world, series, alias)?;
    let ask = Ask {
        home,
        repository: None,
        returnable: Some(BTreeSet::new()),
        syntaxes: vec![ELE.to_string()],
        operation: match home {
            Home::Unknown => "Cross Gateway Retrieve Imaging Document Set (an unknown community)",
            Home::Absent | Home::Gateway => {
                "Cross Gateway Retrieve Imaging Document Set (no community named)"
            }
        },
    };
    rad75(world, &triples(&v), ask).await
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of study {string} naming an unknown community"
)]
async fn retrieve_unknown_community(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
) -> StepResult {
    retrieve_naming(world, series, &alias, Home::Unknown).await
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of study {string} naming no community"
)]
async fn retrieve_no_community(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    retrieve_naming(world, series, &alias, Home::Absent).await
}

#[when(
    expr = "the initiating imaging gateway retrieves series {int} of study {string} in a transfer syntax no source can produce"
)]
async fn retrieve_unproducible(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let v = series_of(world, series, &alias)?;
    let ask = Ask {
        home: Home::Gateway,
        repository: None,
        returnable: Some(BTreeSet::new()),
        syntaxes: vec![NO_SUCH_SYNTAX.to_string()],
        operation: "Cross Gateway Retrieve Imaging Document Set (a transfer syntax no source has)",
    };
    rad75(world, &triples(&v), ask).await
}

/// The images the last retrieved manifest references, at its Retrieve Location UID (RAD69-001),
/// through the gateway of the community the manifest came from.
#[when("the initiating imaging gateway retrieves every image the retrieved manifest references")]
async fn retrieve_manifest_images(world: &mut HarnessWorld) -> StepResult {
    let idx = world.xds.last;
    let Some(bytes) = world.xds.manifest.clone() else {
        return Err(stop_once(
            world,
            "KOS-01",
            idx,
            "the manifest asked for, a DICOM KOS (RAD TF-2 4.68.4.1.2.1)",
            "no KOS manifest was retrieved before this step",
        ));
    };
    let m = match kos::parse(&bytes) {
        Ok(m) => m,
        Err(err) => {
            return Err(stop_once(
                world,
                "KOS-01",
                idx,
                "a KOS manifest that parses as DICOM PS3.10",
                err.to_string(),
            ))
        }
    };
    let mut t = Vec::new();
    let mut repo = None;
    for r in &m.evidence {
        if repo.is_none() {
            repo = r.retrieve_location_uid.clone();
        }
        t.push((
            r.study_uid.clone(),
            r.series_uid.clone(),
            r.sop_instance.clone(),
        ));
    }
    if t.is_empty() {
        return Err(stop_once(
            world,
            "KOS-05",
            idx,
            "a manifest referencing the instances of its study (Current Requested Procedure Evidence Sequence)",
            "the manifest references no instance",
        ));
    }
    let fx = world.ctx.clone();
    let mut ts: Vec<String> = vec![ELE.to_string()];
    for (_, _, sop) in &t {
        if let Some(i) = fx.fixtures.instances.iter().find(|i| &i.sop_uid == sop) {
            if !ts.contains(&i.transfer_syntax) {
                ts.push(i.transfer_syntax.clone());
            }
        }
    }
    let ask = Ask {
        home: Home::Gateway,
        repository: repo.as_deref(),
        returnable: Some(t.iter().map(|x| x.2.clone()).collect()),
        syntaxes: ts,
        operation: "Cross Gateway Retrieve Imaging Document Set (every referenced image)",
    };
    rad75(world, &t, ask).await
}

#[then("the imaging gateway returns exactly the requested images its community holds")]
async fn returns_exactly(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-13", "XDSI-09", "XDSI-10", "XCAI-05"])
}

#[then("the imaging gateway answers with the RAD-75 response action")]
async fn response_action(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["RAD75-02"])
}

#[then("the images found and the images not found are consolidated into one answer")]
async fn consolidated(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-03"])
}

#[then("every error names the imaging gateway's community")]
async fn errors_located(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-04"])
}

#[then("every returned image names the community it was asked in")]
async fn home_echoed(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-05", "ITI39-01"])
}

#[then("each image of the unknown imaging source is reported")]
async fn unknown_source(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-06"])
}

#[then("the missing or unknown community is refused")]
async fn community_refused(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-07"])
}

#[then("no image is returned in a transfer syntax not asked for")]
async fn unproducible(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCAI-08", "XDSI-09"])
}
