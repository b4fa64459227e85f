use super::*;

const JSON: Option<&str> = Some("application/json");

fn op_id(method: &str, path: &str) -> Option<&'static str> {
    spec().find_operation(method, path).map(|o| o.operation_id)
}

fn check(method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
    spec().validate_response(method, path, status, JSON, body.to_string().as_bytes())
}

fn instance() -> Value {
    json!({
        "object": "instance",
        "id": "ins_2abc",
        "environment_type": "development",
        "allowed_origins": null,
        "workspace_id": null,
    })
}

fn clerk_errors() -> Value {
    json!({
        "errors": [{
            "message": "not found",
            "long_message": "Resource not found",
            "code": "resource_not_found",
        }],
        "clerk_trace_id": "trace",
    })
}

fn api_key() -> Value {
    json!({
        "object": "api_key",
        "id": "ak_3beecc9c60adb5f9b850e91a8ee1e992",
        "type": "api_key",
        "subject": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk",
        "name": "MY_SERVICE_API_KEY",
        "description": null,
        "claims": null,
        "scopes": [],
        "secret": "ak_secret",
        "revoked": false,
        "revocation_reason": null,
        "expired": false,
        "expiration": null,
        "created_by": null,
        "last_used_at": null,
        "created_at": 1716883200000u64,
        "updated_at": 1716883200000u64,
    })
}

#[test]
fn spec_loads_all_operations() {
    let ops = spec().operations();
    assert_eq!(ops.len(), 239);
    assert!(ops.contains(&("GET", "/instance", "GetInstance")));
    assert!(ops.contains(&("POST", "/api_keys", "createApiKey")));
    let mut ids: Vec<&str> = ops.iter().map(|o| o.2).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ops.len(), "operationIds are unique");
}

#[test]
fn the_2026_05_12_spec_has_ten_more_operations_and_the_same_ids() {
    let old = backend_spec("2025-11-10").operations();
    let new = backend_spec("2026-05-12").operations();
    assert_eq!(new.len(), 249);
    assert!(old.iter().all(|o| new.contains(o)), "no operation of 2025-11-10 is missing or renamed in 2026-05-12");
    let added: Vec<&str> = new.iter().filter(|o| !old.contains(o)).map(|o| o.2).collect();
    assert_eq!(added.len(), 10);
    assert!(added.contains(&"RotateSCIMDirectoryAPIKey"));
    // Every compiled response of the newer spec converts too.
    let (_, failures) = backend_spec("2026-05-12").compile_all();
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn lookup_static_segment_wins_over_param() {
    assert_eq!(op_id("GET", "/users/count"), Some("GetUsersCount"));
    assert_eq!(op_id("GET", "/v1/users/count"), Some("GetUsersCount"));
    assert_eq!(op_id("GET", "/v1/users/user_123"), Some("GetUser"));
    assert_eq!(op_id("POST", "/api_keys/verify"), Some("verifyApiKey"));
    assert_eq!(op_id("GET", "/api_keys/ak_123"), Some("getApiKey"));
}

#[test]
fn lookup_with_and_without_v1_and_query() {
    assert_eq!(op_id("GET", "/v1/instance"), Some("GetInstance"));
    assert_eq!(op_id("GET", "/instance"), Some("GetInstance"));
    assert_eq!(op_id("get", "/v1/instance?foo=bar"), Some("GetInstance"));
    assert_eq!(op_id("GET", "/v1/users/count?email_address=a@b.c&limit=1"), Some("GetUsersCount"));
    assert_eq!(op_id("GET", "http://127.0.0.1:3000/v1/instance?x=1"), Some("GetInstance"));
    let op = spec().find_operation("DELETE", "/v1/machines/mch_123/scopes/mch_456").expect("machine scope");
    assert_eq!(
        op,
        OperationRef {
            method: "DELETE",
            path_template: "/machines/{machine_id}/scopes/{other_machine_id}",
            operation_id: "DeleteMachineScope",
        }
    );
}

#[test]
fn lookup_unknown_returns_none() {
    assert_eq!(op_id("GET", "/v1/nope"), None);
    assert_eq!(op_id("GET", "/v1/users/user_1/nope/deeper"), None);
    assert_eq!(op_id("PUT", "/v1/instance"), None, "method must match");
    assert_eq!(op_id("GET", "/v1/users/"), None, "a parameter never matches an empty segment");
    assert_eq!(op_id("GET", "/v2/instance"), None);
    assert!(spec().validate_response("GET", "/v1/nope", 200, JSON, b"{}").is_err());
}

#[test]
fn valid_instance_passes() {
    check("GET", "/v1/instance", 200, &instance()).unwrap();
    let mut with_values = instance();
    with_values["allowed_origins"] = json!(["http://localhost:3000"]);
    with_values["workspace_id"] = json!("org_123");
    check("GET", "/v1/instance", 200, &with_values).unwrap();
}

#[test]
fn missing_required_field_fails_naming_it() {
    let mut body = instance();
    body.as_object_mut().unwrap().remove("environment_type");
    let err = check("GET", "/v1/instance", 200, &body).unwrap_err();
    assert!(err.contains("environment_type"), "{err}");
    assert!(err.contains("GetInstance"), "{err}");
    assert!(err.contains("status 200"), "{err}");
}

#[test]
fn wrong_object_enum_fails() {
    let mut body = instance();
    body["object"] = json!("instances");
    let err = check("GET", "/v1/instance", 200, &body).unwrap_err();
    assert!(err.contains("/object"), "{err}");
}

#[test]
fn nullable_handling() {
    // required + nullable array: null passes, a wrong type fails.
    let mut body = instance();
    body["allowed_origins"] = json!("http://localhost:3000");
    let err = check("GET", "/v1/instance", 200, &body).unwrap_err();
    assert!(err.contains("/allowed_origins"), "{err}");
    let mut body = instance();
    body["workspace_id"] = json!(42);
    let err = check("GET", "/v1/instance", 200, &body).unwrap_err();
    assert!(err.contains("/workspace_id"), "{err}");
    // Non-nullable field: null fails.
    let mut body = instance();
    body["id"] = Value::Null;
    let err = check("GET", "/v1/instance", 200, &body).unwrap_err();
    assert!(err.contains("/id"), "{err}");
}

#[test]
fn nullable_conversion_forms() {
    let cases = [
        // plain type
        (json!({"type": "string", "nullable": true}), json!(null), true),
        (json!({"type": "string", "nullable": true}), json!(1), false),
        // enum: null allowed though not listed
        (json!({"type": "string", "enum": ["a"], "nullable": true}), json!(null), true),
        (json!({"type": "string", "enum": ["a"], "nullable": true}), json!("b"), false),
        // composition
        (json!({"nullable": true, "allOf": [{"type": "object", "required": ["x"]}]}), json!(null), true),
        (json!({"nullable": true, "allOf": [{"type": "object", "required": ["x"]}]}), json!({}), false),
        (json!({"type": "object", "nullable": true, "oneOf": [{"type": "object"}]}), json!(null), true),
        (json!({"type": "object", "nullable": true, "anyOf": [{"required": ["a"]}]}), json!({"b": 1}), false),
        // nullable: false changes nothing
        (json!({"type": "integer", "nullable": false}), json!(null), false),
        // additionalProperties: false is enforced
        (
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}),
            json!({"a": "x", "b": 1}),
            false,
        ),
        // boolean exclusiveMinimum (OpenAPI 3.0)
        (json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true}), json!(1), false),
        (json!({"type": "integer", "minimum": 1, "exclusiveMinimum": true}), json!(2), true),
        // unknown formats do not fail; formats are not validated
        (json!({"type": "integer", "format": "int64"}), json!(5), true),
        (json!({"type": "string", "format": "email"}), json!("not an email"), true),
        // OpenAPI-only keywords are ignored
        (
            json!({"type": "string", "example": 5, "deprecated": true, "x-speakeasy-name-override": "y"}),
            json!("s"),
            true,
        ),
    ];
    for (schema, instance, expected) in cases {
        let converted = convert::schema(&schema).unwrap();
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(false)
            .build(&converted)
            .unwrap();
        assert_eq!(
            validator.is_valid(&instance),
            expected,
            "schema {schema} (converted {converted}), instance {instance}"
        );
    }
    // $ref sibling
    let converted = convert::schema(&json!({"$ref": "#/components/schemas/X", "nullable": true})).unwrap();
    assert_eq!(converted, json!({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}));
    // unknown keyword is an error, not silently ignored
    assert!(convert::schema(&json!({"type": "string", "unevaluatedItems": false})).is_err());
}

#[test]
fn nullable_ref_in_spec() {
    // User.scim is `nullable: true` + allOf [$ref SCIMUserMetadata]; exercise a spec schema whose
    // nullable field is a composition: OrganizationDomain.affiliation_verification.
    let body = json!({
        "object": "organization_domain",
        "id": "orgdmn_1",
        "organization_id": "org_1",
        "name": "example.com",
        "enrollment_mode": "manual_invitation",
        "affiliation_email_address": null,
        "verification": null,
        "affiliation_verification": null,
        "ownership_verification": null,
        "total_pending_invitations": 0,
        "total_pending_suggestions": 0,
        "created_at": 1,
        "updated_at": 1,
    });
    let path = "/v1/organizations/org_1/domains/orgdmn_1";
    assert_eq!(op_id("PATCH", path), Some("UpdateOrganizationDomain"));
    check("PATCH", path, 200, &body).unwrap();
    let mut verified = body.clone();
    verified["affiliation_verification"] =
        json!({"status": "verified", "strategy": "email_code", "attempts": 1, "expire_at": 2});
    // verified_at is required (and nullable): the message must name it inside the nullable wrapper.
    let err = check("PATCH", path, 200, &verified).unwrap_err();
    assert!(err.contains("verified_at"), "{err}");
    assert!(!err.contains(r#"not of type "null""#), "{err}");
    verified["affiliation_verification"]["verified_at"] = Value::Null;
    check("PATCH", path, 200, &verified).unwrap();
    let mut bad = body.clone();
    bad["affiliation_verification"] = json!("nope");
    let err = check("PATCH", path, 200, &bad).unwrap_err();
    assert!(err.contains("/affiliation_verification"), "{err}");
}

#[test]
fn undeclared_status_fails() {
    let err = check("GET", "/v1/instance", 404, &clerk_errors()).unwrap_err();
    assert!(err.contains("404 is not declared"), "{err}");
    assert!(err.contains("GetInstance"), "{err}");
}

#[test]
fn create_api_key_deviation() {
    // 201 is what the server answers; it is validated against the spec's 200 schema.
    check("POST", "/v1/api_keys", 201, &api_key()).unwrap();
    let mut bad = api_key();
    bad.as_object_mut().unwrap().remove("secret");
    let err = check("POST", "/v1/api_keys", 201, &bad).unwrap_err();
    assert!(err.contains("secret") && err.contains("deviation"), "{err}");
    // 200 (the spec's status) is rejected while the deviation is in force.
    let err = check("POST", "/v1/api_keys", 200, &api_key()).unwrap_err();
    assert!(err.contains("DEVIATIONS"), "{err}");
    // Other statuses of the operation are unaffected.
    check("POST", "/v1/api_keys", 409, &clerk_errors()).unwrap();
}

#[test]
fn deviations_refer_to_real_operations_and_statuses() {
    let s = spec();
    // Backend API operations first, then the Frontend API's (their operationIds are camelCase and distinct).
    let specs: Vec<&Spec> = std::iter::once(s).chain(FRONTEND_VERSIONS.iter().map(|v| frontend_spec(v))).collect();
    for d in DEVIATIONS {
        let op = specs
            .iter()
            .find_map(|s| s.operations.iter().find(|o| o.operation_id == d.operation_id))
            .unwrap_or_else(|| panic!("unknown operationId {}", d.operation_id));
        // spec_status is declared, or (an error status the operation does not declare at all) equal to
        // actual_status, validated as the ClerkErrors envelope.
        let undeclared_error = d.actual_status >= 400
            && d.spec_status == d.actual_status
            && !op.responses.iter().any(|r| r.status == d.spec_status.to_string());
        assert!(
            undeclared_error || op.responses.iter().any(|r| r.status == d.spec_status.to_string()),
            "{} does not declare {}",
            d.operation_id,
            d.spec_status
        );
        // A deviation either answers a status the spec does not declare, or gives a body to a status the spec
        // declares without one (validated with the schema of `spec_status`).
        assert!(
            !op.responses
                .iter()
                .any(|r| r.status == d.actual_status.to_string() && !matches!(r.body, DeclaredBody::Empty)),
            "{} already declares {} with a body: the deviation is unnecessary",
            d.operation_id,
            d.actual_status
        );
        assert!(!d.reason.is_empty());
    }
    // createM2MToken needs no deviation: the spec already declares 201.
    let m2m = spec().operations.iter().find(|o| o.operation_id == "createM2MToken").unwrap();
    assert!(m2m.responses.iter().any(|r| r.status == "201"));
}

#[test]
fn no_content_response() {
    let s = spec();
    s.validate_response("PATCH", "/v1/instance", 204, None, b"").unwrap();
    s.validate_response("PATCH", "/v1/instance", 204, JSON, b"").unwrap();
    let err = s.validate_response("PATCH", "/v1/instance", 204, JSON, b"{}").unwrap_err();
    assert!(err.contains("no content"), "{err}");
}

#[test]
fn error_bodies() {
    check("GET", "/v1/users/user_123", 404, &clerk_errors()).unwrap();
    check("PATCH", "/v1/instance", 422, &clerk_errors()).unwrap();
    let mut bad = clerk_errors();
    bad["errors"][0].as_object_mut().unwrap().remove("long_message");
    let err = check("GET", "/v1/users/user_123", 404, &bad).unwrap_err();
    assert!(err.contains("long_message"), "{err}");
    assert!(err.contains("/errors/0"), "{err}");
    assert!(err.contains("GetUser"), "{err}");
}

#[test]
fn content_type_must_be_exactly_application_json() {
    let s = spec();
    let body = instance().to_string();
    let err = s
        .validate_response("GET", "/v1/instance", 200, Some("application/json; charset=utf-8"), body.as_bytes())
        .unwrap_err();
    assert!(err.contains("Content-Type"), "{err}");
    assert!(s.validate_response("GET", "/v1/instance", 200, None, body.as_bytes()).is_err());
    assert!(s.validate_response("GET", "/v1/instance", 200, Some("text/html"), body.as_bytes()).is_err());
}

#[test]
fn body_must_be_json() {
    let s = spec();
    let err = s.validate_response("GET", "/v1/instance", 200, JSON, b"not json").unwrap_err();
    assert!(err.contains("not valid JSON") && err.contains("not json"), "{err}");
    assert!(s.validate_response("GET", "/v1/instance", 200, JSON, b"").is_err());
}

#[test]
fn error_message_truncates_body() {
    let mut body = instance();
    body["id"] = json!(1);
    body["environment_type"] = json!("x".repeat(10_000));
    let err = check("GET", "/v1/instance", 200, &body).unwrap_err();
    assert!(err.len() < 5_000, "message is {} bytes", err.len());
    assert!(err.contains("bytes in total"), "{err}");
}

#[test]
fn range_and_default_keys() {
    let op = Operation {
        method: "GET".into(),
        path_template: "/x".into(),
        operation_id: "X".into(),
        segments: vec![],
        rank: vec![],
        responses: vec![
            DeclaredResponse { status: "200".into(), body: DeclaredBody::Empty },
            DeclaredResponse { status: "4XX".into(), body: DeclaredBody::Json(None) },
            DeclaredResponse { status: "default".into(), body: DeclaredBody::Other(vec![]) },
        ],
    };
    assert_eq!(op.response_for(200).unwrap().status, "200");
    assert_eq!(op.response_for(418).unwrap().status, "4XX");
    assert_eq!(op.response_for(503).unwrap().status, "default");
}

#[test]
fn every_declared_json_response_compiles() {
    let (compiled, failures) = spec().compile_all();
    assert!(compiled > 900, "only {compiled} JSON responses found");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn dangling_ref_is_a_compile_error() {
    let s = spec();
    let schema = json!({"$ref": format!("{BASE_URI}#/components/schemas/DoesNotExist")});
    let result = jsonschema::options().with_draft(Draft::Draft202012).with_registry(&s.registry).build(&schema);
    assert!(result.is_err());
}

#[test]
fn cached_validation_is_fast() {
    let s = spec();
    let body = instance().to_string();
    s.validate_response("GET", "/v1/instance", 200, JSON, body.as_bytes()).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..200 {
        s.validate_response("GET", "/v1/instance", 200, JSON, body.as_bytes()).unwrap();
    }
    let per_call = start.elapsed() / 200;
    assert!(per_call < std::time::Duration::from_millis(5), "{per_call:?} per validation");
}

#[test]
#[ignore = "prints sample messages"]
fn print_sample_messages() {
    let mut body = instance();
    body.as_object_mut().unwrap().remove("environment_type");
    body["allowed_origins"] = json!([1]);
    body["extra"] = json!(true);
    eprintln!("{}\n", check("GET", "/v1/instance", 200, &body).unwrap_err());
    eprintln!("{}\n", check("GET", "/v1/instance", 404, &clerk_errors()).unwrap_err());
    eprintln!("{}\n", check("POST", "/v1/api_keys", 200, &api_key()).unwrap_err());
    let mut bad = api_key();
    bad["id"] = json!("ak_1");
    bad["unknown"] = json!(1);
    eprintln!("{}\n", check("POST", "/v1/api_keys", 201, &bad).unwrap_err());
}

#[test]
fn universal_error_statuses_validate_as_clerk_errors() {
    let body = br#"{"errors":[{"message":"m","long_message":"l","code":"clerk_key_invalid"}],"clerk_trace_id":"x"}"#;
    // GET /instance declares no 401, but an invalid secret key is answered 401 everywhere.
    spec().validate_response("GET", "/v1/instance", 401, Some("application/json"), body).unwrap();
    assert!(spec().validate_response("GET", "/v1/instance", 401, Some("application/json"), b"{}").is_err());
    assert!(spec().validate_response("GET", "/v1/instance", 418, Some("application/json"), body).is_err());
}

#[test]
fn paginated_true_turns_a_bare_array_into_data_and_total_count() {
    let url =
        json!({ "object": "redirect_url", "id": "ru_1", "url": "https://a.example", "created_at": 1, "updated_at": 1 });
    check("GET", "/v1/redirect_urls", 200, &json!([url])).unwrap();
    check("GET", "/v1/redirect_urls?paginated=true", 200, &json!({ "data": [url], "total_count": 1 })).unwrap();
    // Without paginated=true the envelope is wrong, and with it a bare array is wrong.
    assert!(check("GET", "/v1/redirect_urls", 200, &json!({ "data": [url], "total_count": 1 })).is_err());
    assert!(check("GET", "/v1/redirect_urls?paginated=true", 200, &json!([url])).is_err());
    // The items are still validated, and the envelope has exactly its two keys.
    assert!(
        check("GET", "/v1/redirect_urls?paginated=true", 200, &json!({ "data": [{ "id": 1 }], "total_count": 1 }))
            .is_err()
    );
    assert!(
        check("GET", "/v1/redirect_urls?paginated=true", 200, &json!({ "data": [], "total_count": 0, "x": 1 }))
            .is_err()
    );
}

#[test]
fn an_error_deviation_to_an_undeclared_status_needs_the_clerk_errors_envelope() {
    check("GET", "/v1/redirect_urls?limit=0", 400, &clerk_errors()).unwrap();
    assert!(check("GET", "/v1/redirect_urls?limit=0", 400, &json!({ "error": "x" })).is_err());
    assert!(check("GET", "/v1/redirect_urls/ru_1", 400, &clerk_errors()).is_err(), "only for the listed operation");
}

#[test]
fn content_deviations_give_a_body_to_declared_empty_responses() {
    let s = spec();
    // A deviation names an operation of the Backend API spec or of the Frontend API's (the OAuth provider's).
    let specs = [s, crate::frontend_spec("2025-11-10"), crate::frontend_spec("2026-05-12")];
    for d in CONTENT_DEVIATIONS {
        let op = specs
            .iter()
            .flat_map(|s| s.operations.iter())
            .find(|o| o.operation_id == d.operation_id)
            .unwrap_or_else(|| panic!("unknown operationId {}", d.operation_id));
        let declared = op.responses.iter().find(|r| r.status == d.status.to_string());
        assert!(
            declared.is_some_and(|r| matches!(r.body, DeclaredBody::Empty)),
            "{} must declare {} without content for the deviation to be needed",
            d.operation_id,
            d.status
        );
        assert!(!d.reason.is_empty());
    }
    let html = Some("text/html; charset=utf-8");
    let page = b"<!DOCTYPE html><html></html>";
    s.validate_response("GET", "/v1/public/interstitial", 200, html, page).unwrap();
    let err = s.validate_response("GET", "/v1/public/interstitial", 200, JSON, b"{}").unwrap_err();
    assert!(err.contains("text/html"), "{err}");
    check("GET", "/v1/public/interstitial", 400, &clerk_errors()).unwrap();
    let err = check("GET", "/v1/public/interstitial", 400, &json!({ "error": "x" })).unwrap_err();
    assert!(err.contains("content deviation"), "{err}");
    // The undeclared-content 500 stays empty.
    assert!(check("GET", "/v1/public/interstitial", 500, &clerk_errors()).is_err());
}

#[test]
fn field_deviations_admit_only_their_field_in_its_shape() {
    let token = || {
        json!({
            "object": "clerk_idp_oauth_access_token", "id": "oat_0ef5a7a33d87ed87ee7954c845d80450",
            "client_id": "abc", "subject": "user_2xhFjEI5X2qWRvtV13BzSj8H6Dk", "scopes": ["profile"],
            "revoked": false, "revocation_reason": null, "expired": false, "expiration": null,
            "created_at": 1, "updated_at": 1
        })
    };
    let path = "/oauth_applications/access_tokens/verify";
    check("POST", path, 200, &token()).unwrap();
    let mut with_aud = token();
    with_aud["aud"] = json!(["https://mcp.example.com/"]);
    check("POST", path, 200, &with_aud).unwrap();
    for bad in [json!([]), json!("https://mcp.example.com/"), json!([""])] {
        let mut t = token();
        t["aud"] = bad;
        assert!(check("POST", path, 200, &t).is_err(), "{t}");
    }
    let mut other = token();
    other["act"] = json!({"sub": "user_1"});
    assert!(check("POST", path, 200, &other).is_err(), "no deviation for act");
    for d in FIELD_DEVIATIONS {
        assert!(spec().operations.iter().any(|o| o.operation_id == d.operation_id), "{}", d.operation_id);
        assert!(!d.reason.is_empty());
    }
}
