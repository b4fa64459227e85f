//! `GET|PATCH /v1/environment`: the instance's environment, answered bare. clerk-js loads it before anything else
//! (a development browser "touches" it with `POST ?_method=PATCH`); it needs no client, so neither operation reads
//! the browser's dev-browser token or cookie.

use axum::extract::State;
use tessera_api::AppState;
use tessera_api::error::ApiResult;
use tessera_api::json::Json;
use tessera_core::settings::{self, InstanceConfig, InstancePatch};
use tessera_core::{Ctx, Result};

use crate::extract::Fapi;
use crate::objects::environment::{EnvironmentObject, EnvironmentSources};

/// `GET /v1/environment` → `Client.Environment`.
pub async fn get_environment(State(app): State<AppState>, fapi: Fapi) -> ApiResult<Json<EnvironmentObject>> {
    Ok(Json(environment(&app.ctx, &fapi).await?))
}

/// `PATCH /v1/environment` ("Update environment using request origin") → `Client.Environment`. On a development
/// instance the request's `Origin` becomes the primary domain's development origin (the application's home until
/// another origin touches it), as Clerk's development instances learn where their app runs. An origin that is not
/// an `http(s)` origin is not recorded; the touch still answers the environment, since clerk-js cannot load
/// without it.
pub async fn update_environment(State(app): State<AppState>, fapi: Fapi) -> ApiResult<Json<EnvironmentObject>> {
    if fapi.development()
        && let Some(origin) = fapi.origin.as_deref()
    {
        record_development_origin(&app.ctx, &fapi, origin).await?;
    }
    Ok(Json(environment(&app.ctx, &fapi).await?))
}

async fn record_development_origin(ctx: &Ctx, fapi: &Fapi, origin: &str) -> Result<()> {
    let Ok(origin) = settings::validate::origin("origin", origin) else { return Ok(()) };
    if !origin.starts_with("http://") && !origin.starts_with("https://") {
        return Ok(());
    }
    let primary = tessera_core::domains::primary_domain(ctx, &fapi.instance).await?;
    if primary.development_origin == origin {
        return Ok(());
    }
    let patch = InstancePatch { development_origin: Some(Some(origin)), ..InstancePatch::default() };
    settings::update_instance(ctx, &fapi.instance, patch).await
}

/// The environment of the request's instance, from its stored settings.
async fn environment(ctx: &Ctx, fapi: &Fapi) -> Result<EnvironmentObject> {
    let instance = &fapi.instance;
    let config: InstanceConfig = settings::load(ctx, &instance.id, instance.environment).await?;
    let restrictions = settings::restrictions(ctx, &instance.id).await?;
    let sign_up = settings::sign_up_settings(ctx, &instance.id).await?;
    let organizations = settings::organization_settings(ctx, &instance.id).await?;
    let sessions = settings::session_settings(ctx, &instance.id).await?;
    let primary_domain = tessera_core::domains::primary_domain(ctx, instance).await?;
    Ok(EnvironmentObject::new(EnvironmentSources {
        instance,
        base_url: &fapi.base_url,
        config: &config,
        restrictions: &restrictions,
        sign_up: &sign_up,
        organizations: &organizations,
        sessions: &sessions,
        primary_domain: &primary_domain,
    }))
}
