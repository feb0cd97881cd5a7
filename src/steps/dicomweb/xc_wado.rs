//! XC-WADO: the harness as the Initiating Imaging Gateway of another community retrieves the
//! test studies through the SUT's Responding Imaging Gateway (RAD-160). After the Given step the
//! WADO-RS retrieve steps address the gateway's service root for the community and Retrieve
//! Location UID of the profile, and are judged as any WADO-RS retrieve, plus XCW-05.

use super::*;
use crate::config::Dicomweb;
use crate::steps::not_applicable;

#[given("the consumer retrieves through the SUT's XC-WADO Responding Imaging Gateway")]
async fn through_gateway(world: &mut HarnessWorld) -> StepResult {
    let Some(x) = world.ctx.config.xc_wado.clone() else {
        return Err(not_applicable(
            world,
            "no XC-WADO gateway",
            "the SUT profile declares no XC-WADO Responding Imaging Gateway ([xc_wado] table)",
        ));
    };
    let endpoint = Dicomweb {
        base_url: x.service_root(),
        auth: crate::config::Auth::None,
        timeouts: x.timeouts,
        tls: x.tls.clone(),
    };
    match DicomwebClient::new(&endpoint, &world.ctx.config.limits) {
        Ok(c) => {
            world.dicomweb.gateway = Some(c);
            Ok(())
        }
        Err(e) => Err(harness_error(
            world,
            "could not build the XC-WADO client",
            e.to_string(),
        )),
    }
}

#[then("the gateway answers the Get Instances with the instances")]
async fn answers_instances(world: &mut HarnessWorld) -> StepResult {
    let Some(idx) = world.dicomweb.last else {
        return Err(harness_error(
            world,
            "no exchange to judge",
            "no request was sent before this step",
        ));
    };
    let expect = world.dicomweb.expect.clone();
    judge_once(world, idx, &expect, &[], &["XCW-05"])
}
