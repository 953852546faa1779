//! The console's certificate upload and generation over real HTTP: a PEM and a DER
//! certificate, a PKCS#12 and a PEM key pair uploaded as `multipart/form-data` and a key pair
//! generated, each through the API's own functions (a bad file gets the API's sentence); the
//! CSRF token required as the upload's first field, the size refused before it is read; a
//! viewer sees no forms and is refused, another tenant does not see the uploads.

use as2_api::console::ConsoleConfig;
use as2_domain::user::Role;
use serde_json::Value;

use crate::console::Served;
use crate::upload::{Part, key_and_certificate, multipart, openssl_pkcs12, post_multipart};

/// The upload form's body: the CSRF token first (when given), then `name`, `file`, `password`.
fn upload(csrf: Option<&str>, name: &str, file: &[u8], password: &str) -> (String, Vec<u8>) {
    let mut parts = Vec::new();
    if let Some(csrf) = csrf {
        parts.push(Part {
            name: "csrf_token",
            filename: None,
            content: csrf.as_bytes(),
        });
    }
    parts.push(Part {
        name: "name",
        filename: None,
        content: name.as_bytes(),
    });
    parts.push(Part {
        name: "file",
        filename: Some("upload.bin"),
        content: file,
    });
    parts.push(Part {
        name: "password",
        filename: None,
        content: password.as_bytes(),
    });
    multipart(&parts)
}

async fn certificates(served: &Served) -> Vec<Value> {
    served.api.get("/v1/certificates").await.body["data"]
        .as_array()
        .unwrap()
        .clone()
}

async fn kind_of(served: &Served, name: &str) -> Option<String> {
    certificates(served)
        .await
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["kind"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_admin_uploads_every_kind_and_generates_a_key_pair() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    let (ada, csrf) = served.session("ada@example.com").await;
    let page = served.get("/console/certificates", &ada).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("<label for=\"upload-file\">"));
    assert!(page.body.contains("<label for=\"generate-common_name\">"));

    let (key_pem, cert) = key_and_certificate("CN=partner", 90);
    let (p12, _, _) = openssl_pkcs12("s3cret");
    let cases: [(&str, Vec<u8>, &str, &str); 4] = [
        (
            "PEM certificate",
            cert.to_pem().into_bytes(),
            "",
            "certificate",
        ),
        ("DER certificate", cert.der().to_vec(), "", "certificate"),
        ("PKCS12 pair", p12.clone(), "s3cret", "key_pair"),
        (
            "PEM pair",
            format!("{key_pem}{}", cert.to_pem()).into_bytes(),
            "",
            "key_pair",
        ),
    ];
    for (name, file, password, kind) in &cases {
        let (content_type, body) = upload(Some(csrf.as_str()), name, file, password);
        let answer = served
            .post_multipart("/console/certificates/upload", &ada, &content_type, &body)
            .await;
        assert_eq!(answer.status, 303, "{name}: {}", answer.body);
        assert_eq!(
            kind_of(&served, name).await.as_deref(),
            Some(*kind),
            "{name}"
        );
    }
    let listed = served.get("/console/certificates", &ada).await;
    for (name, ..) in &cases {
        assert!(listed.body.contains(name), "{name}");
    }
    assert!(!listed.body.contains("s3cret"));
    assert!(!listed.body.contains("PRIVATE KEY"));

    // a bad file and a wrong password: the API's sentences beside the file field
    for (file, password) in [(b"not a certificate".to_vec(), ""), (p12, "wrong")] {
        let (content_type, body) = upload(Some(csrf.as_str()), "Bad", &file, password);
        let answer = served
            .post_multipart("/console/certificates/upload", &ada, &content_type, &body)
            .await;
        let api_parts = [
            Part {
                name: "name",
                filename: None,
                content: b"Bad",
            },
            Part {
                name: "file",
                filename: Some("upload.bin"),
                content: &file,
            },
            Part {
                name: "password",
                filename: None,
                content: password.as_bytes(),
            },
        ];
        let api_says = post_multipart(&served.api, "/v1/certificates", &api_parts).await;
        assert_eq!(answer.status, api_says.status.as_u16(), "{}", answer.body);
        let sentence = api_says.body["message"].as_str().unwrap();
        assert!(
            answer.body.contains(sentence),
            "{sentence}: {}",
            answer.body
        );
        assert!(answer.body.contains("id=\"upload-file-error\""));
        assert!(answer.body.contains("value=\"Bad\""), "the name kept");
    }
    // a missing file: the API's field sentence
    let (content_type, body) = multipart(&[
        Part {
            name: "csrf_token",
            filename: None,
            content: csrf.as_bytes(),
        },
        Part {
            name: "name",
            filename: None,
            content: b"No file",
        },
    ]);
    let answer = served
        .post_multipart("/console/certificates/upload", &ada, &content_type, &body)
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert!(answer.body.contains("The file field is required"));
    assert!(kind_of(&served, "Bad").await.is_none());

    // generation through the API's own checks
    let wrong = served
        .post(
            "/console/certificates/generate",
            &ada,
            &[],
            &format!("csrf_token={csrf}&name=Gen&common_name=gen.example&key_type=ec-p256&key_size=4096&days=30"),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(wrong.body.contains("id=\"generate-key_size-error\""));
    assert!(wrong.body.contains("The key size applies to RSA keys only"));
    assert!(wrong.body.contains("value=\"gen.example\""));
    let not_a_number = served
        .post(
            "/console/certificates/generate",
            &ada,
            &[],
            &format!("csrf_token={csrf}&name=Gen&common_name=gen.example&key_type=rsa&days=soon"),
        )
        .await;
    assert_eq!(not_a_number.status, 422);
    assert!(
        not_a_number
            .body
            .contains("The days must be a whole number")
    );
    let generated = served
        .post(
            "/console/certificates/generate",
            &ada,
            &[],
            &format!("csrf_token={csrf}&name=Gen&common_name=gen.example&key_type=ec-p256&key_size=&days=30"),
        )
        .await;
    assert_eq!(generated.status, 303, "{}", generated.body);
    let made = certificates(&served)
        .await
        .into_iter()
        .find(|c| c["name"] == "Gen")
        .unwrap();
    assert_eq!(made["kind"], "key_pair");
    assert_eq!(made["subject"], "CN=gen.example");

    for action in ["certificate.create", "certificate.generate"] {
        let audit = served
            .api
            .get(&format!("/v1/audit-events?action={action}"))
            .await;
        let events = audit.body["data"].as_array().unwrap();
        assert!(
            events
                .iter()
                .any(|e| e["actor"]["label"] == "ada@example.com"),
            "{action}: {:?}",
            audit.body
        );
        assert!(!audit.body.to_string().contains("s3cret"));
    }
}

#[tokio::test]
async fn uploads_need_the_token_first_and_a_role_that_may() {
    let served = Served::start(ConsoleConfig::default()).await;
    served.user("ada@example.com", served.api.tenant, Role::Admin);
    served.user("ops@example.com", served.api.tenant, Role::Operator);
    served.user("vic@example.com", served.api.tenant, Role::Viewer);
    let (foreign, _) = served.api.other_account();
    served.user("eve@example.com", foreign, Role::Owner);
    let (ada, csrf) = served.session("ada@example.com").await;
    let (_, cert) = key_and_certificate("CN=partner", 90);
    let pem = cert.to_pem().into_bytes();

    // no token, a wrong one, the token after the file: refused, nothing stored
    let refusals = [
        upload(None, "Forged", &pem, ""),
        upload(Some("not-the-token"), "Forged", &pem, ""),
        multipart(&[
            Part {
                name: "name",
                filename: None,
                content: b"Forged",
            },
            Part {
                name: "file",
                filename: Some("c.pem"),
                content: &pem,
            },
            Part {
                name: "csrf_token",
                filename: None,
                content: csrf.as_bytes(),
            },
        ]),
    ];
    for (content_type, body) in &refusals {
        let answer = served
            .post_multipart("/console/certificates/upload", &ada, content_type, body)
            .await;
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert!(answer.body.contains("security token"));
    }
    // a body declared over the API's limit is refused before it is read
    let cookie = format!("Cookie: as2_console={ada}");
    let over = format!("Content-Length: {}", 64 * 1024 * 1024 + 1);
    let (content_type, body) = upload(Some(csrf.as_str()), "Huge", &pem, "");
    let answer = served
        .post_raw(
            "/console/certificates/upload",
            &[cookie.as_str(), over.as_str()],
            &content_type,
            &body,
        )
        .await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert!(certificates(&served).await.is_empty());

    // the viewer and the operator: no forms, their forged uploads and generations refused
    for email in ["vic@example.com", "ops@example.com"] {
        let (token, own_csrf) = served.session(email).await;
        let page = served.get("/console/certificates", &token).await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("/console/certificates/upload"),
            "{email}"
        );
        assert!(
            !page.body.contains("/console/certificates/generate"),
            "{email}"
        );
        let (content_type, body) = upload(Some(own_csrf.as_str()), "Forged", &pem, "");
        let answer = served
            .post_multipart("/console/certificates/upload", &token, &content_type, &body)
            .await;
        assert_eq!(answer.status, 403, "{email}: {}", answer.body);
        let generated = served
            .post(
                "/console/certificates/generate",
                &token,
                &[],
                &format!("csrf_token={own_csrf}&name=Forged&common_name=x"),
            )
            .await;
        assert_eq!(generated.status, 403, "{email}");
    }
    assert!(certificates(&served).await.is_empty());

    // ada's upload is not another tenant's, nor the other mode's
    let (content_type, body) = upload(Some(csrf.as_str()), "Ours", &pem, "");
    let answer = served
        .post_multipart("/console/certificates/upload", &ada, &content_type, &body)
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let (eve, _) = served.session("eve@example.com").await;
    assert!(
        !served
            .get("/console/certificates", &eve)
            .await
            .body
            .contains("Ours")
    );
    let switched = served
        .post(
            "/console/switch",
            &ada,
            &[],
            &format!("csrf_token={csrf}&tenant={}&mode=live", served.api.tenant),
        )
        .await;
    assert_eq!(switched.status, 303);
    assert!(
        !served
            .get("/console/certificates", &ada)
            .await
            .body
            .contains("Ours")
    );
}
